"""The command line's wiring: the server extension's configuration, token store and clients.

The configuration is the same ``EvnSubmitConfig`` the Jupyter server uses, read the same way:
the ``EVN_*`` environment variables, overridden by ``c.EvnSubmitConfig.<name>`` in the
``jupyter_server_config.{json,py}`` files on Jupyter's config path, and by ``--config FILE``.
The token store is the same file, so a login here is the login of JupyterLab and vice versa.
The objects are built by ``wiring``, as in the server. Nothing here touches the network.
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

from .. import __version__, wiring
from ..client import ServiceClient
from ..config import EvnSubmitConfig
from ..tokens import TokenManager
from ..tokenstore import TokenStore
from .exitcodes import CONFIGURATION, CliError

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
    return wiring.checked_config(lambda: EvnSubmitConfig(config=config))


@dataclass
class Context:
    """What a verb needs; the objects are built by ``wiring`` on first use (and checked then)."""

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
            self._store = wiring.token_store(self.config, log)
        return self._store

    @property
    def tokens(self) -> TokenManager:
        if self._tokens is None:
            self._tokens = wiring.token_manager(self.config, log, self.store)
        return self._tokens

    @property
    def client(self) -> ServiceClient:
        if self._client is None:
            self._client = wiring.service_client(self.config, log)
        return self._client
