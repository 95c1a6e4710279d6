"""Every route of the service is in the contract's OpenAPI document, and every documented path
has a route: neither can grow without the other."""

from __future__ import annotations

import re
from pathlib import Path

from evn_notebook_service.app import make_app
from evn_notebook_service.config import ServiceConfig
from evn_notebook_service.contract import document


def test_routes_and_documented_paths_are_the_same(tmp_path: Path) -> None:
    config = ServiceConfig(index_url=f"sqlite:///{tmp_path / 'index.sqlite'}")
    app = make_app(config)  # no event loop: nothing is started
    routes = set()
    for rule in app.wildcard_router.rules:
        parts = re.split(r"\(\[\^/\]\+\)", rule.matcher.regex.pattern.rstrip("$"))
        names = ["{code}", "{owner}", "{name}"][: len(parts) - 1]
        routes.add("".join(p + n for p, n in zip(parts, [*names, ""], strict=True)))
    assert routes == set(document()["paths"])
    app.settings["evn_index"].dispose()
