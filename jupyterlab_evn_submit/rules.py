"""The archive's rules as the extension and the command line apply them before any network call.

Each check is the contract's (``contract/``, shared with the notebook service through one source
file and ``openapi.json``); a broken rule becomes the extension's ``BadRequest`` (400, exit 4).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from . import contract
from .errors import BadRequest

T = TypeVar("T")


def _checked(rule: Callable[[Any], T], value: Any) -> T:
    try:
        return rule(value)
    except contract.RuleError as e:
        raise BadRequest(e.message) from e


def experiment(code: Any) -> str:
    """The canonical (upper-case) experiment code."""
    return _checked(contract.experiment_code, code)


def notebook_name(name: Any) -> str:
    """The notebook's folder name (``.ipynb`` dropped) as the archive will store it."""
    return _checked(contract.notebook_name, name)


def owner(username: Any) -> str:
    return _checked(contract.username_folder, username)


def idempotency_key(key: Any) -> str:
    return _checked(contract.idempotency_key, key)


def metadata(raw: Any) -> dict[str, Any]:
    """The checked, normalised metadata (ORCID iDs as URLs)."""
    return _checked(contract.parse_metadata, raw)


DEFAULT_LICENCE = contract.default_licence()
