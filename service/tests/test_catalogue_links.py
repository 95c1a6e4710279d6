"""The observation in the RO-Crate and in CITATION.cff: a closed graph with unique ids, and a
CFF ``references`` entry of type ``data`` that YAML reads back and CFF 1.2.0 accepts."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import jsonschema
import yaml
from evn_notebook_service.catalogue import Observation, Product, Target
from evn_notebook_service.citation import build_citation, data_reference, to_yaml
from evn_notebook_service.rocrate import build_crate

UTC = timezone.utc
OBS = Observation(
    experiment="EG078B",
    targets=(Target("3C 345", 250.74504, 39.81028), Target("J1638+5720", None, None)),
    start=datetime(2021, 6, 3, 7, 47, 47, tzinfo=UTC),
    end=datetime(2021, 6, 3, 13, 20, 41, tzinfo=UTC),
    public_from=datetime(2022, 6, 3, 13, 20, 41, tzinfo=UTC),
    products=(
        Product("ivo://evn.jive/archive?EG078B/1", "https://archive.example/EG078B/1"),
        Product("ivo://evn.jive/archive?EG078B/2", "https://archive.example/EG078B/2"),
    ),
)
META = {
    "title": "Calibration",
    "description": "Fringe fitting.",
    "authors": [{"name": "Jane Doe"}],
    "license": "CC-BY-4.0",
    "keywords": ["vlbi"],
}


def crate(observation: Observation | None) -> dict[str, Any]:
    return build_crate(
        experiment="EG078B",
        notebook_file="cal.ipynb",
        notebook=b"{}",
        metadata=META,
        submitter={"username": "demo", "name": "Demo", "email": "d@x"},
        version=1,
        date="2026-01-01T00:00:00+00:00",
        language="python",
        provenance_file=None,
        observation=observation,
    )


def references(value: Any) -> list[str]:
    """Every ``{"@id": …}`` reference inside an entity."""
    if isinstance(value, dict):
        if set(value) == {"@id"}:
            return [value["@id"]]
        return [r for v in value.values() for r in references(v)]
    if isinstance(value, list):
        return [r for v in value for r in references(v)]
    return []


def test_crate_names_the_observation_in_a_closed_graph() -> None:
    graph = crate(OBS)["@graph"]
    by_id = {e["@id"]: e for e in graph}
    assert len(by_id) == len(graph), "every @id once"
    for entity in graph:
        for ref in references({k: v for k, v in entity.items() if k != "@id"}):
            assert ref in by_id or ref.startswith(("https://w3id.org/", "https://spdx.org/")), ref
    observation = by_id[by_id["./"]["isBasedOn"]["@id"]]
    assert observation["@type"] == "Dataset" and observation["name"] == "EVN experiment EG078B"
    assert observation["identifier"] == [p.did for p in OBS.products]
    assert observation["url"] == "https://archive.example/EG078B/1"
    assert observation["temporalCoverage"] == "2021-06-03T07:47:47Z/2021-06-03T13:20:41Z"
    download = by_id["https://archive.example/EG078B/2"]
    assert download["@type"] == "DataDownload" and download["identifier"] == OBS.products[1].did
    names = {by_id[r["@id"]].get("name") for r in observation["about"]}
    assert {"3C 345", "J1638+5720"} <= names
    assert "RA 250.745040 deg" in by_id["#target-3C%20345"]["description"]


def test_without_an_observation_the_crate_is_as_before() -> None:
    graph = crate(None)["@graph"]
    assert "isBasedOn" not in graph[1]
    assert not any(e["@type"] == "DataDownload" for e in graph)


TEXT = {"type": "string", "minLength": 1}
REFERENCE = {  # the parts of CFF 1.2.0's reference schema the entry uses, restated
    "type": "object",
    "additionalProperties": False,
    "required": ["authors", "title", "type"],
    "properties": {
        "type": {"const": "data"},
        "title": TEXT,
        "authors": {"type": "array", "minItems": 1, "items": {"type": "object",
                    "required": ["name"], "properties": {"name": TEXT}}},
        "publisher": {"type": "object", "required": ["name"], "properties": {"name": TEXT}},
        "date-released": {"type": "string", "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
        "identifiers": {"type": "array", "minItems": 1, "items": {
            "type": "object", "additionalProperties": False, "required": ["type", "value"],
            "properties": {"type": {"enum": ["doi", "url", "swh", "other"]}, "value": TEXT,
                           "description": TEXT}}},
        "url": {"type": "string", "pattern": "^(https|http|ftp|sftp)://.+"},
        "keywords": {"type": "array", "minItems": 1, "uniqueItems": True, "items": TEXT},
        "notes": TEXT,
    },
}  # fmt: skip


def test_citation_cites_the_data() -> None:
    document = build_citation(
        experiment="EG078B", metadata=META, version=1, date="2026-01-01T00:00:00+00:00",
        notebook_url="https://a/x", folder_url="https://a/y",
    )  # fmt: skip
    document["references"] = [data_reference(OBS)]
    read = yaml.safe_load(to_yaml(document))
    assert read == document
    (reference,) = read["references"]
    jsonschema.validate(reference, REFERENCE)
    assert [i["value"] for i in reference["identifiers"]] == [p.did for p in OBS.products]
    assert reference["url"] == "https://archive.example/EG078B/1"
    assert reference["date-released"] == "2022-06-03"
    assert reference["keywords"] == ["3C 345", "J1638+5720"]
