"""Fixtures of the command-line tests.

``cli_env`` is the environment of a pipeline: the real stack's ``EVN_*`` settings, an isolated
Jupyter config/data directory and token store. ``logged_in`` is one device login of the demo
researcher (approved over HTTP on Keycloak's pages) shared by the tests that need a login.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from clihelpers import Result, clean_env, device_login
from cryptography.fernet import Fernet

CLI_KEY = Fernet.generate_key().decode()
BOOTSTRAP_ENV = "EVN_TEST_CLI_BOOTSTRAP_TOKEN"


def make_env(stack: dict[str, str], home: Path, **overrides: str) -> dict[str, str]:
    (home / "config").mkdir(parents=True, exist_ok=True)
    settings = {
        "EVN_ISSUER_URL": stack["EVN_ISSUER_URL"],
        "EVN_CLIENT_ID": stack["EVN_CLIENT_ID"],
        "EVN_SERVICE_URL": stack["EVN_SERVICE_URL"],
        "EVN_TOKEN_STORE": str(home / "store" / "refresh-token"),
        "EVN_TOKEN_KEYS": CLI_KEY,
        "EVN_BOOTSTRAP_TOKEN_ENV": BOOTSTRAP_ENV,
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_DATA_DIR": str(home / "data"),
    }
    return clean_env(**(settings | overrides))


@pytest.fixture
def env_for(stack: dict[str, str], tmp_path: Path) -> Callable[..., dict[str, str]]:
    """``env_for(name, **overrides)``: a pipeline environment with its own store."""

    def make(name: str = "home", **overrides: str) -> dict[str, str]:
        return make_env(stack, tmp_path / name, **overrides)

    return make


@pytest.fixture(scope="session")
def logged_in(
    stack: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, str], Result]:
    """(environment, the login command's result): the demo researcher, logged in by the device
    flow once for the session."""
    env = make_env(stack, tmp_path_factory.mktemp("cli-login"))
    result = device_login(env, stack["EVN_DEMO_USER"], stack["EVN_DEMO_PASSWORD"])
    return env, result


@pytest.fixture
def cli_env(logged_in: tuple[dict[str, str], Result]) -> dict[str, str]:
    return dict(logged_in[0])


@pytest.fixture
def store_of() -> Callable[[dict[str, str]], Any]:
    from jupyterlab_evn_submit.tokenstore import TokenStore

    return lambda env: TokenStore(env["EVN_TOKEN_STORE"], [CLI_KEY]).load()
