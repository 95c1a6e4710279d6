"""``evn-notebook-service``: start the notebook service (configured by environment variables)."""

from __future__ import annotations

import asyncio
import signal
import sys

from tornado.httpserver import HTTPServer
from traitlets import Dict, Unicode
from traitlets.config import Application

from . import __version__
from .app import body_limit, make_app
from .config import ServiceConfig
from .logs import log, setup_logging


class NotebookServiceApp(Application):
    name = "evn-notebook-service"
    description = "The EVN archive's notebook service: commits submitted notebooks into Gitea."
    version = __version__
    classes = [ServiceConfig]
    aliases = Dict(
        {
            "bind": "ServiceConfig.bind",
            "port": "ServiceConfig.port",
            "config": "NotebookServiceApp.config_file",
        }
    )
    config_file = Unicode("", config=True, help="A Python config file (c.ServiceConfig.… = …).")

    def start(self) -> None:
        if self.config_file:
            self.load_config_file(self.config_file)
        config = ServiceConfig(config=self.config)
        setup_logging(config.log_level)
        missing = config.check_complete()
        if missing:
            log.error("cannot start, missing: %s", ", ".join(missing))
            sys.exit(2)
        asyncio.run(serve(config))


async def serve(config: ServiceConfig) -> None:
    app = make_app(config)
    server = HTTPServer(app, max_body_size=body_limit(config), idle_connection_timeout=120)
    server.listen(config.port, address=config.bind)
    await app.settings["evn_verifier"].warm()
    log.info(
        "notebook service listening",
        extra={"fields": {"bind": config.bind, "port": config.port, "issuer": config.issuer_url,
                          "gitea": config.gitea_url, "org": config.gitea_org,
                          "version": __version__}},
    )  # fmt: skip
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("stopping")
    server.stop()
    await server.close_all_connections()


def main(argv: list[str] | None = None) -> None:
    NotebookServiceApp.launch_instance(argv)


if __name__ == "__main__":
    main()
