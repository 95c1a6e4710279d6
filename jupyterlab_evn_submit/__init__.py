"""Submit reduced EVN notebooks from JupyterLab to the EVN archive."""

from typing import Any

try:
    from ._version import __version__
except ImportError:  # pragma: no cover - only when the package was not built
    import warnings

    warnings.warn("Importing 'jupyterlab_evn_submit' outside a proper installation.", stacklevel=2)
    __version__ = "dev"


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "jupyterlab-evn-submit"}]


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "jupyterlab_evn_submit"}]


def _load_jupyter_server_extension(server_app: Any) -> None:
    """Register the extension's routes (see ``routes.py``); nothing here touches the network."""
    from .routes import setup_route_handlers

    setup_route_handlers(server_app)
    server_app.log.info("jupyterlab_evn_submit: server extension loaded")
