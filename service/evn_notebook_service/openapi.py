"""The OpenAPI 3.1 document of API v1 as this service serves it (``contract/openapi.json``)."""

from __future__ import annotations

import copy
import functools
from typing import Any

from . import __version__
from .contract import document


@functools.cache
def _document(experiment_pattern: str) -> dict[str, Any]:
    doc = copy.deepcopy(document())
    doc["info"]["version"] = __version__
    doc["components"]["schemas"]["ExperimentCode"]["pattern"] = experiment_pattern
    return doc


def openapi_document(experiment_pattern: str) -> dict[str, Any]:
    """The contract with this service's version and its configured experiment-code pattern."""
    return copy.deepcopy(_document(experiment_pattern))
