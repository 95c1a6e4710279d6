"""``list``'s pages and search, with the notebook service faked at the wire (real HTTP on
127.0.0.1, tests/fakeservice.py) and Keycloak down: what is sent, what is printed, how ``--all``
follows the pages. The same against the real service: test_cli_submit.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from clihelpers import closed_port
from cryptography.fernet import Fernet
from fakeservice import FakeService, summary

from jupyterlab_evn_submit.cli.app import main
from jupyterlab_evn_submit.cli.exitcodes import INVALID, NOT_LOGGED_IN, OK, REJECTED, UNAVAILABLE

NOTEBOOKS = [summary(i, experiment="EG078B") for i in range(7)]
HITS = [summary(i, snippet="the <mark>fringe</mark> step &amp; more") for i in range(3)]


@pytest.fixture
def service(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeService]:
    """The fake service, and a command line configured for it with nobody logged in."""
    import os

    for name in [n for n in os.environ if n.startswith(("EVN_", "JUPYTER_"))]:
        monkeypatch.delenv(name)
    with FakeService() as fake:
        env = {
            "EVN_ISSUER_URL": f"http://127.0.0.1:{closed_port()}/realms/evn",
            "EVN_CLIENT_ID": "evn-jupyterlab",
            "EVN_SERVICE_URL": fake.url,
            "EVN_TOKEN_STORE": str(tmp_path / "store" / "refresh-token"),
            "EVN_TOKEN_KEYS": Fernet.generate_key().decode(),
            "EVN_BOOTSTRAP_TOKEN_ENV": "EVN_TEST_NO_BOOTSTRAP_TOKEN",
            "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
            "JUPYTER_DATA_DIR": str(tmp_path / "data"),
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        fake.pages("/experiments/EG078B/notebooks", "notebooks", NOTEBOOKS, experiment="EG078B")
        fake.pages("/notebooks", "notebooks", HITS)
        yield fake


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_search_needs_no_login_and_sends_the_filters(service, capsys):
    code, out, _ = run(
        capsys,
        *("list", "--search", "fringe", "--author", "Doe", "--keyword", "vlbi"),
        *("--license", "MIT", "--since", "2026-01-01", "--until", "2026-11-25"),
        *("-e", "eg078b", "--sort", "updated", "--limit", "2", "--json"),
    )
    assert code == OK, out
    doc = json.loads(out)
    assert [h["name"] for h in doc["notebooks"]] == [h["name"] for h in HITS[:2]]
    assert doc["next_cursor"] == "at-2" and "next" not in doc
    sent = service.requests_to("/notebooks")[0]
    assert sent.query == {
        "q": "fringe",
        "experiment": "eg078b",
        "author": "Doe",
        "keyword": "vlbi",
        "license": "MIT",
        "since": "2026-01-01",
        "until": "2026-11-25",
        "sort": "updated",
        "limit": "2",
    }
    assert "Authorization" not in sent.headers
    assert doc["search"] == {k: v for k, v in sent.query.items() if k != "limit"}


def test_a_filter_alone_is_a_search_too(service, capsys):
    code, out, _ = run(capsys, "list", "--keyword", "vlbi", "--json")
    assert code == OK, out
    assert service.requests_to("/notebooks")[0].query == {"keyword": "vlbi"}


def test_human_output_shows_why_it_matched_and_the_next_cursor(service, capsys):
    code, out, _ = run(capsys, "list", "--search", "fringe", "--limit", "2")
    assert code == OK, out
    assert "    the *fringe* step & more" in out
    assert "demo/notebook-000  v1" in out and HITS[0]["permalink"] in out
    assert out.splitlines()[-1] == "Next page: --cursor at-2"
    code, out, _ = run(capsys, "list", "--search", "fringe", "--limit", "2", "--cursor", "at-2")
    assert code == OK and "demo/notebook-002" in out and "Next page" not in out
    assert service.requests_to("/notebooks")[-1].query == {
        "q": "fringe",
        "limit": "2",
        "cursor": "at-2",
    }


def test_all_follows_the_pages_to_the_end(service, capsys):
    code, out, _ = run(capsys, "list", "-e", "EG078B", "--limit", "3", "--all", "--json")
    assert code == OK, out
    doc = json.loads(out)
    assert [n["name"] for n in doc["notebooks"]] == [n["name"] for n in NOTEBOOKS]
    assert doc["next_cursor"] is None and doc["experiment"] == "EG078B"
    queries = [s.query for s in service.requests_to("/experiments/EG078B/notebooks")]
    assert queries == [
        {"limit": "3"},
        {"limit": "3", "cursor": "at-3"},
        {"limit": "3", "cursor": "at-6"},
    ]
    code, out, _ = run(capsys, "list", "-e", "EG078B", "--limit", "3", "--all")
    assert out.count("    http://127.0.0.1:3000/") == 7 and "Next page" not in out


def test_all_stops_when_the_service_repeats_a_cursor(service, capsys):
    def stuck(query: dict[str, str]) -> tuple[int, Any]:
        return 200, {"experiment": "EG078B", "notebooks": NOTEBOOKS[:1], "next_cursor": "again"}

    service.routes["/api/v1/experiments/EG078B/notebooks"] = stuck
    code, _, err = run(capsys, "list", "-e", "EG078B", "--all")
    assert code == UNAVAILABLE and "twice" in err
    assert len(service.seen) == 2


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (["--limit", "0"], "limit must be a whole number from 1 to 100"),
        (["--limit", "101", "-e", "EG078B"], "limit must be"),
        (["--search", "x", "--since", "last week"], "since must be a date"),
        (["-e", "not a code!"], "experiment code"),
    ],
)
def test_what_can_be_checked_here_exits_4_before_any_call(service, capsys, args, text):
    code, _, err = run(capsys, "list", *args)
    assert code == INVALID and text in err, err
    assert service.seen == []


def test_an_unknown_sort_is_a_usage_error(service, capsys):
    with pytest.raises(SystemExit) as e:
        main(["list", "--search", "x", "--sort", "random"])
    assert e.value.code == 2
    assert "relevance" in capsys.readouterr().err


def test_a_cursor_the_service_did_not_give_out_exits_6(service, capsys):
    code, _, err = run(capsys, "list", "-e", "EG078B", "--cursor", "forged")
    assert code == REJECTED and "not given out" in err


def test_my_submissions_need_a_login(service, capsys):
    code, _, err = run(capsys, "list", "--limit", "5")
    assert code == NOT_LOGGED_IN and "jupyter evn-submit login" in err
    assert service.seen == []
