"""Reproducibility: an archived notebook can be fetched and re-run by someone else, giving the
same results, and its folder's RO-Crate describes where it came from.

The demo notebook (``demo/EG078B-amplitude-calibration.ipynb``) is seeded: re-running it must
print exactly the same numbers.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from clihelpers import (
    delete_repo,
    execute,
    experiment_code,
    gitea_raw,
    run_cli,
    text_outputs,
)

from jupyterlab_evn_submit.cli.exitcodes import OK

pytestmark = pytest.mark.stack

DEMO = Path(__file__).resolve().parents[2] / "demo" / "EG078B-amplitude-calibration.ipynb"
ORCID = "0000-0002-1825-0097"


@pytest.fixture(scope="module")
def submitted(logged_in, stack, tmp_path_factory) -> Iterator[dict[str, Any]]:
    """The demo notebook executed headless, then archived with the command line."""
    env = logged_in[0]
    code = experiment_code()
    work = tmp_path_factory.mktemp("repro")
    path = work / DEMO.name
    shutil.copy(DEMO, path)
    nb = execute(nbformat.read(path, as_version=4), work)
    nbformat.write(nb, path)
    r = run_cli(
        env,
        "submit",
        str(path),
        "--experiment",
        code,
        "--author",
        f"Demo Researcher;{ORCID};JIVE",
        "--description",
        "Amplitude calibration and a continuum flux check",
        "--keyword",
        "amplitude calibration",
        "--json",
    )
    assert r.code == OK, r
    yield {"env": env, "code": code, "nb": nb, "answer": r.json(), "work": work}
    delete_repo(stack, code)


def test_a_fetched_copy_reruns_with_the_same_results(submitted, tmp_path):
    answer, original = submitted["answer"], submitted["nb"]
    owner, name = answer["folder"].split("/")
    r = run_cli(submitted["env"], "fetch", submitted["code"], owner, name, "--json", cwd=tmp_path)
    assert r.code == OK, r
    copy_path = Path(r.json()["path"])
    assert copy_path.parent == tmp_path and r.json()["commit"] == answer["commit"]
    copy = nbformat.read(copy_path, as_version=4)
    expected = text_outputs(original)
    assert any("Jy" in text for cell in expected for text in cell)  # the printed flux figures
    assert text_outputs(copy) == expected  # archived with its outputs

    # someone else re-runs the copy headless: the seeded reduction prints the same figures
    for cell in copy.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    rerun = execute(copy, tmp_path)
    assert text_outputs(rerun) == expected
    counts = [c.execution_count for c in rerun.cells if c.cell_type == "code"]
    assert counts == list(range(1, len(counts) + 1))


def test_the_ro_crate_describes_the_provenance(submitted, stack):
    code, answer = submitted["code"], submitted["answer"]
    folder = answer["folder"]
    name = folder.split("/")[1]
    crate_r = gitea_raw(stack, code, f"{folder}/ro-crate-metadata.json")
    assert crate_r.status_code == 200, crate_r.text
    crate = crate_r.json()
    assert crate["@context"] == "https://w3id.org/ro/crate/1.1/context"
    graph = {entity["@id"]: entity for entity in crate["@graph"]}
    assert graph["ro-crate-metadata.json"]["conformsTo"] == {"@id": "https://w3id.org/ro/crate/1.1"}

    root = graph["./"]
    assert root["@type"] == "Dataset"
    assert root["name"].startswith("EG078B")  # the notebook's first heading
    assert root["description"] == "Amplitude calibration and a continuum flux check"
    assert root["keywords"] == ["amplitude calibration"] and root["version"] == "1"
    assert root["license"] == {"@id": "https://spdx.org/licenses/CC-BY-4.0"}
    # who: the author with ORCID and affiliation, the submitter from the token
    assert root["author"] == [{"@id": f"https://orcid.org/{ORCID}"}]
    author = graph[f"https://orcid.org/{ORCID}"]
    assert author["name"] == "Demo Researcher"
    assert graph[author["affiliation"]["@id"]]["name"] == "JIVE"
    submitter = graph[root["publisher"]["@id"]]
    assert (submitter["identifier"], submitter["email"]) == ("demo", "demo@evn-archive.test")
    # what: the experiment, and the notebook exactly as archived
    assert graph[root["about"]["@id"]]["identifier"] == code
    nb_id, prov_id = f"{name}.ipynb", "provenance.json"  # relative to the folder
    assert {part["@id"] for part in root["hasPart"]} == {nb_id, prov_id}
    raw_nb = gitea_raw(stack, code, f"{folder}/{nb_id}")
    assert graph[nb_id]["sha256"] == hashlib.sha256(raw_nb.content).hexdigest()
    assert graph[nb_id]["encodingFormat"] == "application/x-ipynb+json"
    assert graph[prov_id]["about"] == {"@id": nb_id}

    # how: the provenance file the crate points to
    provenance = gitea_raw(stack, code, f"{folder}/{prov_id}").json()
    assert provenance["kernel"]["name"] == "python3"
    assert provenance["kernel"]["language"] == "python"
    assert provenance["execution"]["all_executed"] is True
    assert provenance["execution"]["in_order"] is True
    assert provenance["output_policy"] == "keep" and provenance["stripped_outputs"] == 0
    assert provenance["tool"]["name"] == "jupyterlab-evn-submit"
    packages = {k.lower() for k in provenance["packages"]}
    assert "ipykernel" in packages  # the kernel's environment, probed at submission
