"""The folder's ``ro-crate-metadata.json`` (RO-Crate 1.1) describing one notebook version.

One builder per entity of the crate's ``@graph``; ``build_crate`` puts them in their order.
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import quote

from .catalogue import Observation, Product, Target, iso
from .layout import CRATE

CONTEXT = "https://w3id.org/ro/crate/1.1/context"
PROFILE = "https://w3id.org/ro/crate/1.1"
LANGUAGE_ID = "#language"
SUBMITTER_ID = "#submitter"

Entity = dict[str, Any]


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
    observation: Observation | None = None,
) -> dict[str, Any]:
    """The crate; with ``observation`` (what the archive's catalogue knows of the experiment) the
    root names the observation it is based on, its data products and its targets."""
    people, organisations = _authors(metadata["authors"])
    parts = [notebook_file] + ([provenance_file] if provenance_file else [])
    graph = [
        _descriptor(),
        _dataset(metadata, experiment, version, date, people, parts),
        _notebook(notebook_file, notebook, metadata["title"], version, language),
    ]
    if provenance_file:
        graph.append(_provenance(provenance_file, notebook_file))
    graph += people + organisations
    if language:
        graph.append(_language(language))
    graph += [_licence(metadata["license"]), _experiment(experiment), _submitter(submitter)]
    if observation is not None:
        graph[1]["isBasedOn"] = {"@id": _observation_id(observation.experiment)}
        graph += observation_entities(observation)
    return {"@context": CONTEXT, "@graph": graph}


def _descriptor() -> Entity:
    """The metadata file itself, declaring the RO-Crate version it conforms to."""
    return {
        "@id": CRATE,
        "@type": "CreativeWork",
        "conformsTo": {"@id": PROFILE},
        "about": {"@id": "./"},
    }


def _dataset(
    metadata: dict[str, Any],
    experiment: str,
    version: int,
    date: str,
    people: list[Entity],
    parts: list[str],
) -> Entity:
    """The root data entity: the notebook's folder, with the submission's descriptive metadata."""
    return {
        "@id": "./",
        "@type": "Dataset",
        "name": metadata["title"],
        "description": metadata["description"] or metadata["title"],
        "datePublished": date,
        "license": {"@id": _licence_url(metadata["license"])},
        "author": [{"@id": p["@id"]} for p in people],
        "keywords": metadata["keywords"],
        "hasPart": [{"@id": part} for part in parts],
        "version": str(version),
        "about": {"@id": _experiment_id(experiment)},
        "publisher": {"@id": SUBMITTER_ID},
    }


def _notebook(
    notebook_file: str, notebook: bytes, title: str, version: int, language: str
) -> Entity:
    entity: Entity = {
        "@id": notebook_file,
        "@type": ["File", "SoftwareSourceCode"],
        "name": title,
        "encodingFormat": "application/x-ipynb+json",
        "contentSize": str(len(notebook)),
        "sha256": hashlib.sha256(notebook).hexdigest(),
        "version": str(version),
    }
    if language:
        entity["programmingLanguage"] = {"@id": LANGUAGE_ID}
    return entity


def _provenance(provenance_file: str, notebook_file: str) -> Entity:
    return {
        "@id": provenance_file,
        "@type": "File",
        "name": "Provenance of the notebook's execution",
        "encodingFormat": "application/json",
        "about": {"@id": notebook_file},
    }


def _authors(authors: list[dict[str, str]]) -> tuple[list[Entity], list[Entity]]:
    """A Person per author (ORCID as ``@id`` when given) and an Organization per affiliation."""
    people, organisations = [], []
    for index, author in enumerate(authors, start=1):
        person: Entity = {
            "@id": author.get("orcid") or f"#author-{index}",
            "@type": "Person",
            "name": author["name"],
        }
        if author.get("affiliation"):
            org_id = f"#organization-{index}"
            person["affiliation"] = {"@id": org_id}
            organisations.append(
                {"@id": org_id, "@type": "Organization", "name": author["affiliation"]}
            )
        people.append(person)
    return people, organisations


def _language(language: str) -> Entity:
    return {"@id": LANGUAGE_ID, "@type": "ComputerLanguage", "name": language}


def _licence_url(licence_id: str) -> str:
    return f"https://spdx.org/licenses/{licence_id}"


def _licence(licence_id: str) -> Entity:
    return {
        "@id": _licence_url(licence_id),
        "@type": "CreativeWork",
        "name": licence_id,
        "identifier": licence_id,
    }


def _experiment_id(experiment: str) -> str:
    return f"#experiment-{experiment}"


def _experiment(experiment: str) -> Entity:
    return {
        "@id": _experiment_id(experiment),
        "@type": "Thing",
        "name": f"EVN experiment {experiment}",
        "identifier": experiment,
    }


def _submitter(submitter: dict[str, str]) -> Entity:
    """Who submitted this version (from the token), as the crate's publisher."""
    return {
        "@id": SUBMITTER_ID,
        "@type": "Person",
        "name": submitter["name"],
        "email": submitter["email"],
        "identifier": submitter["username"],
    }


def _observation_id(experiment: str) -> str:
    return f"#observation-{experiment}"


def _target_id(name: str) -> str:
    return "#target-" + quote(name, safe="")


def observation_entities(observation: Observation) -> list[Entity]:
    """The observation (a Dataset in the EVN archive), its data products (DataDownload, the
    access URL, the publisher DID as identifier) and its targets (with their ICRS positions)."""
    code = observation.experiment
    products = [p for p in observation.products if p.access_url]
    entity: Entity = {
        "@id": _observation_id(code),
        "@type": "Dataset",
        "name": f"EVN experiment {code}",
        "description": f"The data of EVN experiment {code} in the EVN archive.",
        "identifier": [p.did for p in observation.products if p.did],
        "temporalCoverage": f"{iso(observation.start)}/{iso(observation.end)}",
        "datePublished": iso(observation.public_from),
        "about": [{"@id": _experiment_id(code)}]
        + [{"@id": _target_id(t.name)} for t in observation.targets],
        "distribution": [{"@id": p.access_url} for p in _unique_urls(products)],
    }
    if products:
        entity["url"] = products[0].access_url
    downloads: list[Entity] = [
        {
            "@id": p.access_url,
            "@type": "DataDownload",
            "contentUrl": p.access_url,
            **({"identifier": p.did, "name": p.did} if p.did else {}),
        }
        for p in _unique_urls(products)
    ]
    return [entity, *downloads, *(_target(t) for t in observation.targets)]


def _unique_urls(products: list[Product]) -> list[Product]:
    seen: dict[str, Product] = {}
    for product in products:
        seen.setdefault(product.access_url, product)
    return list(seen.values())


def _target(target: Target) -> Entity:
    entity: Entity = {"@id": _target_id(target.name), "@type": "Thing", "name": target.name}
    if target.ra is not None and target.dec is not None:
        entity["description"] = f"RA {target.ra:.6f} deg, Dec {target.dec:+.6f} deg (ICRS)"
    return entity
