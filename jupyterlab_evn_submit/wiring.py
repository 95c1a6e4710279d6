"""The one place that builds the objects of a process from ``EvnSubmitConfig``: the token store,
the OIDC client, the token manager and the notebook-service client.

The server extension (``routes.setup_route_handlers`` through ``wire``) and the command line
(``cli.context.Context``, one builder at a time, on first use) both build them here, so the two
cannot drift. Nothing here touches the network.

Reading the configuration (``checked_config``) also takes the secrets out of the environment
(``take_secrets``): the bootstrap refresh token, ``EVN_TOKEN_KEYS`` and ``EVN_CLIENT_SECRET``. Their
values live on in the configuration only, so kernels, terminals and other children of the process
never inherit them.
"""

from __future__ import annotations

import ctypes
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from traitlets import TraitError

from .client import ServiceClient
from .config import DEFAULT_BOOTSTRAP_ENV, SECRET_VARIABLES, EvnSubmitConfig
from .errors import ConfigurationError
from .oidc import OidcClient
from .tokens import TokenManager
from .tokenstore import TokenStore

NO_ISSUER = "EVN_ISSUER_URL is not set: there is nowhere to log in."
NO_SERVICE = "EVN_SERVICE_URL is not set: there is no archive to submit to."
INVALID = "The EVN archive configuration is not valid: {}."
ASK_OPERATOR = "Ask the operator of this Jupyter server to fix it."


def checked_config(
    make: Callable[[], EvnSubmitConfig], log: logging.Logger | None = None
) -> EvnSubmitConfig:
    """``make()``, with every option read once: an invalid value (also one read lazily from its
    environment variable) is a ``ConfigurationError`` here, not a crash at its first use. Then
    the secrets leave the environment (also when the configuration is invalid)."""
    log = log or logging.getLogger("jupyterlab_evn_submit")
    try:
        config = make()
        for name in config.traits(config=True):
            getattr(config, name)
    except (TraitError, ValueError) as e:
        fallback = os.environ.get("EVN_BOOTSTRAP_TOKEN_ENV", "").strip() or DEFAULT_BOOTSTRAP_ENV
        take_secrets(fallback, log)
        raise ConfigurationError(INVALID.format(e)) from e
    config.bootstrap_token = take_secrets(config.bootstrap_token_env, log)
    return config


def take_secrets(bootstrap_env: str, log: logging.Logger) -> str:
    """Remove the secrets from ``os.environ`` (``pop`` also unsets them in the process's
    environment, which children inherit); return the bootstrap token's value. Call after the
    configuration has read them."""
    token = ""
    removed = []
    for name in (bootstrap_env, *SECRET_VARIABLES):
        value = os.environ.pop(name, None) if name else None
        if value is None:
            continue
        removed.append(name)
        if name == bootstrap_env:
            token = value.strip()
    if removed:
        _wipe_initial_environ(set(removed))
        log.info(
            "EVN archive: removed %s from the environment (read once; kernels and terminals "
            "started from here do not inherit them)",
            ", ".join(f"${name}" for name in removed),
        )
    return token


def _wipe_initial_environ(names: set[str]) -> None:
    """Linux keeps the environment a process was started with in its memory (``env_start`` to
    ``env_end``), and ``/proc/<pid>/environ`` shows those bytes to every process of the same
    user, kernels included; ``unsetenv`` only drops the pointer. Overwrite the removed entries
    there with NULs. Best effort: without /proc this does nothing."""
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        start, end = int(fields[47]), int(fields[48])  # fields 50 and 51 of proc(5)
        raw = Path("/proc/self/environ").read_bytes()
    except (OSError, ValueError, IndexError):
        return
    if not start or len(raw) > end - start:
        return
    offset = 0
    for entry in raw.split(b"\0"):
        if entry.partition(b"=")[0].decode("utf-8", "replace") in names:
            ctypes.memset(start + offset, 0, len(entry))
        offset += len(entry) + 1


def token_store(config: EvnSubmitConfig, log: logging.Logger) -> TokenStore:
    store = TokenStore(config.store_path, config.token_keys, log)
    try:
        store.check_keys()  # a malformed key is a configuration error, found now
    except ValueError as e:
        raise ConfigurationError(INVALID.format(e)) from e
    return store


def token_manager(
    config: EvnSubmitConfig, log: logging.Logger, store: TokenStore | None = None
) -> TokenManager:
    if not config.issuer_url:
        raise ConfigurationError(NO_ISSUER)
    oidc = OidcClient(
        config.issuer_url,
        config.client_id,
        config.scopes,
        client_secret=config.client_secret,
        timeout=config.http_timeout,
        verify=config.tls_verify,
        log=log,
    )
    return TokenManager(
        oidc,
        store or token_store(config, log),
        login_timeout=config.login_timeout,
        bootstrap_env=config.bootstrap_token_env,
        bootstrap_token=config.bootstrap_token,
        log=log,
    )


def service_client(config: EvnSubmitConfig, log: logging.Logger) -> ServiceClient:
    if not config.service_url:
        raise ConfigurationError(NO_SERVICE)
    return ServiceClient(
        config.service_url, timeout=config.http_timeout, verify=config.tls_verify, log=log
    )


@dataclass
class Wired:
    """What the server extension runs on. ``problem`` says what is missing or wrong; a part that
    is ``None`` answers 503 with it."""

    config: EvnSubmitConfig | None
    tokens: TokenManager | None = None
    client: ServiceClient | None = None
    problem: str | None = None


def wire(make_config: Callable[[], EvnSubmitConfig], log: logging.Logger) -> Wired:
    """Everything the server extension needs. Never raises: a missing option disables its part
    (login or submission), an invalid one disables all; both are logged."""
    try:
        config = checked_config(make_config, log)
        wired = Wired(config)
        missing = []
        if config.issuer_url:
            wired.tokens = token_manager(config, log)
        else:
            missing.append(NO_ISSUER)
        if config.service_url:
            wired.client = service_client(config, log)
        else:
            missing.append(NO_SERVICE)
    except ConfigurationError as e:
        log.error("EVN archive: %s The extension answers 503 until it is fixed.", e.message)
        return Wired(None, problem=f"{e.message} {ASK_OPERATOR}")
    for message in missing:
        log.warning("EVN archive: %s", message)
    wired.problem = " ".join(missing) or None
    return wired
