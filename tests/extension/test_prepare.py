"""Notebook preparation: validation, output policy, size limit, provenance."""

from __future__ import annotations

import json
import sys

import nbformat
import pytest
from evnhelpers import make_notebook

from jupyterlab_evn_submit import prepare as prep
from jupyterlab_evn_submit.errors import BadRequest, InvalidNotebook, NotebookTooLarge


def text(nb) -> str:
    return nbformat.writes(nb)


def test_keep_leaves_every_output():
    p = prep.prepare(text(make_notebook(3, 5000)), "keep", 100, 10**9)
    assert p.stripped_outputs == 0
    assert all(c.outputs for c in p.notebook.cells if c.cell_type == "code")
    assert json.loads(p.body) == json.loads(json.dumps(p.notebook))


def test_strip_removes_all_outputs_and_keeps_a_valid_notebook():
    p = prep.prepare(text(make_notebook(3, 5000)), "strip", 100, 10**9)
    assert p.stripped_outputs == 3
    assert all(c.outputs == [] for c in p.notebook.cells if c.cell_type == "code")
    nbformat.validate(nbformat.reads(p.body.decode(), as_version=4))
    assert p.size < p.original_size


def test_strip_large_only_replaces_outputs_over_the_budget():
    nb = make_notebook(2, 10)
    nb.cells[2].outputs = [nbformat.v4.new_output("stream", name="stdout", text="y" * 50_000)]
    p = prep.prepare(text(nb), "strip-large", 10_000, 10**9)
    assert p.stripped_outputs == 1
    assert "x" * 10 in p.notebook.cells[1].outputs[0].text  # small one kept
    note = p.notebook.cells[2].outputs[0].text
    assert "was removed before archiving" in note and "y" * 100 not in note
    nbformat.validate(nbformat.reads(p.body.decode(), as_version=4))


def test_size_limit_is_enforced_on_the_prepared_notebook():
    big = text(make_notebook(3, 100_000))
    with pytest.raises(NotebookTooLarge) as e:
        prep.prepare(big, "keep", 1000, 200_000)
    assert e.value.status == 413 and "strip" in e.value.message
    assert prep.prepare(big, "strip", 1000, 200_000).size < 200_000


@pytest.mark.parametrize("bad", ["not json", '{"cells": 3}', json.dumps({"nbformat": 4})])
def test_invalid_notebooks_are_refused(bad):
    with pytest.raises(InvalidNotebook) as e:
        prep.prepare(bad, "keep", 1000, 10**9)
    assert e.value.status == 422


def test_schema_violation_is_refused():
    nb = json.loads(text(make_notebook()))
    nb["cells"][1]["outputs"][0]["output_type"] = "nonsense"
    with pytest.raises(InvalidNotebook):
        prep.prepare(json.dumps(nb), "keep", 1000, 10**9)


def test_unknown_policy_is_a_bad_request():
    with pytest.raises(BadRequest):
        prep.prepare(text(make_notebook()), "compress", 1000, 10**9)


def test_execution_order():
    assert prep.execution_summary(make_notebook(3))["in_order"] is True
    nb = make_notebook(3)
    nb.cells[1].execution_count, nb.cells[2].execution_count = 2, 1
    summary = prep.execution_summary(nb)
    assert summary["in_order"] is False and summary["increasing"] is False
    unrun = prep.execution_summary(make_notebook(2, executed=False))
    assert unrun["all_executed"] is False and unrun["in_order"] is False


def test_provenance_names_kernel_versions_and_packages_of_a_real_python():
    env = prep.probe_python(sys.executable)
    assert env is not None
    assert env["python"] == sys.version.split()[0]
    assert env["packages"]["nbformat"] == nbformat.__version__
    assert env["casa"] is None  # no CASA in this environment
    nb = make_notebook()
    p = prep.provenance(
        nb, environment=env, tool_version="1.2.3", output_policy="strip", stripped_outputs=3
    )
    assert p["kernel"]["name"] == "python3" and p["kernel"]["language"] == "python"
    assert p["kernel"]["language_version"] == "3.11.7"
    assert p["nbformat"] == f"4.{nb.nbformat_minor}"
    assert p["execution"]["in_order"] is True
    assert p["output_policy"] == "strip" and p["stripped_outputs"] == 3
    assert p["tool"] == {"name": "jupyterlab-evn-submit", "version": "1.2.3"}


def test_casa_version_is_reported_when_casatools_is_importable(tmp_path):
    fake_site = tmp_path / "site"
    (fake_site / "casatools").mkdir(parents=True)
    (fake_site / "casatools" / "__init__.py").write_text(
        "def version_string():\n    return '6.6.5.31'\n"
    )
    launcher = tmp_path / "python-with-casa"
    launcher.write_text(f'#!/bin/sh\nPYTHONPATH={fake_site} exec {sys.executable} "$@"\n')
    launcher.chmod(0o755)
    env = prep.probe_python(str(launcher))
    assert env is not None
    assert env["casa"] == {"version": "6.6.5.31", "version_from": "casatools"}


def test_kernel_python_of_an_ipykernel_spec():
    argv = ["python3", "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    assert prep.kernel_python(argv) == sys.executable
    assert (
        prep.kernel_python(["/opt/casa/bin/python3", "-m", "ipykernel"]) == "/opt/casa/bin/python3"
    )
    assert prep.kernel_python(["R", "--slave"]) is None


def test_serialize_is_the_same_json_as_a_single_dump():
    nb = make_notebook(4, 100)
    nb.cells[1].source = "print('ünïcode ✓')"
    assert json.loads(prep.serialize(nb)) == json.loads(json.dumps(nb))
    empty = nbformat.v4.new_notebook()
    assert json.loads(prep.serialize(empty)) == json.loads(json.dumps(empty))
