"""The OpenAPI 3.1 document of API v1 (``openapi.json`` next to this module)."""

from __future__ import annotations

import copy
import functools
import json
from importlib import resources
from typing import Any

from .. import __version__
from .metadata import LICENSES


@functools.cache
def _document() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("openapi.json").read_text(encoding="utf-8")
    doc: dict[str, Any] = json.loads(text)
    doc["info"]["version"] = __version__
    doc["components"]["schemas"]["Metadata"]["properties"]["license"]["enum"] = list(LICENSES)
    return doc


def openapi_document() -> dict[str, Any]:
    return copy.deepcopy(_document())
