"""Configuration: every option comes from its environment variable, and the docs list them all."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from traitlets import TraitError
from traitlets.config import Config

from jupyterlab_evn_submit import wiring
from jupyterlab_evn_submit.config import EvnSubmitConfig
from jupyterlab_evn_submit.errors import ConfigurationError

DOCS = Path(__file__).resolve().parents[2] / "docs" / "extension.md"


def test_devstack_environment_is_all_the_configuration_needed(monkeypatch):
    monkeypatch.setenv("EVN_ISSUER_URL", "http://127.0.0.1:8180/realms/evn/")
    monkeypatch.setenv("EVN_CLIENT_ID", "evn-jupyterlab-short")
    monkeypatch.setenv("EVN_SERVICE_URL", "http://127.0.0.1:8190")
    monkeypatch.setenv("EVN_SCOPES", "openid,email offline_access")
    monkeypatch.setenv("EVN_TOKEN_KEYS", "k1, k2,")
    monkeypatch.setenv("EVN_MAX_NOTEBOOK_BYTES", "1234")
    monkeypatch.setenv("EVN_HTTP_TIMEOUT", "2.5")
    monkeypatch.setenv("EVN_VERIFY_TLS", "false")
    monkeypatch.setenv("EVN_BOOTSTRAP_TOKEN_ENV", "HUB_REFRESH")
    monkeypatch.setenv("EVN_TOKEN_STORE", "/tmp/evn-test/store")
    c = EvnSubmitConfig()
    assert c.issuer_url == "http://127.0.0.1:8180/realms/evn"  # trailing slash dropped
    assert c.client_id == "evn-jupyterlab-short"
    assert c.service_url == "http://127.0.0.1:8190"
    assert c.scopes == ["openid", "email", "offline_access"]
    assert c.token_keys == ["k1", "k2"]
    assert c.max_notebook_bytes == 1234
    assert c.http_timeout == 2.5
    assert c.tls_verify is False
    assert c.bootstrap_token_env == "HUB_REFRESH"
    assert str(c.store_path) == "/tmp/evn-test/store"


def test_defaults_ask_for_an_offline_token_and_verify_tls(monkeypatch):
    for name in EvnSubmitConfig().env_options().values():
        monkeypatch.delenv(name, raising=False)
    c = EvnSubmitConfig()
    assert "offline_access" in c.scopes and "openid" in c.scopes
    assert c.tls_verify is True
    assert c.client_id == "evn-jupyterlab"
    assert c.bootstrap_token_env == "EVN_REFRESH_TOKEN"
    assert c.store_path.name == "refresh-token"
    assert c.issuer_url == ""  # not configured: the routes say so, the server still starts


def test_traitlets_config_wins_over_the_environment(monkeypatch):
    monkeypatch.setenv("EVN_CLIENT_ID", "from-env")
    c = EvnSubmitConfig(config=Config({"EvnSubmitConfig": {"client_id": "from-config"}}))
    assert c.client_id == "from-config"


@pytest.mark.parametrize(
    "url",
    ["ftp://example.org", "http://login.example.org/realms/evn", "https://x.org/r?a=1", "nohost"],
)
def test_urls_are_checked(url):
    with pytest.raises(TraitError):
        EvnSubmitConfig(issuer_url=url)


def test_https_and_loopback_http_are_accepted():
    assert EvnSubmitConfig(issuer_url="https://login.example.org/realms/evn/").issuer_url == (
        "https://login.example.org/realms/evn"
    )
    assert EvnSubmitConfig(service_url="http://localhost:8000").service_url == (
        "http://localhost:8000"
    )


def test_ca_bundle_makes_requests_verify_against_it(tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    assert EvnSubmitConfig(ca_bundle=str(bundle)).tls_verify == str(bundle)
    with pytest.raises(TraitError):
        EvnSubmitConfig(ca_bundle=str(tmp_path / "missing.pem"))


@pytest.mark.parametrize("name", ["max_notebook_bytes", "output_budget", "http_timeout"])
def test_limits_must_be_positive(name):
    with pytest.raises(TraitError):
        EvnSubmitConfig(**{name: 0})


def test_every_trait_names_its_environment_variable_in_its_help():
    options = EvnSubmitConfig().env_options()
    assert set(options) == set(EvnSubmitConfig().traits(config=True))
    for name, env in options.items():
        assert env.startswith("EVN_")
        assert env in EvnSubmitConfig.class_traits()[name].help, name


def test_docs_table_lists_exactly_the_traits():
    """docs/extension.md's option table cannot drift from the traits."""
    rows = re.findall(r"^\| `(\w+)` \| `(EVN_\w+)` \|", DOCS.read_text(), flags=re.M)
    assert dict(rows) == EvnSubmitConfig().env_options()


@pytest.mark.parametrize(
    ("variable", "value"),
    [("EVN_LOGIN_TIMEOUT", "ten"), ("EVN_HTTP_TIMEOUT", "-1"), ("EVN_ISSUER_URL", "nohost")],
)
def test_an_invalid_environment_value_is_a_configuration_error_naming_it(
    monkeypatch, variable, value
):
    """Read lazily, a bad variable would crash the first route that needs it; ``wiring`` reads
    every option up front, so it is reported like a bad c.EvnSubmitConfig value."""
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError) as e:
        wiring.checked_config(EvnSubmitConfig)
    assert "not valid" in e.value.message
    assert variable in e.value.message or variable.lower()[4:] in e.value.message


def test_wire_disables_only_what_is_missing(monkeypatch, tmp_path):
    log = logging.getLogger("test")
    monkeypatch.delenv("EVN_ISSUER_URL", raising=False)
    config = Config({"EvnSubmitConfig": {"service_url": "http://127.0.0.1:1", "login_timeout": 7}})
    config.EvnSubmitConfig.token_store = str(tmp_path / "store")
    wired = wiring.wire(lambda: EvnSubmitConfig(config=config), log)
    assert wired.tokens is None and wired.client is not None
    assert wired.problem is not None and "EVN_ISSUER_URL is not set" in wired.problem
    config.EvnSubmitConfig.issuer_url = "http://127.0.0.1:1/realms/evn"
    wired = wiring.wire(lambda: EvnSubmitConfig(config=config), log)
    assert wired.problem is None and wired.tokens is not None
    assert wired.tokens.login_timeout == 7  # the trait reaches the token manager
