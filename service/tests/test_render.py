"""Gitea's renderer of archived notebooks: nbconvert's HTML and the open-a-copy link above it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from urllib.parse import parse_qs, urlsplit

import pytest

nbconvert = pytest.importorskip("nbconvert")  # the renderer's extra (render); .venv has it

from evn_notebook_service.render import open_link, render  # noqa: E402

PREFIX = "/EVN/EG078B/src/commit/0123abcd/demo/calibration"
PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
    "+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
NOTEBOOK = {
    "cells": [
        {"cell_type": "markdown", "id": "m", "metadata": {}, "source": "# Fringe fitting & delays"},
        {"cell_type": "code", "execution_count": 1, "id": "c", "metadata": {}, "source": "plot()",
         "outputs": [{"output_type": "display_data", "metadata": {},
                      "data": {"image/png": PNG, "text/plain": "<Figure>"}}]},
    ],
    "metadata": {}, "nbformat": 4, "nbformat_minor": 5,
}  # fmt: skip


def test_the_link_opens_that_notebook_through_the_portal() -> None:
    link = open_link("https://portal.example.org/hub/user-redirect/", PREFIX)
    assert link is not None
    parts = urlsplit(link)
    assert parts.netloc == "portal.example.org"
    assert parts.path == "/hub/user-redirect/evn-submit/open"
    assert parse_qs(parts.query) == {
        "experiment": ["EG078B"],
        "owner": ["demo"],
        "name": ["calibration"],
    }


@pytest.mark.parametrize(
    "prefix",
    [
        "/EVN/EG078B/src/commit/0123abcd",  # a legacy notebook at the repository's root
        "/EVN/EG078B/src/commit/0123abcd/.evn/notebooks",  # not an archived folder
        "/EVN/not-a-code!/src/commit/0123abcd/demo/calibration",
        "/EVN/EG078B/src/commit/0123abcd/demo/..",
        "/EVN/EG078B/raw/commit/0123abcd/demo/calibration",
    ],
)
def test_no_link_where_the_page_is_not_an_archived_notebook(prefix: str) -> None:
    assert open_link("https://portal.example.org/hub/user-redirect", prefix) is None


def test_the_page_is_the_rendered_notebook_with_the_link_above_it() -> None:
    env = {"EVN_OPEN_LINK_BASE": "http://127.0.0.1:8888", "GITEA_PREFIX_SRC": PREFIX}
    page = render(json.dumps(NOTEBOOK).encode(), env)
    assert page.index('class="evn-open-link"') < page.index("<h1")
    assert re.search(r"<h1[^>]*>Fringe fitting &amp; delays", page)  # the heading, escaped
    assert f'src="data:image/png;base64,{PNG}' in page
    assert "http://127.0.0.1:8888/evn-submit/open?experiment=EG078B&amp;owner=demo" in page


def test_without_a_link_base_the_page_is_nbconverts_alone() -> None:
    page = render(json.dumps(NOTEBOOK).encode(), {"GITEA_PREFIX_SRC": PREFIX})
    assert "evn-open-link" not in page and "<h1" in page


def test_gitea_runs_it_as_a_command_with_the_notebook_on_stdin() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "evn_notebook_service.render"],
        input=json.dumps(NOTEBOOK).encode(),
        env={"GITEA_PREFIX_SRC": PREFIX, "EVN_OPEN_LINK_BASE": "https://p.example/hub/user-redirect",
             "PATH": "/usr/bin:/bin"},
        capture_output=True,
        check=True,
    )  # fmt: skip
    assert (
        b"<h1" in out.stdout
        and b"https://p.example/hub/user-redirect/evn-submit/open" in out.stdout
    )
