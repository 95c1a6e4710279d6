"""CASA provenance: a notebook run in the jupyter-casa image's CASA kernel names its CASA.

That kernel's spec is ``["/opt/conda/bin/python", "-m", "start_casa", "-f", "{connection_file}"]``.
Here a real Python (a fresh virtual environment) has stand-ins installed in its own site-packages:
a ``start_casa`` launcher that preloads CASA and starts an IPython kernel, as the image's does, and
``casatools`` / ``casatasks`` / ``casadata`` distributions that report versions the way CASA 6.7's
do. The kernel really runs a notebook; provenance is then built as the extension and the command
line build it (kernel spec → ``kernel_python`` → ``probe_python`` → ``provenance``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient

from jupyterlab_evn_submit import prepare as prep

CASA = "6.7.0.31"

CASATOOLS = f'''
import os, sys
print("Using /home/jupyter/.casa/config.py")  # the real casatools prints this on stdout too
if sys.argv[0] != "-m":  # the real one may download measures data here: a probe must not
    open(os.environ.get("CASA_STANDIN_DOWNLOADS", os.devnull), "a").write("downloaded\\n")

class _Utils:
    def rundata(self):
        return {{rundata!r}}

ctsys = _Utils()

def version():
    return [6, 7, 0, 31]

def version_string():
    return "{CASA}"
'''

START_CASA = """
import casatasks, casatools  # the image's launcher preloads CASA into the kernel
from ipykernel.kernelapp import launch_new_instance
launch_new_instance()
"""


def _distribution(site: Path, name: str, version: str) -> None:
    info = site / f"{name}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")


def casa_python(root: Path, *, casatools: bool = True) -> Path:
    """A real Python whose site-packages hold the stand-ins (and, through a .pth file, this
    environment's packages, for ipykernel)."""
    venv = root / "casa-env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    (site / "this-env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    rundata = str(root / "casa-data")
    if casatools:
        (site / "casatools").mkdir()
        (site / "casatools" / "__init__.py").write_text(
            CASATOOLS.replace("{rundata!r}", repr(rundata))
        )
        _distribution(site, "casatools", CASA)
    (site / "casatasks").mkdir()
    (site / "casatasks" / "__init__.py").write_text(f'__version__ = "{CASA}"\n')
    _distribution(site, "casatasks", CASA)
    _distribution(site, "casadata", "2025.2.10")
    (site / "start_casa.py").write_text(START_CASA if casatools else "")
    return python


def casa_kernelspec(kernels: Path, python: Path) -> None:
    """The jupyter-casa image's kernel spec, with this test's Python."""
    (kernels / "casa").mkdir(parents=True)
    spec = {
        "argv": [str(python), "-m", "start_casa", "-f", "{connection_file}"],
        "display_name": "CASA 6.7",
        "language": "python",
    }
    (kernels / "casa" / "kernel.json").write_text(json.dumps(spec))


def test_a_casa_kernel_notebook_names_its_casa_version_data_and_packages(tmp_path, monkeypatch):
    downloads = tmp_path / "downloads"
    monkeypatch.setenv("CASA_STANDIN_DOWNLOADS", str(downloads))
    python = casa_python(tmp_path)
    casa_kernelspec(tmp_path / "kernels", python)

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "casa", "display_name": "CASA 6.7", "language": "python"}
    nb.cells.append(nbformat.v4.new_code_cell("import casatools\ncasatools.version_string()"))
    ksm = KernelSpecManager(kernel_dirs=[str(tmp_path / "kernels")])
    km = AsyncKernelManager(kernel_name="casa", kernel_spec_manager=ksm)
    NotebookClient(nb, km=km, timeout=60).execute()
    assert nb.cells[0].outputs[0]["data"]["text/plain"] == f"'{CASA}'"  # the kernel ran CASA
    assert downloads.exists()  # the kernel's CASA started as CASA does, side effects included
    downloads.unlink()

    spec = ksm.get_kernel_spec(nb.metadata.kernelspec.name)
    kernel_python = prep.kernel_python(list(spec.argv))
    assert kernel_python == str(python)
    env = prep.probe_python(kernel_python)
    assert env is not None
    p = prep.provenance(
        nb, environment=env, tool_version="1.2.3", output_policy="keep", stripped_outputs=0
    )
    assert p["casa"] == {
        "version": CASA,
        "version_from": "casatools",
        "packages": {"casatools": CASA, "casatasks": CASA, "casadata": "2025.2.10"},
        "data": {"rundata": str(tmp_path / "casa-data"), "casadata": "2025.2.10"},
    }
    assert p["packages"]["casatools"] == CASA and p["packages"]["ipykernel"]  # the kernel's own
    assert p["kernel"]["name"] == "casa" and p["kernel"]["display_name"] == "CASA 6.7"
    assert p["kernel"]["language_version"] == env["python"]
    assert not downloads.exists()  # the probe imported casatools without its start-up side effects


def test_casatasks_version_when_casatools_is_not_importable(tmp_path):
    python = casa_python(tmp_path, casatools=False)
    env = prep.probe_python(str(python))
    assert env is not None
    assert env["casa"]["version"] == CASA and env["casa"]["version_from"] == "casatasks"
    assert env["casa"]["data"] == {"casadata": "2025.2.10"}  # no ctsys: nothing invented


@pytest.mark.parametrize(
    ("argv", "python"),
    [
        (
            ["/opt/conda/bin/python", "-m", "start_casa", "-f", "{connection_file}"],
            "/opt/conda/bin/python",
        ),
        (
            ["/opt/casa/bin/python3.10", "-m", "casashell", "-f", "{connection_file}"],
            "/opt/casa/bin/python3.10",
        ),
        (["python3", "-m", "ipykernel_launcher", "-f", "{connection_file}"], sys.executable),
        (["/usr/bin/R", "--slave", "-m", "IRkernel"], None),  # -m, but not a Python
        (["/opt/conda/bin/python", "-m"], None),  # no module
        (["/opt/conda/bin/python", "/opt/start.py"], None),  # not a module launcher
        ([], None),
    ],
)
def test_kernel_python_recognises_module_launchers_of_a_python(argv, python):
    assert prep.kernel_python(argv) == python
