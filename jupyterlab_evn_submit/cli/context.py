"""The command line's wiring: the server extension's configuration, token store and clients.

The configuration is the same ``EvnSubmitConfig`` the Jupyter server uses, read the same way:
the ``EVN_*`` environment variables, overridden by ``c.EvnSubmitConfig.<name>`` in the
``jupyter_server_config.{json,py}`` files on Jupyter's config path, and by ``--config FILE``.
The token store is the same file, so a login here is the login of JupyterLab and vice versa.
Nothing here touches the network.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from jupyter_core.paths import jupyter_config_path
from traitlets.config import Config
from traitlets.config.loader import (
    ConfigFileNotFound,
    JSONFileConfigLoader,
    PyFileConfigLoader,
)

from .. import __version__
from ..client import ServiceClient
from ..config import EvnSubmitConfig
from ..errors import ConfigurationError
from ..oidc import OidcClient
from ..tokens import TokenManager
from ..tokenstore import TokenStore
from .exitcodes import CONFIG_HINT, CONFIGURATION, CliError

CONFIG_BASENAME = "jupyter_server_config"
log = logging.getLogger("jupyterlab_evn_submit.cli")


def _load(loader: JSONFileConfigLoader | PyFileConfigLoader, into: Config, strict: bool) -> None:
    try:
        into.merge(loader.load_config())
    except ConfigFileNotFound as e:
        if strict:
            raise CliError(
                CONFIGURATION, f"The config file {loader.full_filename} does not exist."
            ) from e
    except Exception as e:  # a broken config file of the Jupyter server: say which, go on
        if strict:
            raise CliError(
                CONFIGURATION, f"The config file {loader.full_filename} cannot be read: {e}"
            ) from e
        log.warning("EVN archive: skipping the config file %s: %s", loader.full_filename, e)


def load_config(config_file: str | None = None) -> EvnSubmitConfig:
    """``EvnSubmitConfig`` as the Jupyter server would see it (user's directory wins)."""
    config = Config()
    for directory in reversed(jupyter_config_path()):
        _load(JSONFileConfigLoader(CONFIG_BASENAME + ".json", directory), config, False)
        _load(PyFileConfigLoader(CONFIG_BASENAME + ".py", directory), config, False)
    if config_file:
        path = Path(config_file).expanduser().resolve()
        loader_class = JSONFileConfigLoader if path.suffix == ".json" else PyFileConfigLoader
        _load(loader_class(path.name, str(path.parent)), config, True)
    return EvnSubmitConfig(config=config)


@dataclass
class Context:
    """What a verb needs; the clients are built on first use (and checked then)."""

    config: EvnSubmitConfig
    _tokens: TokenManager | None = field(default=None, repr=False)
    _client: ServiceClient | None = field(default=None, repr=False)
    _store: TokenStore | None = field(default=None, repr=False)

    @property
    def version(self) -> str:
        return __version__

    @property
    def store(self) -> TokenStore:
        if self._store is None:
            self._store = TokenStore(self.config.store_path, self.config.token_keys, log)
            if self.config.token_keys:
                try:
                    self._store._keys()  # a malformed key is a configuration error, found now
                except ValueError as e:
                    raise CliError(CONFIGURATION, str(e), CONFIG_HINT) from e
        return self._store

    @property
    def tokens(self) -> TokenManager:
        if self._tokens is None:
            if not self.config.issuer_url:
                raise ConfigurationError(
                    "EVN_ISSUER_URL is not set: the command line does not know where to log in."
                )
            oidc = OidcClient(
                self.config.issuer_url,
                self.config.client_id,
                self.config.scopes,
                client_secret=self.config.client_secret,
                timeout=self.config.http_timeout,
                verify=self.config.tls_verify,
                log=log,
            )
            self._tokens = TokenManager(
                oidc,
                self.store,
                login_timeout=self.config.login_timeout,
                bootstrap_env=self.config.bootstrap_token_env,
                log=log,
            )
        return self._tokens

    @property
    def client(self) -> ServiceClient:
        if self._client is None:
            if not self.config.service_url:
                raise ConfigurationError(
                    "EVN_SERVICE_URL is not set: the command line does not know the archive."
                )
            self._client = ServiceClient(
                self.config.service_url,
                timeout=self.config.http_timeout,
                verify=self.config.tls_verify,
                log=log,
            )
        return self._client
