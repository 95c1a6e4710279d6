"""``GET open``: a link that opens a copy checks its values, writes nothing, and sends the browser
to JupyterLab, which asks the reader before ``open-copy`` writes a copy."""

from __future__ import annotations

import urllib.parse
from pathlib import Path

import pytest
from evnhelpers import get

LINK = {"experiment": "eg078b", "owner": "demo", "name": "calibration", "version": "2"}


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*"))


@pytest.mark.parametrize(
    ("query", "value"),
    [
        (LINK, "EG078B/demo/calibration@2"),
        ({k: v for k, v in LINK.items() if k != "version"}, "EG078B/demo/calibration"),
        (LINK | {"name": "calibration.ipynb"}, "EG078B/demo/calibration@2"),
    ],
)
async def test_a_link_redirects_to_jupyterlab_with_the_checked_notebook(
    jp_fetch, jp_base_url, jp_root_dir, query, value
):
    before = _files(jp_root_dir)
    r = await get(jp_fetch, "open", params=query, follow_redirects=False)
    assert r.code == 302, r.body
    location = r.headers["Location"]
    lab, _, search = location.partition("?")
    assert lab == f"{jp_base_url}lab"  # under the base URL (here /a%40b/), not the root
    assert urllib.parse.parse_qs(search) == {"evn-open": [value]}
    assert _files(jp_root_dir) == before  # a GET writes nothing


@pytest.mark.parametrize(
    ("override", "text"),
    [
        ({"experiment": "../etc"}, "experiment code"),
        ({"experiment": ""}, "experiment code"),
        ({"name": "../../secret"}, "name"),
        ({"owner": "a/b"}, ""),
        ({"version": "0"}, "version"),
        ({"version": "two"}, "version"),
        ({"version": "-1"}, "version"),
    ],
)
async def test_a_bad_link_is_a_400_page_and_writes_nothing(jp_fetch, jp_root_dir, override, text):
    before = _files(jp_root_dir)
    r = await get(jp_fetch, "open", params=LINK | override, follow_redirects=False)
    assert r.code == 400, (override, r.code)
    assert r.headers["Content-Type"].startswith("text/html")  # a page for a person, not JSON
    assert text in r.body.decode()
    assert _files(jp_root_dir) == before
