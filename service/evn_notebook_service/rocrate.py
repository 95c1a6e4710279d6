"""The folder's ``ro-crate-metadata.json`` (RO-Crate 1.1) describing one notebook version."""

from __future__ import annotations

import hashlib
from typing import Any

CONTEXT = "https://w3id.org/ro/crate/1.1/context"
PROFILE = "https://w3id.org/ro/crate/1.1"


def _person(author: dict[str, str], index: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    person: dict[str, Any] = {
        "@id": author.get("orcid") or f"#author-{index + 1}",
        "@type": "Person",
        "name": author["name"],
    }
    extra = []
    if author.get("affiliation"):
        org_id = f"#organization-{index + 1}"
        person["affiliation"] = {"@id": org_id}
        extra.append({"@id": org_id, "@type": "Organization", "name": author["affiliation"]})
    return person, extra


def build_crate(
    *,
    experiment: str,
    notebook_file: str,
    notebook: bytes,
    metadata: dict[str, Any],
    submitter: dict[str, str],
    version: int,
    date: str,
    language: str,
    provenance_file: str | None,
) -> dict[str, Any]:
    license_id = metadata["license"]
    license_url = f"https://spdx.org/licenses/{license_id}"
    people, extras = [], []
    for i, author in enumerate(metadata["authors"]):
        person, more = _person(author, i)
        people.append(person)
        extras.extend(more)
    parts = [{"@id": notebook_file}]
    notebook_entity: dict[str, Any] = {
        "@id": notebook_file,
        "@type": ["File", "SoftwareSourceCode"],
        "name": metadata["title"],
        "encodingFormat": "application/x-ipynb+json",
        "contentSize": str(len(notebook)),
        "sha256": hashlib.sha256(notebook).hexdigest(),
        "version": str(version),
    }
    if language:
        notebook_entity["programmingLanguage"] = {"@id": "#language"}
        extras.append({"@id": "#language", "@type": "ComputerLanguage", "name": language})
    graph: list[dict[str, Any]] = [
        {
            "@id": "ro-crate-metadata.json",
            "@type": "CreativeWork",
            "conformsTo": {"@id": PROFILE},
            "about": {"@id": "./"},
        },
        notebook_entity,
    ]
    if provenance_file:
        parts.append({"@id": provenance_file})
        graph.append(
            {
                "@id": provenance_file,
                "@type": "File",
                "name": "Provenance of the notebook's execution",
                "encodingFormat": "application/json",
                "about": {"@id": notebook_file},
            }
        )
    root = {
        "@id": "./",
        "@type": "Dataset",
        "name": metadata["title"],
        "description": metadata["description"] or metadata["title"],
        "datePublished": date,
        "license": {"@id": license_url},
        "author": [{"@id": p["@id"]} for p in people],
        "keywords": metadata["keywords"],
        "hasPart": parts,
        "version": str(version),
        "about": {"@id": f"#experiment-{experiment}"},
        "publisher": {"@id": "#submitter"},
    }
    graph[1:1] = [root]
    graph += people + extras
    graph += [
        {"@id": license_url, "@type": "CreativeWork", "name": license_id, "identifier": license_id},
        {
            "@id": f"#experiment-{experiment}",
            "@type": "Thing",
            "name": f"EVN experiment {experiment}",
            "identifier": experiment,
        },
        {
            "@id": "#submitter",
            "@type": "Person",
            "name": submitter["name"],
            "email": submitter["email"],
            "identifier": submitter["username"],
        },
    ]
    return {"@context": CONTEXT, "@graph": graph}
