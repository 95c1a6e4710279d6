"""Fixtures of the notebook-service tests: the real stack, service processes, tokens, Gitea."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from svc_api import GiteaInspector, OpenAPI, experiment_code
from svc_process import ServiceProcess
from svc_tokens import RealmKey

from devstack.testing import password_grant


@pytest.fixture(scope="session")
def service_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("service-logs")


@pytest.fixture(scope="session")
def service(stack: dict[str, str], service_logs: Path) -> Iterator[ServiceProcess]:
    """A notebook service built from this checkout, configured like devstack's."""
    with ServiceProcess(stack, service_logs, "main") as proc:
        yield proc


@pytest.fixture(scope="session")
def openapi(service: ServiceProcess) -> OpenAPI:
    return OpenAPI(requests.get(service.url + "/api/v1/openapi.json", timeout=10).json())


@pytest.fixture(scope="session")
def token(stack: dict[str, str]) -> Callable[..., str]:
    """A fresh access token for a user of the realm (the demo researcher by default)."""
    cache: dict[str, tuple[float, str]] = {}

    def get(user: str = "demo") -> str:
        login = {
            "demo": (stack["EVN_DEMO_USER"], stack["EVN_DEMO_PASSWORD"]),
            "second": (stack["EVN_SECOND_USER"], stack["EVN_SECOND_PASSWORD"]),
        }[user]
        hit = cache.get(user)
        if hit and hit[0] > time.monotonic():
            return hit[1]
        data = password_grant(stack, *login)
        cache[user] = (time.monotonic() + min(60, data["expires_in"] / 2), data["access_token"])
        return str(data["access_token"])

    return get


@pytest.fixture(scope="session")
def gitea(stack: dict[str, str]) -> GiteaInspector:
    return GiteaInspector(stack)


@pytest.fixture
def code() -> str:
    """A fresh experiment code: its repository does not exist yet."""
    return experiment_code()


@pytest.fixture(scope="session")
def realm_key(stack: dict[str, str]) -> Iterator[RealmKey]:
    """An extra signing key in the real realm's JWKS, for tokens with chosen claims."""
    key = RealmKey(stack).add()
    yield key
    key.remove()


@pytest.fixture
def new_realm_key(stack: dict[str, str]) -> Iterator[Callable[[], RealmKey]]:
    """Adds keys to the realm during a test (a kid the service has not seen yet)."""
    added: list[RealmKey] = []

    def add() -> RealmKey:
        added.append(RealmKey(stack).add())
        return added[-1]

    yield add
    for key in added:
        key.remove()
