"""Configuration of the server extension: one trait per option, each read from its environment
variable, so that ``eval "$(python3 -m devstack env)"`` is all a Jupyter server needs.

Every trait carries its variable in the ``env`` metadata; ``docs/extension.md`` lists them and a
test checks that table against these traits. Reading the configuration never touches the network.

The secrets (``SECRET_VARIABLES`` and the bootstrap token's variable) are removed from the
environment once the configuration is read (``wiring.checked_config``), so that kernels and
terminals started by the server do not inherit them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jupyter_core.paths import jupyter_data_dir
from traitlets import Bool, Float, Int, List, TraitError, Unicode, default, validate
from traitlets.config import Configurable

from .contract import limit

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
#: secrets read from the environment, then removed from it (besides the bootstrap token)
SECRET_VARIABLES = ("EVN_TOKEN_KEYS", "EVN_CLIENT_SECRET")
DEFAULT_BOOTSTRAP_ENV = "EVN_REFRESH_TOKEN"
OUTPUT_POLICIES = ("keep", "strip", "strip-large")


def _env(name: str, fallback: str = "") -> str:
    return os.environ.get(name, fallback).strip()


def _env_positive(name: str, fallback: str, kind: type[int] | type[float]) -> Any:
    """A positive number from the environment (traitlets does not run ``@validate`` on
    defaults, so the check is made here too)."""
    raw = _env(name, fallback)
    try:
        value = kind(raw)
    except ValueError as e:
        raise TraitError(f"{name} must be a number, got {raw!r}") from e
    if value <= 0:
        raise TraitError(f"{name} must be positive, got {raw!r}")
    return value


def check_url(value: str, what: str) -> str:
    """An ``http(s)`` URL without a trailing slash; plain http only on a loopback host."""
    value = value.strip().rstrip("/")
    if not value:
        return value
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TraitError(f"{what} must be an http(s) URL, got {value!r}")
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        raise TraitError(f"{what} must use https (plain http is allowed on 127.0.0.1 only)")
    if parts.query or parts.fragment:
        raise TraitError(f"{what} must not carry a query or fragment, got {value!r}")
    return value


class EvnSubmitConfig(Configurable):
    """Settings of the EVN archive server extension (``c.EvnSubmitConfig.<name>``)."""

    issuer_url = Unicode(
        help="OpenID Connect issuer of the EVN Keycloak realm, e.g. "
        "https://login.example.org/realms/evn (env EVN_ISSUER_URL).",
    ).tag(config=True, env="EVN_ISSUER_URL")

    client_id = Unicode(
        help="OAuth client id registered at Keycloak for JupyterLab (env EVN_CLIENT_ID).",
    ).tag(config=True, env="EVN_CLIENT_ID")

    client_secret = Unicode(
        help="Client secret, only for a confidential client; empty for the usual public client "
        "(env EVN_CLIENT_SECRET).",
    ).tag(config=True, env="EVN_CLIENT_SECRET")

    scopes = List(
        Unicode(),
        help="Scopes requested at login, space or comma separated in the environment. "
        "offline_access keeps the login across SSO session ends and server restarts "
        "(env EVN_SCOPES).",
    ).tag(config=True, env="EVN_SCOPES")

    service_url = Unicode(
        help="Root URL of the EVN notebook service, without /api/v1 (env EVN_SERVICE_URL).",
    ).tag(config=True, env="EVN_SERVICE_URL")

    token_store = Unicode(
        help="File holding the encrypted refresh token; created 0600 "
        "(env EVN_TOKEN_STORE, default <jupyter data dir>/evn-submit/refresh-token).",
    ).tag(config=True, env="EVN_TOKEN_STORE")

    token_keys = List(
        Unicode(),
        help="Fernet keys encrypting the token store, comma separated; the first encrypts, all "
        "decrypt (rotation). When empty a key is generated into <token store>.key, mode 0600 "
        "(env EVN_TOKEN_KEYS).",
    ).tag(config=True, env="EVN_TOKEN_KEYS")

    bootstrap_token_env = Unicode(
        help="Name of the environment variable that may hold a refresh token handed over by "
        "JupyterHub; used once when no token is stored (env EVN_BOOTSTRAP_TOKEN_ENV, default "
        "EVN_REFRESH_TOKEN).",
    ).tag(config=True, env="EVN_BOOTSTRAP_TOKEN_ENV")

    max_notebook_bytes = Int(
        help="Largest notebook (bytes, after the output policy) that may be submitted; checked "
        "before any network call (env EVN_MAX_NOTEBOOK_BYTES).",
    ).tag(config=True, env="EVN_MAX_NOTEBOOK_BYTES")

    output_budget = Int(
        help="Default per-output size budget (bytes) of the 'strip-large' output policy "
        "(env EVN_OUTPUT_BUDGET).",
    ).tag(config=True, env="EVN_OUTPUT_BUDGET")

    http_timeout = Float(
        help="Timeout in seconds of each call to Keycloak and the notebook service "
        "(env EVN_HTTP_TIMEOUT).",
    ).tag(config=True, env="EVN_HTTP_TIMEOUT")

    verify_tls = Bool(
        help="Verify TLS certificates of Keycloak and the notebook service; 0/false only for "
        "testing (env EVN_VERIFY_TLS).",
    ).tag(config=True, env="EVN_VERIFY_TLS")

    ca_bundle = Unicode(
        help="PEM file of certificate authorities to trust instead of the system's "
        "(env EVN_CA_BUNDLE).",
    ).tag(config=True, env="EVN_CA_BUNDLE")

    login_timeout = Int(
        help="Seconds a started browser or device login stays valid at most; a device login "
        "expires sooner when Keycloak's device code does (env EVN_LOGIN_TIMEOUT).",
    ).tag(config=True, env="EVN_LOGIN_TIMEOUT")

    callback_url = Unicode(
        help="The login's redirect URI, when not this server's own {base_url}evn-submit/callback: "
        "on JupyterHub https://<portal>/hub/user-redirect/evn-submit/callback, one exact URI "
        "registered at Keycloak for all users (env EVN_CALLBACK_URL).",
    ).tag(config=True, env="EVN_CALLBACK_URL")

    #: the bootstrap refresh token, taken out of the environment at start (not an option)
    bootstrap_token = Unicode("")

    # --- defaults from the environment -----------------------------------------------------

    @default("issuer_url")
    def _issuer_default(self) -> str:
        return check_url(_env("EVN_ISSUER_URL"), "EVN_ISSUER_URL")

    @default("client_id")
    def _client_id_default(self) -> str:
        return _env("EVN_CLIENT_ID", "evn-jupyterlab")

    @default("client_secret")
    def _client_secret_default(self) -> str:
        return _env("EVN_CLIENT_SECRET")

    @default("scopes")
    def _scopes_default(self) -> list[str]:
        raw = _env("EVN_SCOPES", "openid profile email offline_access")
        return [s for s in raw.replace(",", " ").split() if s]

    @default("service_url")
    def _service_default(self) -> str:
        return check_url(_env("EVN_SERVICE_URL"), "EVN_SERVICE_URL")

    @default("token_store")
    def _store_default(self) -> str:
        return _env("EVN_TOKEN_STORE") or str(
            Path(jupyter_data_dir()) / "evn-submit" / "refresh-token"
        )

    @default("token_keys")
    def _keys_default(self) -> list[str]:
        return [k.strip() for k in _env("EVN_TOKEN_KEYS").split(",") if k.strip()]

    @default("bootstrap_token_env")
    def _bootstrap_default(self) -> str:
        return _env("EVN_BOOTSTRAP_TOKEN_ENV", DEFAULT_BOOTSTRAP_ENV)

    @default("max_notebook_bytes")
    def _max_default(self) -> int:
        return _env_positive("EVN_MAX_NOTEBOOK_BYTES", str(limit("max_notebook_bytes")), int)

    @default("output_budget")
    def _budget_default(self) -> int:
        return _env_positive("EVN_OUTPUT_BUDGET", str(1024 * 1024), int)

    @default("http_timeout")
    def _timeout_default(self) -> float:
        return _env_positive("EVN_HTTP_TIMEOUT", "30", float)

    @default("verify_tls")
    def _verify_default(self) -> bool:
        return _env("EVN_VERIFY_TLS", "true").lower() not in ("0", "false", "no", "off")

    @default("ca_bundle")
    def _ca_default(self) -> str:
        return _env("EVN_CA_BUNDLE")

    @default("login_timeout")
    def _login_timeout_default(self) -> int:
        return _env_positive("EVN_LOGIN_TIMEOUT", "600", int)

    @default("callback_url")
    def _callback_default(self) -> str:
        return check_url(_env("EVN_CALLBACK_URL"), "EVN_CALLBACK_URL")

    # --- validation ------------------------------------------------------------------------

    @validate("issuer_url")
    def _check_issuer(self, proposal: dict[str, Any]) -> str:
        return check_url(proposal["value"], "issuer_url")

    @validate("service_url")
    def _check_service(self, proposal: dict[str, Any]) -> str:
        return check_url(proposal["value"], "service_url")

    @validate("callback_url")
    def _check_callback(self, proposal: dict[str, Any]) -> str:
        return check_url(proposal["value"], "callback_url")

    @validate("max_notebook_bytes", "output_budget", "login_timeout")
    def _check_positive(self, proposal: dict[str, Any]) -> int:
        if proposal["value"] <= 0:
            raise TraitError(f"{proposal['trait'].name} must be positive")
        return int(proposal["value"])

    @validate("http_timeout")
    def _check_timeout(self, proposal: dict[str, Any]) -> float:
        if proposal["value"] <= 0:
            raise TraitError("http_timeout must be positive")
        return float(proposal["value"])

    @validate("ca_bundle")
    def _check_ca(self, proposal: dict[str, Any]) -> str:
        value = str(proposal["value"]).strip()
        if value and not Path(value).is_file():
            raise TraitError(f"ca_bundle {value!r} is not a file")
        return value

    # --- derived ---------------------------------------------------------------------------

    @property
    def tls_verify(self) -> bool | str:
        """The ``verify`` argument for requests: a CA bundle path, or a bool."""
        if not self.verify_tls:
            return False
        return self.ca_bundle or True

    @property
    def store_path(self) -> Path:
        return Path(self.token_store).expanduser()

    def env_options(self) -> dict[str, str]:
        """``{trait name: environment variable}`` for every option (docs are checked against it)."""
        return {
            name: str(trait.metadata["env"])
            for name, trait in sorted(self.traits(config=True).items())
            if "env" in trait.metadata
        }
