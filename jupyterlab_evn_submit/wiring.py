"""The one place that builds the objects of a process from ``EvnSubmitConfig``: the token store,
the OIDC client, the token manager and the notebook-service client.

The server extension (``routes.setup_route_handlers`` through ``wire``) and the command line
(``cli.context.Context``, one builder at a time, on first use) both build them here, so the two
cannot drift. Nothing here touches the network.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from traitlets import TraitError

from .client import ServiceClient
from .config import EvnSubmitConfig
from .errors import ConfigurationError
from .oidc import OidcClient
from .tokens import TokenManager
from .tokenstore import TokenStore

NO_ISSUER = "EVN_ISSUER_URL is not set: there is nowhere to log in."
NO_SERVICE = "EVN_SERVICE_URL is not set: there is no archive to submit to."
INVALID = "The EVN archive configuration is not valid: {}."
ASK_OPERATOR = "Ask the operator of this Jupyter server to fix it."


def checked_config(make: Callable[[], EvnSubmitConfig]) -> EvnSubmitConfig:
    """``make()``, with every option read once: an invalid value (also one read lazily from its
    environment variable) is a ``ConfigurationError`` here, not a crash at its first use."""
    try:
        config = make()
        for name in config.traits(config=True):
            getattr(config, name)
    except (TraitError, ValueError) as e:
        raise ConfigurationError(INVALID.format(e)) from e
    return config


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
        config = checked_config(make_config)
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
