"""``list``'s pages and search as a script uses them, against the real service (answering from
its index), Keycloak and Gitea. The same with the service faked at the wire: test_cli_list.py."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from typing import Any

import nbformat
import pytest
from clihelpers import delete_repo, experiment_code, run_cli, small_notebook

from jupyterlab_evn_submit.cli.exitcodes import OK

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def archived(logged_in, stack, tmp_path_factory) -> Iterator[dict[str, Any]]:
    """Three notebooks of a fresh experiment, submitted by the command; one has a rare word in
    a markdown cell."""
    env, code = logged_in[0], experiment_code()
    word = "zq" + secrets.token_hex(5)
    work = tmp_path_factory.mktemp("list")
    names = [f"list-{i}" for i in range(3)]
    for i, name in enumerate(names):
        nb = small_notebook(f"{code} {i}")
        if i == 2:
            nb.cells.append(nbformat.v4.new_markdown_cell(f"Then the {word} step."))
        path = work / f"{name}.ipynb"
        path.write_text(nbformat.writes(nb))
        r = run_cli(env, "submit", str(path), "-e", code, "--keyword", "paging", "--json")
        assert r.code == OK, r
    yield {"env": env, "code": code, "names": names, "word": word}
    delete_repo(stack, code)


def test_a_script_pages_with_the_printed_cursor(archived):
    env, code, names = archived["env"], archived["code"], archived["names"]
    first = run_cli(env, "list", "-e", code, "--limit", "2")
    assert first.code == OK, first
    assert [f"demo/{n}" in first.out for n in names] == [True, True, False]
    m = re.fullmatch(r"Next page: --cursor (\S+)", first.out.splitlines()[-1])
    assert m, first.out
    second = run_cli(env, "list", "-e", code, "--limit", "2", "--cursor", m.group(1))
    assert second.code == OK and f"demo/{names[2]}" in second.out, second
    assert "Next page" not in second.out


def test_all_takes_every_page(archived):
    env, code = archived["env"], archived["code"]
    r = run_cli(env, "list", "-e", code, "--limit", "1", "--all", "--json")
    assert r.code == OK, r
    doc = r.json()
    assert [n["name"] for n in doc["notebooks"]] == archived["names"]
    assert doc["next_cursor"] is None


def test_my_submissions_come_a_page_at_a_time(archived):
    r = run_cli(archived["env"], "list", "--limit", "1", "--json")
    assert r.code == OK, r
    doc = r.json()
    assert len(doc["submissions"]) == 1 and doc["next_cursor"]


def test_search_finds_a_word_of_a_cell_without_login(archived, env_for):
    nobody = env_for("nobody")  # its own, empty token store
    r = run_cli(nobody, "list", "--search", archived["word"])
    assert r.code == OK, r
    assert f"{archived['code']}  demo/{archived['names'][2]}  v1" in r.out
    assert f"*{archived['word']}*" in r.out  # why it matched
    assert "demo/list-0" not in r.out
    r = run_cli(nobody, "list", "--keyword", "paging", "-e", archived["code"], "--json")
    assert r.code == OK, r
    assert sorted(n["name"] for n in r.json()["notebooks"]) == archived["names"]
    assert r.json()["search"] == {"keyword": "paging", "experiment": archived["code"]}
