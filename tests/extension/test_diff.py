"""``GET evn-submit/diff``: nbdime's diff of two archived versions of a notebook.

The local checks run with the service down; the diff itself against the real Keycloak, notebook
service and Gitea, with two versions submitted through the extension's own routes."""

from __future__ import annotations

import copy
import secrets
from pathlib import Path
from typing import Any

import nbformat
import pytest
from evnhelpers import TEST_KEY, body_of, browser_login, get, make_notebook, post

QUERY = {"experiment": "EG078B", "owner": "demo", "name": "calibration"}


@pytest.mark.parametrize(
    ("override", "text"),
    [
        ({"base": "one"}, "base must be a version number"),
        ({"remote": "0"}, "remote must be a version number"),
        ({"remote": "-2"}, "remote must be a version number"),
        ({"experiment": "../etc"}, "experiment code"),
        ({"name": ""}, "name"),
    ],
)
async def test_bad_arguments_are_400_before_any_network_call(jp_fetch, override, text):
    r = await get(jp_fetch, "diff", params=QUERY | override)
    assert r.code == 400, r.body
    assert text in body_of(r)["message"]


async def test_with_the_service_down_the_answer_is_503(jp_fetch):
    r = await get(jp_fetch, "diff", params=QUERY | {"base": "1", "remote": "2"})
    assert r.code == 503
    assert "cannot be reached" in body_of(r)["message"]


# --- against the real stack -----------------------------------------------------------------


@pytest.fixture
def evn_config(request: pytest.FixtureRequest, evn_config: dict[str, Any]) -> dict[str, Any]:
    if request.node.get_closest_marker("stack") is None:
        return evn_config
    stack = request.getfixturevalue("stack")
    return evn_config | {
        "issuer_url": stack["EVN_ISSUER_URL"],
        "client_id": stack["EVN_CLIENT_ID"],
        "service_url": stack["EVN_SERVICE_URL"],
        "token_keys": [TEST_KEY],
        "http_timeout": 90.0,
    }


def _submission(experiment: str, message: str) -> dict[str, Any]:
    return {
        "path": "calibration.ipynb",
        "experiment": experiment,
        "metadata": {
            "title": "Amplitude calibration",
            "authors": [{"name": "Demo Researcher"}],
            "license": "CC-BY-4.0",
        },
        "name": "calibration",
        "output_policy": "keep",
        "message": message,
        "idempotency_key": "key-" + secrets.token_hex(8),
    }


def _second_version(first: Any) -> Any:
    """``first`` with cell 1 changed, its last cell removed and a new markdown cell at the end."""
    nb = copy.deepcopy(first)
    nb.cells[1].source = "print(0)  # the amplitude scale"
    del nb.cells[3]
    nb.cells.append(nbformat.v4.new_markdown_cell("## Closure phases"))
    return nb


def _cells(diff: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The diff's entries for the cells (nbdime's ``patch`` of the ``cells`` list)."""
    (cells,) = [d for d in diff if d["key"] == "cells"]
    assert cells["op"] == "patch"
    return list(cells["diff"])


def _cell_ops(diff: list[dict[str, Any]]) -> dict[str, set[Any]]:
    """{op: {cell index…}} of the diff's entries for the cells."""
    ops: dict[str, set[Any]] = {}
    for entry in _cells(diff):
        ops.setdefault(entry["op"], set()).add(entry["key"])
    return ops


@pytest.mark.stack
async def test_the_diff_of_two_versions(jp_fetch, stack, write_notebook, tmp_path: Path):
    await browser_login(jp_fetch, stack)
    experiment = f"T{secrets.randbelow(10_000):04d}{secrets.token_hex(2).upper()}"
    first_nb = make_notebook(3)
    write_notebook(nb=first_nb)
    first = body_of(await post(jp_fetch, "submit", body=_submission(experiment, "v1")))
    query = {
        "experiment": experiment,
        "owner": first["submitter"]["username"],
        "name": "calibration",
    }

    # one version only: nothing to compare, said plainly
    r = await get(jp_fetch, "diff", params=query)
    assert r.code == 400 and "one version only" in body_of(r)["message"], r.body

    write_notebook(nb=_second_version(first_nb))
    r = await post(jp_fetch, "submit", body=_submission(experiment, "v2"))
    assert r.code in (200, 201) and body_of(r)["version"] == 2, r.body

    # without versions: the latest against the one before, as nbdime's /api/diff answers
    r = await get(jp_fetch, "diff", params=query)
    assert r.code == 200, r.body
    answer = body_of(r)
    assert answer["base_version"] == 1 and answer["remote_version"] == 2
    assert [c["source"] for c in answer["base"]["cells"]][1:] == [
        "print(0)",
        "print(1)",
        "print(2)",
    ]
    assert answer["base"]["cells"][1]["outputs"]  # outputs included
    ops = _cell_ops(answer["diff"])
    assert ops == {"patch": {1}, "addrange": {3}, "removerange": {3}}
    (changed,) = [e for e in _cells(answer["diff"]) if e["op"] == "patch"]
    assert [e["key"] for e in changed["diff"]] == ["source"]  # the changed cell: its source
    (added,) = [e for e in _cells(answer["diff"]) if e["op"] == "addrange"]
    assert [c["source"] for c in added["valuelist"]] == ["## Closure phases"]

    # the same versions named: the same diff; the other way round: added and removed swap
    explicit = body_of(await get(jp_fetch, "diff", params=query | {"base": "1", "remote": "2"}))
    assert explicit == answer
    back = body_of(await get(jp_fetch, "diff", params=query | {"base": "2", "remote": "1"}))
    assert (back["base_version"], back["remote_version"]) == (2, 1)
    assert "## Closure phases" in [c["source"] for c in back["base"]["cells"]]
    (removed,) = [e for e in _cells(back["diff"]) if e["op"] == "removerange"]
    assert back["base"]["cells"][removed["key"]]["source"] == "## Closure phases"

    # a version that was never archived: the service's 404, passed through
    r = await get(jp_fetch, "diff", params=query | {"base": "1", "remote": "9"})
    assert r.code == 404, r.body
