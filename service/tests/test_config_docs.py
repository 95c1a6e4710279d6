"""service/README.md's configuration table cannot drift from the traits; env vars configure them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from evn_notebook_service.config import ServiceConfig

DOC = Path(__file__).resolve().parents[1] / "README.md"
ROW = re.compile(r"^\| `(\w+)` \| `(EVN_\w+)` \| `([^`]*)` \| (.+) \|$")


def _show(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return ",".join(value)
    return str(value)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    import os

    for key in [k for k in os.environ if k.startswith("EVN_")]:
        monkeypatch.delenv(key)
    return monkeypatch


def test_docs_table_matches_the_traits(clean_env: pytest.MonkeyPatch) -> None:
    rows = {m.group(1): m.groups()[1:] for m in map(ROW.match, DOC.read_text().splitlines()) if m}
    config = ServiceConfig()
    traits = config.traits(config=True)
    assert set(rows) == set(traits)
    for name, trait in traits.items():
        env, default, meaning = rows[name]
        assert f"Env: {env}." in trait.help, name
        assert default == _show(getattr(config, name)), name
        assert meaning == trait.help.split(" Env:")[0], name


def test_every_option_is_read_from_its_variable(clean_env: pytest.MonkeyPatch) -> None:
    values = {
        "EVN_ISSUER_URL": "http://127.0.0.1:1/realms/x/",
        "EVN_SERVICE_ALGORITHMS": "RS256, PS256",
        "EVN_SERVICE_CREATE_REPOS": "false",
        "EVN_SERVICE_PORT": "9123",
        "EVN_SERVICE_MAX_NOTEBOOK_BYTES": "1000",
        "EVN_SERVICE_EXPERIMENT_PATTERN": "^X[0-9]+$",
        "EVN_GITEA_TOKEN": "secret",
    }
    for key, value in values.items():
        clean_env.setenv(key, value)
    config = ServiceConfig()
    assert config.issuer_url == "http://127.0.0.1:1/realms/x"
    assert config.algorithms == ["RS256", "PS256"]
    assert config.create_repos is False
    assert (config.port, config.max_notebook_bytes) == (9123, 1000)
    assert config.experiment_regex().fullmatch("X12")
    assert config.gitea_token == "secret"
    assert "gitea_token" not in config.traits(), "the token is never a configurable trait"
    assert config.check_complete() == ["gitea_url (EVN_GITEA_URL)"]


@pytest.mark.parametrize(
    ("trait", "value"),
    [
        ("algorithms", ["HS256"]),
        ("algorithms", ["none"]),
        ("gitea_url", "ftp://x"),
        ("issuer_url", "x"),
    ],
)
def test_unsafe_or_malformed_values_are_refused(
    clean_env: pytest.MonkeyPatch, trait: str, value: object
) -> None:
    from traitlets import TraitError

    with pytest.raises((TraitError, ValueError)):
        setattr(ServiceConfig(), trait, value)
