"""The rules of the archive's contract that every side applies, read from ``openapi.json``.

The OpenAPI document beside this file is the one source of every pattern, limit, licence and
default a client must know. This module (standard library only) applies them in Python; it is
carried, as the same file, by the notebook service's wheel and by the extension's, and the
TypeScript form reads the same document. What a JSON Schema cannot say is written here once: case
folding of ASCII only, full-string matches (a ``$`` would let a trailing newline through), reserved
names, the ORCID check digit. ``cases.json`` beside it is the table both test suites run.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from importlib import resources
from typing import Any


class RuleError(ValueError):
    """An input that breaks one of the contract's rules; ``message`` says what to do instead."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@functools.cache
def document() -> dict[str, Any]:
    """The OpenAPI document (parsed once; callers must not change it)."""
    text = resources.files(__package__).joinpath("openapi.json").read_text(encoding="utf-8")
    doc: dict[str, Any] = json.loads(text)
    return doc


def schema(name: str) -> dict[str, Any]:
    """``components.schemas[name]`` of the document."""
    found: dict[str, Any] = document()["components"]["schemas"][name]
    return found


def licences() -> tuple[str, ...]:
    return tuple(schema("Metadata")["properties"]["license"]["enum"])


def default_licence() -> str:
    return str(schema("Metadata")["properties"]["license"]["default"])


def limit(name: str) -> int:
    """A shared default limit, e.g. ``limit("max_notebook_bytes")``."""
    return int(schema("Limits")["properties"][name]["default"])


@functools.cache
def _pattern(name: str) -> re.Pattern[str]:
    return re.compile(schema(name)["pattern"])


def _matches(value: str, name: str) -> bool:
    """The schema's length and pattern, matched against the whole string."""
    s = schema(name)
    if not s.get("minLength", 0) <= len(value) <= s.get("maxLength", len(value)):
        return False
    return _pattern(name).fullmatch(value) is not None


def ascii_upper(text: str) -> str:
    """Upper-case ASCII letters only (``str.upper`` makes 'SS' of U+00DF and 'S' of U+017F)."""
    return text.translate(_UPPER)


_UPPER = {c: c - 32 for c in range(ord("a"), ord("z") + 1)}


def experiment_code(raw: Any, pattern: re.Pattern[str] | None = None) -> str:
    """The canonical (upper-case) experiment code, or a ``RuleError`` saying what is wrong.

    Nothing is trimmed: a space or a line break anywhere is refused (a form or a command line
    trims what a person typed before calling this; a URL's path segment is taken as sent). The
    text is checked to be ASCII *before* it is upper-cased, in ASCII only, and matched whole.
    ``pattern`` replaces the document's (a service whose operator configured another one).
    """
    if not isinstance(raw, str):
        raise RuleError("the experiment code must be a string such as EG078B")
    rule = pattern or _pattern("ExperimentCode")
    most = schema("ExperimentCode")["maxLength"]
    if not raw:
        problem: str | None = "it is empty"
    elif bad := _describe_bad_chars(raw, slash=None):
        problem = f"it contains {bad}"
    elif len(raw) > most:
        problem = f"it is {len(raw)} characters long (at most {most})"
    else:
        problem = None if rule.fullmatch(ascii_upper(raw)) else ""
    if problem is not None:
        detail = f": {problem}" if problem else ""
        raise RuleError(
            f"{raw[:40]!r} is not an EVN experiment code{detail} (expected something like "
            f"EG078B, matching {rule.pattern})"
        )
    return ascii_upper(raw)


_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")


def _describe_bad_chars(text: str, slash: str | None) -> str | None:
    """The first character that is not printable ASCII (or a slash, when ``slash`` says why)."""
    for ch in text:
        if unicodedata.category(ch).startswith("C"):
            return f"a control or invisible character (U+{ord(ch):04X})"
        if slash and ch in "/\\":
            return slash
        if ord(ch) > 127:
            return f"the non-ASCII character {ch!r} (U+{ord(ch):04X})"
        if ch.isspace():
            return "a space"
    return None


def name_rule() -> str:
    most = schema("NotebookName")["maxLength"]
    return (
        "use letters, digits, '.', '_' and '-', starting with a letter or digit and not ending "
        f"in '.', at most {most} characters"
    )


def is_reserved(name: str) -> bool:
    """A reserved name (compared in lower case up to the first '.'), or a reserved suffix."""
    s = schema("NotebookName")
    low = name.lower()
    return low.split(".")[0] in s["x-reserved"] or low.endswith(tuple(s["x-reserved-suffixes"]))


def notebook_name(raw: Any) -> str:
    """A notebook's folder name (``.ipynb`` dropped), or a ``RuleError`` naming the rule broken."""
    if not isinstance(raw, str):
        raise RuleError("the notebook name must be a string such as 'calibration.ipynb'")
    name = raw[: -len(".ipynb")] if raw.lower().endswith(".ipynb") else raw
    problem = _name_problem(name)
    if problem:
        raise RuleError(f"the notebook name {problem}; {name_rule()}")
    if not _matches(name, "NotebookName"):  # the document's pattern: a backstop
        raise RuleError(f"the notebook name {name!r} is not allowed; {name_rule()}")
    if is_reserved(name):
        raise RuleError(f"{name!r} is a reserved name; choose another notebook name")
    return name


def _name_problem(name: str) -> str | None:
    """What is wrong with ``name``, said specifically, or None."""
    if not name:
        return "is empty"
    bad = _describe_bad_chars(name, slash="a slash (a name is one folder, not a path)")
    if bad:
        return f"contains {bad}"
    other = next((ch for ch in name if ch not in _NAME_CHARS), None)
    if other:
        return f"contains the character {other!r}"
    if ".." in name:
        return "must not contain '..'"
    if len(name) > schema("NotebookName")["maxLength"]:
        return f"is {len(name)} characters long"
    if not name[0].isalnum():
        return f"{name[:40]!r} is not allowed: it must start with a letter or digit"
    if name.endswith("."):
        return f"{name[:40]!r} is not allowed: it must not end in '.'"
    return None


def name_from_title(title: str) -> str:
    """A folder name derived from a title: ASCII, lower case, words joined by '-'."""
    most = schema("NotebookName")["maxLength"]
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:most].strip("-")
    if not slug:
        raise RuleError("cannot derive a notebook name from the title; give a 'name'")
    if is_reserved(slug):
        slug = "notebook-" + slug
    return slug


def username_folder(username: Any) -> str:
    """The submitter's folder; a username that cannot be a safe path segment is refused."""
    if not isinstance(username, str):
        raise RuleError("the owner must be a string: an archive username such as 'jdoe'")
    if not _matches(username, "Username") or ".." in username:
        raise RuleError(
            f"the username {username[:100]!r} cannot name an archive folder; ask the operator"
        )
    return username


def idempotency_key(raw: Any) -> str:
    if not isinstance(raw, str) or not _matches(raw, "IdempotencyKey"):
        s = schema("IdempotencyKey")
        raise RuleError(
            f"the idempotency key must be {s['minLength']}-{s['maxLength']} printable ASCII "
            "characters without spaces (a UUID will do)"
        )
    return raw


def orcid_url(raw: str) -> str:
    """``0000-0002-1825-0097`` or its URL, checked (ISO 7064 11-2), as the https URL."""
    text = raw.strip()
    if not _matches(text, "Orcid"):
        raise RuleError(f"{raw!r} is not an ORCID iD (expected 0000-0002-1825-0097 or its URL)")
    ident = text[-19:]
    digits = ident.replace("-", "")
    total = 0
    for d in digits[:-1]:
        total = (total + int(d)) * 2
    check = (12 - total % 11) % 11
    if digits[-1] != ("X" if check == 10 else str(check)):
        raise RuleError(f"{raw!r} is not a valid ORCID iD (its check digit is wrong)")
    return "https://orcid.org/" + ident
