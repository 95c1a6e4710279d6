"""The catalogue client against devstack's real DaCHS (its ObsCore table, through pyvo) and
against TAP services that cannot answer: a closed port, and one that accepts and never replies."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone

import pytest
from evn_notebook_service.catalogue import Catalogue, CatalogueUnavailable
from evn_notebook_service.config import ServiceConfig
from svc_process import free_port

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def tap_url(stack: dict[str, str]) -> str:
    url = stack.get("EVN_TAP_URL", "")
    assert url, "devstack env prints no EVN_TAP_URL: the stack has no catalogue"
    return url


@pytest.fixture(scope="module")
def seed() -> list[dict]:
    from devstack.dachs import SEED

    return SEED


def by_code(seed: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for row in seed:
        out.setdefault(row["obs_id"], []).append(row)
    return out


def test_an_experiment_as_the_seed_has_it(tap_url: str, seed: list[dict]) -> None:
    rows = by_code(seed)["EG078B"]
    catalogue = Catalogue(ServiceConfig(tap_url=tap_url))
    obs = asyncio.run(catalogue.observation("eg078b"))
    assert obs is not None and obs.experiment == "EG078B"
    assert [t.name for t in obs.targets] == list(dict.fromkeys(r["target_name"] for r in rows))
    assert {(p.did, p.access_url) for p in obs.products} == {
        (r["obs_publisher_did"], r["access_url"]) for r in rows
    }
    first = next(t for t in obs.targets if t.name == rows[0]["target_name"])
    assert first.ra == pytest.approx(rows[0]["s_ra"]) and first.dec == pytest.approx(
        rows[0]["s_dec"]
    )
    assert obs.public_from.date() == date.fromisoformat(rows[0]["public_from"])
    assert obs.public_from == obs.end + timedelta(days=365)
    assert obs.public(datetime.now(timezone.utc))


def test_a_proprietary_experiment_is_not_public_yet(tap_url: str, seed: list[dict]) -> None:
    row = next(r for r in seed if r["embargo"])
    obs = asyncio.run(Catalogue(ServiceConfig(tap_url=tap_url)).observation(row["obs_id"]))
    assert obs is not None and not obs.public(datetime.now(timezone.utc))
    assert obs.public_from.date() == date.fromisoformat(row["embargo"])


def test_unknown_code_and_suggestions_from_the_known_codes(tap_url: str, seed: list[dict]) -> None:
    known = set(by_code(seed))
    code = next(
        c for c in sorted(known) if c[2] != c[3] and c[:2] + c[3] + c[2] + c[4:] not in known
    )
    typo = code[:2] + code[3] + code[2] + code[4:]  # two digits swapped
    catalogue = Catalogue(ServiceConfig(tap_url=tap_url))

    async def run() -> tuple[object, list[str]]:
        return await catalogue.observation(typo), await catalogue.suggestions(typo)

    found, close = asyncio.run(run())
    assert found is None
    assert code in close and set(close) <= known and len(close) <= 3


def test_a_closed_port_is_503_at_once() -> None:
    catalogue = Catalogue(ServiceConfig(tap_url=f"http://127.0.0.1:{free_port()}/tap"))
    started = time.monotonic()
    with pytest.raises(CatalogueUnavailable) as e:
        asyncio.run(catalogue.require("EG078B"))
    assert e.value.status == 503 and e.value.retry_after > 0
    assert "cannot be reached" in e.value.message and "try again later" in e.value.message
    assert time.monotonic() - started < 30  # the import of pyvo included


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A TCP server that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/tap"
    stop.set()
    thread.join(5)
    for conn in held:
        conn.close()
    server.close()


def test_a_catalogue_that_does_not_answer_is_503_after_the_timeout(silent_server: str) -> None:
    config = ServiceConfig(tap_url=silent_server, catalogue_timeout_seconds=1.5)
    catalogue = Catalogue(config)

    async def run() -> float:
        await catalogue.prepare()  # pyvo's import is not the query's time
        started = time.monotonic()
        with pytest.raises(CatalogueUnavailable) as e:
            await catalogue.require("EG078B")
        assert "try again later" in e.value.message
        return time.monotonic() - started

    assert 1.0 <= asyncio.run(run()) < 6
