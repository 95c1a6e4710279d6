"""Notebook preparation: nbformat validation, the output policy, the size limit, provenance.

Pure functions of the notebook (plus one cached subprocess that asks a kernel's Python for its
packages). They block for as long as the notebook is big: async callers run them in a thread. The
notebook's JSON is read and written a piece at a time (``notebookjson``), so that thread lets go of
the GIL often and the server's event loop keeps answering.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import nbformat
from nbformat import NotebookNode

from . import notebookjson
from .config import OUTPUT_POLICIES
from .errors import BadRequest, InvalidNotebook, NotebookTooLarge

log = logging.getLogger(__name__)


@dataclass
class PreparedNotebook:
    notebook: NotebookNode
    body: bytes  # the notebook as sent: compact UTF-8 JSON
    original_size: int
    stripped_outputs: int

    @property
    def size(self) -> int:
        return len(self.body)


def parse_notebook(text: str | bytes) -> NotebookNode:
    """Read and validate a notebook (any nbformat 4 minor version)."""
    try:
        nb = nbformat.reads(text, as_version=4, cls=notebookjson.NotebookDecoder)
    except Exception as e:  # nbformat raises several unrelated types for bad input
        raise InvalidNotebook(f"The file is not a Jupyter notebook ({_short(e)}).") from e
    return validate_notebook(nb)


def notebook_from_value(value: Any) -> NotebookNode:
    """``parse_notebook(json.dumps(value))`` for a notebook already parsed from JSON (e.g. in an
    answer of the service), without writing and reading it again; anything it cannot take goes
    that long way, so the errors are those of ``parse_notebook``."""
    try:
        if not isinstance(value, dict):
            raise TypeError
        major, minor = nbformat.reader.get_version(value)
        nb = nbformat.convert(nbformat.versions[major].to_notebook_json(value, minor=minor), 4)
        nbformat.validate(nb)
    except Exception:  # the long way says what is wrong, in its own words
        return parse_notebook(b"".join(_json_pieces(value, notebookjson.NOTEBOOK)))
    return nb


def _json_pieces(value: Any, plan: notebookjson.Plan) -> Iterator[bytes]:
    for piece in notebookjson.pieces(value, plan, json.dumps):
        yield piece.encode("utf-8")


def validate_notebook(nb: NotebookNode) -> NotebookNode:
    try:
        nbformat.validate(nb)
    except nbformat.ValidationError as e:
        raise InvalidNotebook(
            f"The notebook does not follow the notebook format: {_short(e.message)}. "
            "Open it in JupyterLab, save it, and submit again."
        ) from e
    return nb


def _short(e: object, limit: int = 200) -> str:
    text = str(e).splitlines()[0] if str(e) else type(e).__name__
    return text if len(text) <= limit else text[:limit] + "…"


def check_policy(policy: str, budget: int | None) -> None:
    if policy not in OUTPUT_POLICIES:
        raise BadRequest(
            f"Unknown output policy {policy!r}; use one of {', '.join(OUTPUT_POLICIES)}."
        )
    if budget is not None and budget < 0:
        raise BadRequest("The output budget must not be negative.")


def _ascii_compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def output_size(output: dict[str, Any]) -> int:
    """``len(json.dumps(output, separators=(",", ":")))``, one MIME type at a time."""
    plan = notebookjson.CELL["outputs"]["*"]
    return sum(len(piece) for piece in notebookjson.pieces(output, plan, _ascii_compact))


def apply_output_policy(nb: NotebookNode, policy: str, budget: int) -> int:
    """Apply the policy in place; returns how many outputs were removed.

    ``keep`` leaves outputs; ``strip`` removes all outputs; ``strip-large`` replaces each output
    larger than ``budget`` bytes (as JSON) by a one-line note, so readers see something was there.
    Execution counts stay: they are provenance. The result is still a valid notebook.
    """
    check_policy(policy, budget)
    removed = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if policy == "strip":
            removed += len(cell.outputs)
            cell.outputs = []
        elif policy == "strip-large":
            kept = []
            for output in cell.outputs:
                size = output_size(output)
                if size > budget:
                    removed += 1
                    kept.append(
                        nbformat.v4.new_output(
                            "stream",
                            name="stdout",
                            text=f"[EVN archive: an output of {size} bytes was removed "
                            "before archiving]\n",
                        )
                    )
                else:
                    kept.append(output)
            cell.outputs = kept
    return removed


def serialize(nb: NotebookNode) -> bytes:
    """Compact UTF-8 JSON, the cells first, encoded a piece at a time: the C encoder holds the
    GIL for the whole of one call (0.4 s for a 50 MB notebook, 0.1 s for one cell of 1 MB of
    plotted numbers), which would stall the server's event loop; per output and MIME type it
    lets go in between."""
    rest = notebookjson.dumps_utf8(
        {key: value for key, value in nb.items() if key != "cells"}, notebookjson.NOTEBOOK
    )
    cells = b",".join(notebookjson.dumps_utf8(cell, notebookjson.CELL) for cell in nb.cells)
    return (
        b'{"cells":[' + cells + b"]," + rest[1:] if rest != b"{}" else b'{"cells":[' + cells + b"]}"
    )


def prepare(
    text: str | bytes, policy: str, budget: int, limit: int, *, enforce_limit: bool = True
) -> PreparedNotebook:
    """Parse, validate, apply the policy and check the size limit (before any network call).
    A caller that passes its only reference to ``text`` lets it go once it is parsed."""
    original_size = notebookjson.utf8_size(text)
    check_policy(policy, budget)
    nb = parse_notebook(text)
    del text
    removed = apply_output_policy(nb, policy, budget)
    validate_notebook(nb)
    body = serialize(nb)
    if enforce_limit and len(body) > limit:
        raise NotebookTooLarge(len(body), limit)
    return PreparedNotebook(nb, body, original_size, removed)


# --- provenance -----------------------------------------------------------------------------


def execution_summary(nb: NotebookNode) -> dict[str, Any]:
    """Whether the code cells ran top to bottom: every non-empty code cell has an execution
    count, the counts increase down the notebook, and they run 1, 2, 3, … without gaps."""
    counts: list[int | None] = [
        cell.get("execution_count")
        for cell in nb.cells
        if cell.cell_type == "code" and str(cell.source).strip()
    ]
    executed = [c for c in counts if c is not None]
    increasing = all(a < b for a, b in itertools.pairwise(executed))
    return {
        "code_cells": len(counts),
        "executed_cells": len(executed),
        "all_executed": len(executed) == len(counts),
        "increasing": increasing,
        "in_order": bool(counts)
        and len(executed) == len(counts)
        and executed == list(range(1, len(executed) + 1)),
    }


# Run in the kernel's own Python (``python -c``): its packages and, when CASA is importable there,
# the CASA version and data release — only what the installed CASA itself reports. casatools'
# import prints to stdout and, unless sys.argv[0] is "-m" (as for ``python -m casatools``), may
# create folders and download measures data: the probe poses as "-m", runs in a scratch folder
# (casatasks writes a casa-*.log into the working directory) and marks its one line of JSON.
_PROBE_MARK = "EVN-PROBE:"
_PROBE = r"""
import importlib.metadata as md, importlib.util, json, sys
sys.argv[0] = "-m"
pkgs = {}
for d in md.distributions():
    name = d.metadata.get("Name")
    if name:
        pkgs[name] = d.version
casa = {}
found = {k: v for k, v in pkgs.items() if k.lower().startswith("casa")}
if found:
    casa["packages"] = found
def version_of(module):
    fn = getattr(module, "version_string", None)
    return fn() if callable(fn) else getattr(module, "__version__", None)
data = {}
for name in ("casatools", "casatasks"):
    try:
        if importlib.util.find_spec(name) is None:
            continue
        module = __import__(name)
        version = version_of(module)
    except Exception:
        continue
    if version and "version" not in casa:
        casa["version"] = str(version)
        casa["version_from"] = name
    rundata = getattr(getattr(module, "ctsys", None), "rundata", None)
    if callable(rundata) and "rundata" not in data:
        try:
            data["rundata"] = str(rundata()) or None
        except Exception:
            pass
    if "version" in casa:
        break
for name in ("casadata", "casarundata"):
    if name in pkgs:
        data[name] = pkgs[name]
try:
    if importlib.util.find_spec("casaconfig") is not None:
        import casaconfig
        if callable(getattr(casaconfig, "get_data_info", None)):
            data["info"] = json.loads(json.dumps(casaconfig.get_data_info(), default=str))
except Exception:
    pass
data = {k: v for k, v in data.items() if v}
if data:
    casa["data"] = data
print()
print(MARK + json.dumps({"python": sys.version.split()[0], "packages": pkgs, "casa": casa or None}))
""".replace("MARK", repr(_PROBE_MARK))

_probe_cache: dict[str, tuple[float, dict[str, Any]]] = {}
_probe_lock = threading.Lock()
PROBE_TTL = 300.0


def probe_python(executable: str, timeout: float = 30.0) -> dict[str, Any] | None:
    """Python version, installed packages and CASA version + data of a kernel's Python (cached).

    ``casa`` is None without CASA, else what is available of: ``version`` (casatools' or
    casatasks' ``version_string()`` or ``__version__``), ``packages`` (the casa* distributions),
    ``data`` (``rundata``: casatools' ``ctsys.rundata()``; the casadata distribution's version;
    ``info``: casaconfig's ``get_data_info()``).
    """
    path = shutil.which(executable) or executable
    with _probe_lock:
        hit = _probe_cache.get(path)
        if hit and time.monotonic() - hit[0] < PROBE_TTL:
            return hit[1]
    try:
        with tempfile.TemporaryDirectory(prefix="evn-probe-") as scratch:
            out = subprocess.run(
                [path, "-c", _PROBE],
                capture_output=True,
                timeout=timeout,
                check=True,
                text=True,
                cwd=scratch,
                stdin=subprocess.DEVNULL,
            )
        lines = [line for line in out.stdout.splitlines() if line.startswith(_PROBE_MARK)]
        if not lines:
            raise ValueError("the probe printed no result")
        info: dict[str, Any] = json.loads(lines[-1][len(_PROBE_MARK) :])
    except (OSError, subprocess.SubprocessError, ValueError) as e:
        log.info("EVN archive: could not list the packages of %s: %s", path, _short(e))
        return None
    with _probe_lock:
        _probe_cache[path] = (time.monotonic(), info)
    return info


_PYTHON_NAME = re.compile(r"python(\d+(\.\d+)?)?[dmu]*(\.exe)?", re.IGNORECASE)


def kernel_python(argv: list[str]) -> str | None:
    """The Python executable of a kernel spec whose kernel is Python code: an ipykernel kernel
    (any launcher that names ipykernel), or a Python started with ``-m <module>``, as the
    jupyter-casa image's CASA kernel (``python -m start_casa -f {connection_file}``). A bare
    ``python``/``python3`` is this server's Python, as jupyter_client starts it."""
    if not argv or not argv[0]:
        return None
    interpreter = argv[0]
    is_python = bool(_PYTHON_NAME.fullmatch(os.path.basename(interpreter)))
    runs_module = "-m" in argv[1:] and argv.index("-m", 1) < len(argv) - 1
    if "ipykernel" in " ".join(argv) or (is_python and runs_module):
        if interpreter in (
            "python",
            "python3",
            f"python{sys.version_info[0]}.{sys.version_info[1]}",
        ):
            return sys.executable
        return interpreter
    return None


def provenance(
    nb: NotebookNode,
    *,
    environment: dict[str, Any] | None,
    tool_version: str,
    output_policy: str,
    stripped_outputs: int,
) -> dict[str, Any]:
    meta = nb.metadata
    kernelspec = dict(meta.get("kernelspec") or {})
    language = dict(meta.get("language_info") or {})
    env = environment or {}
    return {
        "kernel": {
            "name": kernelspec.get("name"),
            "display_name": kernelspec.get("display_name"),
            "language": language.get("name") or kernelspec.get("language"),
            "language_version": language.get("version") or env.get("python"),
        },
        "nbformat": f"{nb.nbformat}.{nb.nbformat_minor}",
        "packages": env.get("packages"),
        "casa": env.get("casa"),
        "execution": execution_summary(nb),
        "output_policy": output_policy,
        "stripped_outputs": stripped_outputs,
        "tool": {"name": "jupyterlab-evn-submit", "version": tool_version},
        # no timestamp: a retried click must send the very same body as the first one, or the
        # service (rightly) refuses the reused idempotency key; the commit carries the date
    }
