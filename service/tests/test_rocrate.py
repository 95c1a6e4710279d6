"""ro-crate-metadata.json meets RO-Crate 1.1's requirements for the root and its parts."""

from __future__ import annotations

import hashlib

from evn_notebook_service.rocrate import CONTEXT, PROFILE, build_crate

META = {
    "title": "Calibration",
    "description": "",
    "authors": [
        {"name": "A", "orcid": "https://orcid.org/0000-0002-1825-0097", "affiliation": "JIVE"},
        {"name": "B"},
    ],
    "license": "CC-BY-4.0",
    "keywords": ["evn"],
}


def crate(provenance: bool = True) -> dict:
    return build_crate(
        experiment="EG078B",
        notebook_file="cal.ipynb",
        notebook=b"{}",
        metadata=META,
        submitter={"username": "demo", "name": "Demo", "email": "d@x"},
        version=3,
        date="2026-01-01T00:00:00+00:00",
        language="python",
        provenance_file="provenance.json" if provenance else None,
    )


def test_crate_has_the_required_descriptor_and_root() -> None:
    c = crate()
    assert c["@context"] == CONTEXT
    by_id = {e["@id"]: e for e in c["@graph"]}
    assert len(by_id) == len(c["@graph"]), "every @id appears once"
    descriptor = by_id["ro-crate-metadata.json"]
    assert descriptor["conformsTo"] == {"@id": PROFILE}
    assert descriptor["about"] == {"@id": "./"}
    root = by_id["./"]
    assert root["@type"] == "Dataset"
    for prop in ("name", "description", "datePublished", "license"):
        assert root[prop], prop
    assert root["version"] == "3"
    # every reference points to an entity in the graph (a flat, closed graph)
    refs = [root["license"], root["about"], root["publisher"], *root["author"], *root["hasPart"]]
    assert all(r["@id"] in by_id for r in refs)
    assert {p["@id"] for p in root["hasPart"]} == {"cal.ipynb", "provenance.json"}
    nb = by_id["cal.ipynb"]
    assert "File" in nb["@type"] and nb["sha256"] == hashlib.sha256(b"{}").hexdigest()
    orcid = by_id["https://orcid.org/0000-0002-1825-0097"]
    assert orcid["@type"] == "Person" and by_id[orcid["affiliation"]["@id"]]["name"] == "JIVE"


def test_crate_without_provenance_lists_only_the_notebook() -> None:
    root = {e["@id"]: e for e in crate(provenance=False)["@graph"]}["./"]
    assert root["hasPart"] == [{"@id": "cal.ipynb"}]
    assert root["description"] == "Calibration"  # never empty: RO-Crate wants a description
