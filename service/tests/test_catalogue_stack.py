"""Submissions checked against the real catalogue (devstack's DaCHS), end to end through a
service process of this checkout: an unknown code is refused before anything is written, a
public experiment's notebook names its observation (RO-Crate, CITATION.cff, the answer), a
proprietary one's repository is private, and a catalogue that is down is a 503 that writes
nothing."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
import requests
import yaml
from svc_api import GiteaInspector, OpenAPI, body, metadata, submit
from svc_process import ServiceProcess, free_port

pytestmark = pytest.mark.stack

SUBMIT = "/api/v1/experiments/{code}/notebooks"
OBSERVATION = "/api/v1/experiments/{code}/observation"


@pytest.fixture(scope="module")
def seed() -> dict[str, list[dict]]:
    from devstack.dachs import SEED

    out: dict[str, list[dict]] = {}
    for row in SEED:
        out.setdefault(row["obs_id"], []).append(row)
    return out


@pytest.fixture(scope="module")
def catalogued(stack: dict[str, str], service_logs: Path) -> Iterator[ServiceProcess]:
    """A service with devstack's catalogue, as devstack configures its own."""
    assert stack.get("EVN_TAP_URL"), "devstack env prints no EVN_TAP_URL"
    with ServiceProcess(
        stack, service_logs, "catalogue",
        EVN_TAP_URL=stack["EVN_TAP_URL"], EVN_CATALOGUE_CODES=stack["EVN_CATALOGUE_CODES"],
    ) as proc:  # fmt: skip
        yield proc


@pytest.fixture(scope="module")
def doc(catalogued: ServiceProcess) -> OpenAPI:
    return OpenAPI(requests.get(catalogued.url + "/api/v1/openapi.json", timeout=10).json())


def unknown_code(known: set[str]) -> str:
    """A code of the EVN's shape the catalogue does not know and Gitea has no repository of."""
    while True:
        code = f"EZ{random.randint(100, 999)}Q"
        if code not in known:
            return code


def anonymous_status(stack: dict[str, str], code: str) -> int:
    url = f"{stack['EVN_GITEA_URL'].rstrip('/')}/api/v1/repos/{stack['EVN_GITEA_ORG']}/{code}"
    return requests.get(url, timeout=30).status_code


def test_unknown_code_is_404_with_suggestions_and_no_repository(
    catalogued: ServiceProcess, doc: OpenAPI, token: Callable[..., str], gitea: GiteaInspector,
    seed: dict[str, list[dict]],
) -> None:  # fmt: skip
    code = unknown_code(set(seed))
    r = submit(catalogued.url, code, token(), body())
    answer = doc.check(SUBMIT, "post", r)
    assert r.status_code == 404, r.text
    assert answer["error"] == "UnknownExperiment" and len(answer["suggestions"]) <= 3
    assert set(answer["suggestions"]) <= set(seed)
    assert f"experiment {code} is not in the EVN archive's catalogue" in answer["message"]
    assert not gitea.repo_exists(code), "a refused code must leave no repository"
    # the observation route says the same, with the close codes of a typo
    known, typo = next(
        (k, k[:5] + "Z") for k in sorted(seed) if len(k) == 6 and k[:5] + "Z" not in seed
    )
    r = requests.get(catalogued.url + OBSERVATION.format(code=typo.lower()), timeout=30)
    assert r.status_code == 404 and known in doc.check(OBSERVATION, "get", r)["suggestions"]


def test_observation_route(catalogued: ServiceProcess, doc: OpenAPI, seed: dict) -> None:
    r = requests.get(catalogued.url + OBSERVATION.format(code="eg078b"), timeout=30)
    obs = doc.check(OBSERVATION, "get", r)
    assert r.status_code == 200 and obs["catalogued"] is True and obs["public"] is True
    assert {p["did"] for p in obs["products"]} == {r["obs_publisher_did"] for r in seed["EG078B"]}
    r = requests.get(catalogued.url + OBSERVATION.format(code="T1234AB"), timeout=30)
    assert doc.check(OBSERVATION, "get", r) == {"experiment": "T1234AB", "catalogued": False}
    r = requests.get(catalogued.url + OBSERVATION.format(code="not a code"), timeout=30)
    assert r.status_code == 400


def test_public_experiment_names_its_observation(
    catalogued: ServiceProcess, doc: OpenAPI, token: Callable[..., str], gitea: GiteaInspector,
    seed: dict[str, list[dict]],
) -> None:  # fmt: skip
    title = f"Catalogue link {random.randint(0, 10**9)}"
    r = submit(catalogued.url, "EG078B", token(), body(metadata=metadata(title)))
    result = doc.check(SUBMIT, "post", r)
    assert r.status_code == 201, r.text
    assert result["public_from"] is None and result["observation"]["public"] is True
    dids = {row["obs_publisher_did"] for row in seed["EG078B"]}
    urls = {row["access_url"] for row in seed["EG078B"]}
    assert {p["did"] for p in result["observation"]["products"]} == dids
    folder, commit = result["folder"], result["commit"]
    crate = gitea.raw("EG078B", f"{folder}/ro-crate-metadata.json", commit).json()
    by_id = {e["@id"]: e for e in crate["@graph"]}
    observation = by_id[by_id["./"]["isBasedOn"]["@id"]]
    assert observation["name"] == "EVN experiment EG078B"
    assert set(observation["identifier"]) == dids and observation["url"] in urls
    assert {d["@id"] for d in observation["distribution"]} == urls
    assert all(by_id[d["@id"]]["@type"] == "DataDownload" for d in observation["distribution"])
    targets = {by_id[a["@id"]]["name"] for a in observation["about"][1:]}
    assert targets == {row["target_name"] for row in seed["EG078B"]}
    cff = yaml.safe_load(gitea.raw("EG078B", f"{folder}/CITATION.cff", commit).text)
    (data,) = cff["references"]
    assert data["type"] == "data" and data["title"] == "EVN experiment EG078B"
    assert {i["value"] for i in data["identifiers"]} == dids and data["url"] in urls


def proprietary_codes(seed: dict[str, list[dict]]) -> list[str]:
    return sorted(code for code, rows in seed.items() if rows[0]["embargo"])


def test_proprietary_experiment_repository_is_private(
    stack: dict[str, str], catalogued: ServiceProcess, doc: OpenAPI,
    token: Callable[..., str], gitea: GiteaInspector, seed: dict[str, list[dict]],
) -> None:  # fmt: skip
    code = proprietary_codes(seed)[-1]
    # its repository public beforehand (made before a catalogue was configured, say)
    if not gitea.repo_exists(code):
        gitea.session.post(
            f"{gitea.url}/api/v1/orgs/{gitea.org}/repos",
            json={"name": code, "auto_init": True, "default_branch": "main"}, timeout=30,
        ).raise_for_status()  # fmt: skip
    gitea.session.patch(
        f"{gitea.url}/api/v1/repos/{gitea.org}/{code}", json={"private": False}, timeout=30
    ).raise_for_status()
    assert anonymous_status(stack, code) == 200
    title = f"Embargoed {random.randint(0, 10**9)}"
    r = submit(catalogued.url, code, token(), body(metadata=metadata(title)))
    result = doc.check(SUBMIT, "post", r)
    assert r.status_code == 201, r.text
    embargo = seed[code][0]["embargo"]
    assert result["public_from"][:10] == embargo
    assert result["observation"]["public"] is False
    assert datetime.fromisoformat(result["public_from"].replace("Z", "+00:00")) > datetime.now(
        timezone.utc
    )
    assert anonymous_status(stack, code) == 404, "a proprietary notebook readable anonymously"
    assert gitea.repo_exists(code)


def test_a_new_proprietary_repository_is_created_private(
    stack: dict[str, str], catalogued: ServiceProcess, token: Callable[..., str],
    gitea: GiteaInspector, seed: dict[str, list[dict]],
) -> None:  # fmt: skip
    code = proprietary_codes(seed)[-2]  # this test's own: its repository is made anew
    gitea.delete_repo(code)
    assert not gitea.repo_exists(code)
    r = submit(catalogued.url, code, token(), body())
    assert r.status_code == 201, r.text
    assert anonymous_status(stack, code) == 404 and gitea.repo_exists(code)
    assert gitea.api(f"/repos/{gitea.org}/{code}").json()["private"] is True


def test_catalogue_down_is_503_and_writes_nothing(
    stack: dict[str, str], service_logs: Path, token: Callable[..., str],
    gitea: GiteaInspector, seed: dict[str, list[dict]],
) -> None:  # fmt: skip
    down = f"http://127.0.0.1:{free_port()}/tap"
    with ServiceProcess(
        stack, service_logs, "catalogue-down",
        EVN_TAP_URL=down, EVN_CATALOGUE_CODES=stack["EVN_CATALOGUE_CODES"],
    ) as proc:  # fmt: skip
        doc = OpenAPI(requests.get(proc.url + "/api/v1/openapi.json", timeout=10).json())
        code = unknown_code(set(seed))
        r = submit(proc.url, code, token(), body())
        answer = doc.check(SUBMIT, "post", r)
        assert r.status_code == 503 and int(r.headers["Retry-After"]) > 0
        assert answer["error"] == "CatalogueUnavailable" and "try again later" in answer["message"]
        assert not gitea.repo_exists(code)
        before = gitea.commit_count("EG078B")
        r = submit(proc.url, "EG078B", token(), body())
        assert r.status_code == 503 and gitea.commit_count("EG078B") == before
        r = requests.get(proc.url + OBSERVATION.format(code="EG078B"), timeout=30)
        assert doc.check(OBSERVATION, "get", r)["error"] == "CatalogueUnavailable"
        # out of the catalogue's scope: the pattern alone decides, as before
        r = submit(proc.url, f"T{random.randint(1000, 9999)}CAT", token(), body())
        assert r.status_code == 201, r.text
        assert json.loads(r.text)["observation"] is None
