"""CITATION.cff: valid Citation File Format 1.2.0 that YAML readers read back exactly, written
into every version's folder (and created for notebooks archived before the file existed)."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from evn_notebook_service.citation import build_citation, split_name, to_yaml
from evn_notebook_service.commitbody import git_blob_sha
from evn_notebook_service.config import ServiceConfig
from evn_notebook_service.contract import licences
from evn_notebook_service.gitea import GiteaClient
from evn_notebook_service.index import Index
from evn_notebook_service.indexer import Indexer
from svc_api import GiteaInspector, body, metadata, submit
from svc_process import ServiceProcess

ORCID = "https://orcid.org/0000-0002-1825-0097"
NOTEBOOK_URL = "https://archive.example/EVN/EG078B/src/branch/main/demo/cal/cal.ipynb"
FOLDER_URL = "https://archive.example/EVN/EG078B/src/branch/main/demo/cal"
META: dict[str, Any] = {
    "title": "Calibration",
    "description": "Fringe fitting.",
    "authors": [{"name": "Jane Doe", "orcid": ORCID, "affiliation": "JIVE"}, {"name": "王小明"}],
    "license": "CC-BY-4.0",
    "keywords": ["vlbi"],
}

# The parts of the CFF 1.2.0 schema (https://citation-file-format.github.io/1.2.0/schema.json)
# this file uses, restated: required keys, no unknown keys, non-empty strings, person or entity.
TEXT = {"type": "string", "minLength": 1}
URL = {"type": "string", "pattern": "^(https|http|ftp|sftp)://.+"}
CFF_SUBSET = {
    "type": "object",
    "required": ["authors", "cff-version", "message", "title"],
    "additionalProperties": False,
    "properties": {
        "cff-version": {"type": "string", "pattern": r"^1\.2\.0$"},
        "message": TEXT, "title": TEXT, "abstract": TEXT, "version": TEXT,
        "type": {"enum": ["dataset", "software"]},
        "date-released": {"type": "string", "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
        "license": TEXT, "url": URL, "repository-code": URL,
        "keywords": {"type": "array", "minItems": 1, "uniqueItems": True, "items": TEXT},
        "authors": {
            "type": "array", "minItems": 1, "uniqueItems": True,
            "items": {"anyOf": [
                {"type": "object", "additionalProperties": False, "required": ["family-names"],
                 "properties": {"family-names": TEXT, "given-names": TEXT, "affiliation": TEXT,
                                "orcid": {"pattern": r"^https://orcid\.org/[0-9]{4}-[0-9]{4}-"
                                                     r"[0-9]{4}-[0-9]{3}[0-9X]$"}}},
                {"type": "object", "additionalProperties": False, "required": ["name"],
                 "properties": {"name": TEXT, "orcid": {"pattern": r"^https://orcid\.org/"}}},
            ]},
        },
    },
}  # fmt: skip


def cff(meta: dict[str, Any] | None = None, version: int = 3) -> dict[str, Any]:
    return build_citation(
        experiment="EG078B",
        metadata=meta or META,
        version=version,
        date="2026-01-02T03:04:05+00:00",
        notebook_url=NOTEBOOK_URL,
        folder_url=FOLDER_URL,
    )


def read_back(document: dict[str, Any]) -> Any:
    """What a YAML reader makes of the written file (and it must be what was meant)."""
    text = to_yaml(document)
    assert yaml.safe_load(text) == document, text
    return document


def test_the_file_is_cff_1_2_0_describing_the_version() -> None:
    doc = read_back(cff())
    jsonschema.validate(doc, CFF_SUBSET)
    assert doc["cff-version"] == "1.2.0" and doc["type"] == "software"
    assert doc["title"] == "Calibration" and doc["version"] == "3"
    assert doc["date-released"] == "2026-01-02"
    assert doc["license"] == "CC-BY-4.0"
    assert (doc["url"], doc["repository-code"]) == (NOTEBOOK_URL, FOLDER_URL)
    assert "version 3" in doc["message"] and "permalink" in doc["message"]


def test_authors_keep_orcid_and_affiliation_and_split_only_safe_names() -> None:
    first, second = cff()["authors"]
    assert first == {
        "family-names": "Doe", "given-names": "Jane", "affiliation": "JIVE", "orcid": ORCID
    }  # fmt: skip
    assert second == {"name": "王小明"}  # no case, no safe split: the name as given
    # a name that does not split keeps its ORCID (CFF's entity has no affiliation)
    ludwig = {"name": "Ludwig van Beethoven", "orcid": ORCID}
    assert cff({**META, "authors": [{**ludwig, "affiliation": "X"}]})["authors"] == [ludwig]


@pytest.mark.parametrize(
    ("name", "split"),
    [
        ("Jane Doe", ("Doe", "Jane")),
        ("J. Doe", ("Doe", "J.")),
        ("Jean-Luc O'Brien", ("O'Brien", "Jean-Luc")),
        ("Élodie Durand", ("Durand", "Élodie")),
        ("Doe, Jane", ("Doe", "Jane")),
        ("de Vries, Jan", ("de Vries", "Jan")),
        ("Mary Jane Doe", None),  # given names or family names? not guessed
        ("Ludwig van Beethoven", None),
        ("Jan de", None),
        ("Madonna", None),
        ("EVN Team 2", None),
        ("Team 2, Inc", None),
        ("Doe, Jane, Jr.", None),
    ],
)
def test_names_split_only_when_unambiguous(name: str, split: tuple[str, str] | None) -> None:
    assert split_name(name) == split


def test_the_experiment_is_named_in_keywords_and_abstract() -> None:
    doc = cff()
    assert doc["keywords"] == ["vlbi", "EVN", "EG078B"]
    about = "Jupyter notebook archived for EVN experiment EG078B."
    assert doc["abstract"] == "Fringe fitting.\n\n" + about
    bare = cff({**META, "description": "", "keywords": ["evn", "eg078b"]})
    assert bare["keywords"] == ["evn", "eg078b"], "no repeats, whatever their case"
    assert bare["abstract"] == about


def test_repeated_authors_are_listed_once() -> None:
    meta = {**META, "authors": [META["authors"][0], META["authors"][0]]}
    doc = read_back(cff(meta))
    jsonschema.validate(doc, CFF_SUBSET)
    assert len(doc["authors"]) == 1


@pytest.mark.parametrize(
    "text",
    [
        'He said "yes": no',
        "key: value # not a comment",
        "- not a list\n  two: lines\n\nand a blank one\twith a tab",
        "'single' \\ backslash {flow} [seq] & *alias !tag %dir @at `tick` |pipe >fold",
        "Ångström, Müller, Dvořák, 電波望遠鏡, Ελληνικά, 🔭 telescope",
        "line\u2028separator, paragraph\u2029separator, next\u0085line, del\u007f, bom\ufeff",
        "null",
        "yes",
        "1.0",
        "2026-01-01",
        " leading and trailing spaces ",
    ],
)
def test_any_text_survives_the_round_trip(text: str) -> None:
    meta = {
        **META,
        "title": text,
        "description": text,
        "keywords": [text],
        "authors": [{"name": text, "affiliation": text}, {"name": "A B", "affiliation": text}],
    }
    doc = read_back(cff(meta))
    assert doc["title"] == text and doc["keywords"][0] == text
    assert doc["authors"][1]["affiliation"] == text


def test_the_file_is_ascii_only_where_yaml_needs_it() -> None:
    """Names stay readable (UTF-8), but line separators never appear raw: YAML folds them."""
    text = to_yaml(cff({**META, "title": "Müller\u2028x"}))
    assert "Müller" in text and "\u2028" not in text and "\\u2028" in text


def test_every_licence_of_the_contract_is_a_plain_spdx_id() -> None:
    for licence in licences():
        doc = read_back(cff({**META, "license": licence}))
        assert doc["license"] == licence


# --- in the real archive ------------------------------------------------------------------------


def gitea_cff(gitea: GiteaInspector, code: str, path: str) -> tuple[str, dict[str, Any]]:
    r = gitea.raw(code, path)
    assert r.status_code == 200, f"{path}: {r.status_code}"
    return r.text, yaml.safe_load(r.text)


def make_it_as_before(gitea: GiteaInspector, code: str, folder: str, state_path: str) -> None:
    """The folder as a service without CITATION.cff left it: no file, no entry in the state."""
    contents = f"/repos/{gitea.org}/{code}/contents/"
    cff_sha = gitea.api(contents + f"{folder}/CITATION.cff").json()["sha"]
    state_info = gitea.api(contents + state_path).json()
    state = json.loads(base64.b64decode(state_info["content"]))
    del state["files"][f"{folder}/CITATION.cff"]
    r = gitea.session.post(
        f"{gitea.url}/api/v1{contents}".rstrip("/"),
        json={
            "branch": "main",
            "message": "as archived before CITATION.cff",
            "files": [
                {"operation": "delete", "path": f"{folder}/CITATION.cff", "sha": cff_sha},
                {
                    "operation": "update",
                    "path": state_path,
                    "sha": state_info["sha"],
                    "content": base64.b64encode(json.dumps(state).encode()).decode(),
                },
            ],
        },
        timeout=60,
    )
    assert r.status_code == 201, r.text


def reindexed(stack: dict[str, str], mp: pytest.MonkeyPatch, path: Path, code: str) -> Any:
    """``code``'s notebooks as the reader that rebuilds the index from Gitea finds them."""
    for key in ("EVN_ISSUER_URL", "EVN_GITEA_URL", "EVN_GITEA_ORG", "EVN_GITEA_TOKEN"):
        mp.setenv(key, stack[key])
    config = ServiceConfig()

    async def run() -> Any:
        index = Index(f"sqlite:///{path}")
        try:
            await asyncio.to_thread(index.migrate)
            await Indexer(config, GiteaClient(config), index).reindex_repo(code)
            return index.experiment_page(code, 100, None).items
        finally:
            index.dispose()

    return [(i["folder"], i["version"], i["title"]) for i in asyncio.run(run())]


@pytest.mark.stack
def test_every_version_writes_the_folder_s_citation(
    service: ServiceProcess,
    token: Callable[..., str],
    gitea: GiteaInspector,
    code: str,
    stack: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    path, state_path = "demo/cite/CITATION.cff", ".evn/notebooks/demo/cite.json"
    first = submit(service.url, code, token(), body(name="cite"))
    assert first.status_code == 201, first.text
    text, doc = gitea_cff(gitea, code, path)
    for key in ("cff-version:", "title:", "authors:", "0000-0002-1825-0097"):
        assert key in text
    jsonschema.validate(doc, CFF_SUBSET)
    assert doc["title"] == metadata()["title"] and doc["version"] == "1"
    assert doc["authors"][0]["orcid"] == ORCID and code in doc["keywords"]
    assert doc["url"].endswith(f"/{gitea.org}/{code}/src/branch/main/demo/cite/cite.ipynb")
    assert gitea.session.get(doc["url"], timeout=30).status_code == 200
    assert gitea.session.get(doc["repository-code"], timeout=30).status_code == 200
    state = gitea.raw(code, state_path).json()
    assert state["files"][path] == git_blob_sha(text.encode())

    second = submit(service.url, code, token(), body(name="cite", metadata=metadata("Second")))
    assert second.status_code == 201, second.text
    _, doc = gitea_cff(gitea, code, path)
    assert (doc["version"], doc["title"]) == ("2", "Second")
    # the reader of the index takes the folder's new file for nothing (no notebook, no version)
    index = tmp_path / "index.sqlite"
    assert reindexed(stack, monkeypatch, index, code) == [("demo/cite", 2, "Second")]

    # a notebook archived before CITATION.cff existed: its next version creates the file
    make_it_as_before(gitea, code, "demo/cite", state_path)
    third = submit(service.url, code, token(), body(name="cite"))
    assert third.status_code == 201 and third.json()["version"] == 3, third.text
    text, doc = gitea_cff(gitea, code, path)
    assert doc["version"] == "3"
    assert gitea.raw(code, state_path).json()["files"][path] == git_blob_sha(text.encode())
