"""Rules for the names that become Gitea repositories and archive paths."""

from __future__ import annotations

import re
import unicodedata

from .errors import BadRequest

NAME_MAX = 80
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,99}$")
RESERVED = {
    "con", "prn", "aux", "nul", "clock$", "ro-crate-metadata", "ro-crate-preview", "provenance",
    *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10)),
}  # fmt: skip


def experiment_code(raw: str, pattern: re.Pattern[str]) -> str:
    """The canonical (upper-case) experiment code, or 400 saying what a code looks like."""
    code = raw.strip().upper()
    if not code or len(code) > 32 or not pattern.fullmatch(code):
        raise BadRequest(
            f"{raw[:40]!r} is not an EVN experiment code (expected something like EG078B, "
            f"matching {pattern.pattern})"
        )
    return code


def _describe_bad_chars(name: str) -> str | None:
    for ch in name:
        cat = unicodedata.category(ch)
        if cat.startswith("C"):
            return f"a control or invisible character (U+{ord(ch):04X})"
        if ch in "/\\":
            return "a slash (a name is one folder, not a path)"
        if ord(ch) > 127:
            return f"the non-ASCII character {ch!r} (U+{ord(ch):04X})"
        if ch.isspace():
            return "a space"
    return None


def notebook_name(raw: str) -> str:
    """A notebook's folder name (``.ipynb`` dropped), or 400 explaining the rule it breaks."""
    name = raw[: -len(".ipynb")] if raw.lower().endswith(".ipynb") else raw
    rule = (
        "use letters, digits, '.', '_' and '-', starting with a letter or digit, "
        f"at most {NAME_MAX} characters"
    )
    if not name:
        raise BadRequest(f"the notebook name is empty; {rule}")
    bad = _describe_bad_chars(name)
    if bad:
        raise BadRequest(f"the notebook name contains {bad}; {rule}")
    if ".." in name:
        raise BadRequest(f"the notebook name must not contain '..'; {rule}")
    if len(name) > NAME_MAX:
        raise BadRequest(f"the notebook name is {len(name)} characters long; {rule}")
    if not _NAME.fullmatch(name):
        raise BadRequest(f"the notebook name {name!r} is not allowed; {rule}")
    if name.lower().split(".")[0] in RESERVED or name.lower().endswith((".git", ".lock")):
        raise BadRequest(f"{name!r} is a reserved name; choose another notebook name")
    return name


def name_from_title(title: str) -> str:
    """A folder name derived from a title: ASCII, lower case, words joined by '-'."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:NAME_MAX].strip("-")
    if not slug:
        raise BadRequest("cannot derive a notebook name from the title; give a 'name'")
    if slug.split(".")[0] in RESERVED:
        slug = "notebook-" + slug
    return slug


def username_folder(username: str) -> str:
    """The submitter's folder; a username that cannot be a safe path segment is refused."""
    if not _USERNAME.fullmatch(username) or ".." in username:
        raise BadRequest(
            f"the username {username!r} cannot name an archive folder; ask the operator"
        )
    return username
