"""The folder's ``CITATION.cff`` (Citation File Format 1.2.0): how to cite one notebook version.

Built from the same metadata as ``ro-crate-metadata.json``. A file cannot hold the permalink of
the commit that adds it (the commit's id depends on the file), so ``url`` leads to the newest
version on the archive's branch and ``message`` says how to cite exactly this version.

The YAML is written here, not by a library: every string is a double-quoted scalar in JSON's
escaping (which YAML reads), with the few characters YAML would fold or refuse escaped as well.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

from .catalogue import Observation, iso
from .config import ServiceConfig
from .layout import NotebookPaths

CITATION = "CITATION.cff"
CFF_VERSION = "1.2.0"

Document = dict[str, Any]

# Left raw in a quoted scalar: printable characters that are not line breaks (YAML 1.2 §5.1, 5.4);
# U+0085, U+2028 and U+2029 would be folded into a space, DEL and C1 controls are not printable.
_NOT_RAW = re.compile("[^\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# letters, with . - ' or U+2019 inside or after them (J., Jean-Luc, O'Brien)
_WORD = re.compile("[^\\W\\d_]+(?:[.'\u2019-][^\\W\\d_]*)*")


def citation_file(
    config: ServiceConfig,
    experiment: str,
    paths: NotebookPaths,
    metadata: dict[str, Any],
    version: int,
    date: str,
    observation: Observation | None = None,
) -> tuple[str, bytes]:
    """The path and bytes of ``CITATION.cff`` in ``paths``' folder for this version."""
    base = "/".join(
        (config.public_gitea_url.rstrip("/"), quote(config.gitea_org), quote(experiment))
    )
    latest = f"{base}/src/branch/{quote(config.gitea_branch)}"
    document = build_citation(
        experiment=experiment,
        metadata=metadata,
        version=version,
        date=date,
        notebook_url=f"{latest}/{quote(paths.notebook)}",
        folder_url=f"{latest}/{quote(paths.folder)}",
    )
    if observation is not None:
        document["references"] = [data_reference(observation)]
    return f"{paths.folder}/{CITATION}", to_yaml(document).encode()


def build_citation(
    *,
    experiment: str,
    metadata: dict[str, Any],
    version: int,
    date: str,
    notebook_url: str,
    folder_url: str,
) -> Document:
    """The CFF document; keys whose value would be empty are left out (CFF wants none empty)."""
    description = metadata.get("description") or ""
    about = f"Jupyter notebook archived for EVN experiment {experiment}."
    document: Document = {
        "cff-version": CFF_VERSION,
        "message": _message(version),
        "type": "software",  # a notebook is code (RO-Crate: SoftwareSourceCode); CFF has no other
        "title": metadata["title"],
        "version": str(version),
        "date-released": date[:10],
        "abstract": f"{description}\n\n{about}" if description else about,
        "authors": _unique([_author(a) for a in metadata["authors"]]),
        "keywords": _unique_words([*metadata.get("keywords", []), "EVN", experiment]),
        "license": metadata["license"],
        "url": notebook_url,
        "repository-code": folder_url,
    }
    return {key: value for key, value in document.items() if value}


def data_reference(observation: Observation) -> Document:
    """The observation the notebook reduces, as a CFF reference of type ``data``: the
    experiment, its products' publisher DIDs (``identifiers``) and access URL (``url``)."""
    code = observation.experiment
    reference: Document = {
        "type": "data",
        "title": f"EVN experiment {code}",
        "authors": [{"name": "European VLBI Network (EVN)"}],
        "publisher": {"name": "EVN archive"},
        "date-released": iso(observation.public_from)[:10],
        "identifiers": [
            {"type": "other", "value": p.did, "description": "IVOA publisher DID of a data product"}
            for p in observation.products
            if p.did
        ],
        "url": next((p.access_url for p in observation.products if p.access_url), ""),
        "keywords": _unique_words([t.name for t in observation.targets]),
        "notes": f"Observed {iso(observation.start)} to {iso(observation.end)}.",
    }
    return {key: value for key, value in reference.items() if value}


def _message(version: int) -> str:
    return (
        "If you use this notebook, please cite it using the metadata from this file. "
        f"The file describes version {version}; its url leads to the newest version. "
        "To cite exactly this version, give the permalink of the commit that archived it "
        "(the folder's history in the archive lists one commit per version)."
    )


def _author(author: dict[str, str]) -> Document:
    """A person with family and given names when the name splits safely, else a ``name``
    (an entity in CFF, which has no affiliation: the RO-Crate beside it keeps that)."""
    split = split_name(author["name"])
    entry: Document
    if split is None:
        entry = {"name": author["name"]}
    else:
        entry = {"family-names": split[0], "given-names": split[1]}
        if author.get("affiliation"):
            entry["affiliation"] = author["affiliation"]
    if author.get("orcid"):
        entry["orcid"] = author["orcid"]
    return entry


def split_name(name: str) -> tuple[str, str] | None:
    """(family, given) of "Family, Given" or of two capitalised words "Given Family"; None for
    anything else (one word, three or more, particles such as "van", scripts without case)."""
    if name.count(",") == 1:
        family, given = (part.strip() for part in name.split(","))
        if family and given and not any(ch.isdigit() for ch in name):
            return family, given
        return None
    words = name.split()
    if len(words) == 2 and all(_WORD.fullmatch(w) and w[0].isupper() for w in words):
        return words[1], words[0]
    return None


def _unique(items: list[Document]) -> list[Document]:
    """Without repeats (CFF lists are ``uniqueItems``), first occurrence kept."""
    out: list[Document] = []
    for item in items:
        if item not in out:
            out.append(item)
    return out


def _unique_words(words: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for word in words:
        if word and word.casefold() not in seen:
            seen.add(word.casefold())
            out.append(word)
    return out


def to_yaml(document: Document) -> str:
    """Block-style YAML of a mapping whose values are strings, lists and mappings of those."""
    return "".join(line + "\n" for line in _mapping(document, 0))


def _mapping(mapping: Document, indent: int) -> list[str]:
    lines = []
    for key, value in mapping.items():
        if isinstance(value, list):
            lines += [" " * indent + f"{key}:", *_sequence(value, indent + 2)]
        elif isinstance(value, dict):
            lines += [" " * indent + f"{key}:", *_mapping(value, indent + 2)]
        else:
            lines.append(" " * indent + f"{key}: {_scalar(value)}")
    return lines


def _sequence(items: list[Any], indent: int) -> list[str]:
    lines = []
    for item in items:
        if isinstance(item, dict):
            first, *rest = _mapping(item, indent + 2)
            lines += [" " * indent + "- " + first.lstrip(), *rest]
        else:
            lines.append(" " * indent + f"- {_scalar(item)}")
    return lines


def _scalar(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"CITATION.cff holds strings only, not {type(value).__name__}")
    return _NOT_RAW.sub(_escape, json.dumps(value, ensure_ascii=False))


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"
