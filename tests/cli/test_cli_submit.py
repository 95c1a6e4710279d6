"""``submit`` / ``list`` / ``fetch`` as a pipeline runs them, against the real service and Gitea."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from clihelpers import (
    closed_port,
    delete_repo,
    execute,
    experiment_code,
    folder_commits,
    gitea_get,
    gitea_raw,
    run_cli,
    small_notebook,
    text_outputs,
)

from jupyterlab_evn_submit.cli.exitcodes import INVALID, NOT_LOGGED_IN, OK, REJECTED, UNAVAILABLE

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def code(stack) -> Iterator[str]:
    """A fresh experiment for this module; its repository is deleted afterwards (the shared
    stack's organisation stays small)."""
    code = experiment_code()
    yield code
    delete_repo(stack, code)


@pytest.fixture(scope="module")
def archived(logged_in, code, tmp_path_factory) -> dict[str, Any]:
    """A notebook executed headless, then submitted by the command (the pipeline's two steps)."""
    env = logged_in[0]
    work = tmp_path_factory.mktemp("pipeline")
    marker = uuid.uuid4().hex[:8]
    nb = execute(small_notebook(marker), work)
    path = work / f"fringe-{marker}.ipynb"
    path.write_text(nbformat.writes(nb))
    args = ["submit", str(path), "--experiment", code, "--keyword", "fringe", "--json"]
    args += ["--author", "Demo Researcher;0000-0002-1825-0097;JIVE", "-m", "first reduction"]
    first = run_cli(env, *args, cwd=work)
    return {"env": env, "path": path, "args": args, "first": first, "marker": marker, "nb": nb}


def test_pipeline_submission_is_one_commit_in_gitea(archived, code, stack):
    r = archived["first"]
    assert r.code == OK, r
    answer = r.json()
    name = archived["path"].stem
    assert answer["created"] is True and answer["version"] == 1
    assert answer["experiment"] == code and answer["folder"] == f"demo/{name}"
    assert answer["permalink"].startswith(stack["EVN_GITEA_URL"] + f"/EVN/{code}/src/commit/")
    assert answer["commit"] in answer["permalink"]
    # the commit is in Gitea, authored by the researcher from the token
    commit = gitea_get(stack, f"/repos/EVN/{code}/git/commits/{answer['commit']}")
    assert commit.status_code == 200, commit.text
    assert commit.json()["commit"]["author"]["email"] == "demo@evn-archive.test"
    assert "first reduction" in commit.json()["commit"]["message"]
    # what is archived is the executed notebook, outputs included
    raw = gitea_raw(stack, code, f"demo/{name}/{name}.ipynb")
    assert raw.status_code == 200
    stored = nbformat.reads(raw.text, as_version=4)
    assert text_outputs(stored) == text_outputs(archived["nb"])
    assert archived["marker"] in json.dumps(text_outputs(stored))
    crate = gitea_raw(stack, code, f"demo/{name}/ro-crate-metadata.json").json()
    root = next(e for e in crate["@graph"] if e["@id"] == "./")
    assert root["name"] == f"Fringe check {archived['marker']}"  # the notebook's first heading
    assert root["keywords"] == ["fringe"] and root["license"]["@id"].endswith("/CC-BY-4.0")


def test_human_output_prints_the_permalink(archived, code):
    args = [a for a in archived["args"] if a != "--json"]
    r = run_cli(archived["env"], *args)
    assert r.code == OK, r
    assert "Already archived (nothing new committed)" in r.out
    assert archived["first"].json()["permalink"] in r.out


def test_rerun_makes_no_second_commit(archived, code, stack):
    first = archived["first"].json()
    folder = first["folder"]
    before = folder_commits(stack, code, folder)
    again = run_cli(archived["env"], *archived["args"])
    assert again.code == OK, again
    doc = again.json()
    assert doc["created"] is False
    assert (doc["commit"], doc["version"], doc["idempotency_key"]) == (
        first["commit"],
        1,
        first["idempotency_key"],
    )
    assert len(folder_commits(stack, code, folder)) == len(before) == 1


def test_without_the_journal_a_rerun_still_makes_no_second_commit(archived, code, stack):
    """On another machine (no journal entry) with the same environment the request is the same
    (the provenance has no timestamp): still a replay. Were the packages different, the archive
    would refuse the reused key (exit 6) rather than commit the same notebook twice."""
    journal = Path(archived["env"]["EVN_TOKEN_STORE"]).parent / "cli-submissions"
    moved = journal.with_name("cli-submissions-away")
    journal.rename(moved)
    try:
        r = run_cli(archived["env"], *archived["args"])
    finally:
        shutil.rmtree(journal, ignore_errors=True)
        moved.rename(journal)
    assert r.code in (OK, REJECTED), r
    if r.code == OK:
        assert r.json()["created"] is False
    else:
        assert "already used" in r.json()["message"]
    assert len(folder_commits(stack, code, archived["first"].json()["folder"])) == 1


def test_changed_metadata_is_a_new_version(archived, code, stack, tmp_path):
    """The derived key covers the metadata: a new title is a new submission, not a replay."""
    args = [*archived["args"], "--title", "Fringe check, second look"]
    r = run_cli(archived["env"], *args)
    assert r.code == OK, r
    assert r.json()["created"] is True and r.json()["version"] == 2
    assert r.json()["idempotency_key"] != archived["first"].json()["idempotency_key"]
    assert len(folder_commits(stack, code, r.json()["folder"])) == 2


def test_list_shows_the_submission(archived, code):
    name = archived["path"].stem
    mine = run_cli(archived["env"], "list", "--json")  # from the archive's index: no waiting
    assert mine.code == OK, mine
    rows = [(s["experiment"], s["owner"], s["name"]) for s in mine.json()["submissions"]]
    assert (code, "demo", name) in rows
    public = run_cli(archived["env"], "list", "--experiment", code)
    assert public.code == OK and f"demo/{name}" in public.out
    ours = next(n for n in mine.json()["submissions"] if n["experiment"] == code)
    assert f"demo/{name}  v{ours['version']}" in public.out and ours["title"] in public.out
    assert f"/EVN/{code}/src/commit/" in public.out  # its permalink


def test_fetch_writes_a_fresh_copy_and_never_overwrites(archived, code, tmp_path):
    name = archived["path"].stem
    env = archived["env"]
    first = run_cli(env, "fetch", code, "demo", name, "--version", "1", "--json", cwd=tmp_path)
    assert first.code == OK, first
    path = Path(first.json()["path"])
    assert path == tmp_path / f"{name}-v1.ipynb"
    copy = nbformat.read(path, as_version=4)
    assert text_outputs(copy) == text_outputs(archived["nb"])
    path.write_text(path.read_text() + "\n")  # the researcher's own edits
    mine = path.read_bytes()
    second = run_cli(env, "fetch", code, "demo", name, "--version", "1", "-o", str(path))
    assert second.code == OK, second
    assert path.read_bytes() == mine
    assert (tmp_path / f"{name}-v1-1.ipynb").exists()
    assert f"{name}-v1-1.ipynb" in second.out
    third = run_cli(env, "fetch", code, "demo", name, "-o", str(tmp_path), "--json")
    assert Path(third.json()["path"]).name == f"{name}-v{third.json()['version']}.ipynb"
    missing = run_cli(env, "fetch", code, "demo", "no-such-notebook")
    assert missing.code == 6 and "404" in missing.err, missing


def _bad_notebooks(tmp_path: Path) -> list[Path]:
    broken = tmp_path / "broken.ipynb"
    broken.write_text("{ this is not json")
    invalid = tmp_path / "invalid.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell("1"))
    data = json.loads(nbformat.writes(nb))
    data["cells"][0]["outputs"] = [{"output_type": "nonsense"}]
    invalid.write_text(json.dumps(data))
    return [broken, invalid, tmp_path / "missing.ipynb"]


def test_invalid_notebook_or_metadata_exits_4_and_sends_nothing(cli_env, stack, tmp_path):
    code = experiment_code()
    for path in _bad_notebooks(tmp_path):
        r = run_cli(cli_env, "submit", str(path), "--experiment", code, "--json")
        assert r.code == INVALID, (path, r)
        assert r.json()["error"] == "invalid" and r.json()["message"]
    good = tmp_path / "good.ipynb"
    good.write_text(nbformat.writes(small_notebook("x")))
    bad_meta = [
        ["--license", "WTFPL"],
        ["--author", "Jane;0000-0000-0000-0000"],  # wrong ORCID check digit
        ["--name", "has space"],
        ["--output-budget", "-1", "--output-policy", "strip-large"],
    ]
    for extra in bad_meta:
        r = run_cli(cli_env, "submit", str(good), "-e", code, *extra)
        assert r.code == INVALID, (extra, r)
        assert "Nothing was sent" in r.err
    r = run_cli(cli_env, "submit", str(good), "-e", "not a code!")
    assert r.code == INVALID and "experiment code" in r.err
    # nothing reached the archive: the experiment's repository was never created
    repo = gitea_get(stack, f"/repos/{stack['EVN_GITEA_ORG']}/{code}")
    assert repo.status_code == 404


def test_service_down_exits_5_and_a_retry_then_succeeds(cli_env, stack, tmp_path, code):
    path = tmp_path / f"retry-{uuid.uuid4().hex[:8]}.ipynb"
    path.write_text(nbformat.writes(execute(small_notebook("retry"), tmp_path)))
    down = dict(cli_env, EVN_SERVICE_URL=f"http://127.0.0.1:{closed_port()}")
    r = run_cli(down, "submit", str(path), "--experiment", code)
    assert r.code == UNAVAILABLE, r
    assert "cannot be reached" in r.err and "safe to repeat" in r.err
    assert folder_commits(stack, code, f"demo/{path.stem}") == []
    # the pipeline retries once the service is back: one commit
    ok = run_cli(cli_env, "submit", str(path), "--experiment", code, "--json")
    assert ok.code == OK and ok.json()["created"] is True, ok
    ok2 = run_cli(cli_env, "submit", str(path), "--experiment", code, "--json")
    assert ok2.code == OK and ok2.json()["created"] is False, ok2
    assert len(folder_commits(stack, code, ok.json()["folder"])) == 1


def test_submit_without_login_exits_3(env_for, tmp_path):
    path = tmp_path / "n.ipynb"
    path.write_text(nbformat.writes(small_notebook("nologin")))
    r = run_cli(env_for(), "submit", str(path), "--experiment", "EG078B", "--author", "A B")
    assert r.code == NOT_LOGGED_IN, r
    assert "jupyter evn-submit login" in r.err
