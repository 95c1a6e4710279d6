"""``evn-notebook-service``: start the notebook service (configured by environment variables);
``evn-notebook-service reindex``: rebuild its archive index from Gitea."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time

from tornado import web
from traitlets import Dict, Unicode
from traitlets.config import Application

from . import __version__
from .app import body_limit, make_app
from .bodies import DRAIN_BYTES
from .config import ServiceConfig
from .gitea import GiteaClient
from .index.store import Index
from .indexer import Indexer
from .logs import log, setup_logging
from .memory import tune_allocator
from .shutdown import InFlight, Server


def _configure(app: Application) -> ServiceConfig:
    """The service's configuration (config file, command line, environment), or exit 2."""
    config_file = getattr(app, "config_file", "")
    if config_file:
        app.load_config_file(config_file)
    config = ServiceConfig(config=app.config)
    setup_logging(config.log_level)
    missing = config.check_complete()
    if missing:
        log.error("cannot start, missing: %s", ", ".join(missing))
        sys.exit(2)
    return config


class ReindexApp(Application):
    name = "evn-notebook-service reindex"
    description = (
        "Rebuild the archive index from Gitea: empty it, then read every repository of the "
        "organisation. A running service keeps serving meanwhile, from an index filling up again."
    )
    version = __version__
    classes = [ServiceConfig]
    aliases = Dict({"config": "ReindexApp.config_file"})
    config_file = Unicode("", config=True, help="A Python config file (c.ServiceConfig.… = …).")

    def start(self) -> None:
        config = _configure(self)
        result = asyncio.run(reindex(config))
        print(
            f"indexed {result['repositories']} repositories, {result['notebooks']} notebooks, "
            f"{result['versions']} versions in {result['seconds']:.1f} s"
            + (
                f"; {result['failed']} repositories failed (see the log)"
                if result["failed"]
                else ""
            )
        )
        sys.exit(1 if result["failed"] else 0)


async def reindex(config: ServiceConfig) -> dict[str, float]:
    """Rebuild the index at ``config.index_url`` from Gitea; what it holds afterwards."""
    started = time.perf_counter()
    index = Index(config.index_url)
    gitea = GiteaClient(config)
    try:
        done = await Indexer(config, gitea, index).rebuild()
        counts = await asyncio.to_thread(index.counts)
    finally:
        await gitea.aclose()
        await asyncio.to_thread(index.dispose)
    return {**counts, "failed": done["failed"], "seconds": time.perf_counter() - started}


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
    subcommands = Dict({"reindex": (ReindexApp, ReindexApp.description.split(":")[0] + ".")})

    def start(self) -> None:
        if self.subapp is not None:
            self.subapp.start()
            return
        tune_allocator()  # before the first big block (memory.py)
        asyncio.run(serve(_configure(self)))


async def _keep_index(app: web.Application) -> None:
    """Once the index is open, keep it current (reconcile loop, rebuild when deleted)."""
    start = app.settings.get("evn_index_start")
    if start is not None:
        await start
    await app.settings["evn_indexer"].run()


async def serve(config: ServiceConfig) -> None:
    """Serve until SIGTERM or SIGINT, then stop gracefully (``shutdown.py``)."""
    app = make_app(config)
    server = Server(
        app,
        # the hard cap; each route refuses more itself, from the headers or as a chunked body
        # grows past its limit (and then drains up to DRAIN_BYTES more before closing)
        max_body_size=body_limit(config) + 2 * DRAIN_BYTES,
        idle_connection_timeout=120,
        body_timeout=config.body_timeout_seconds + 30,  # a backstop: the handlers answer 408
    )
    server.listen(config.port, address=config.bind)
    await app.settings["evn_verifier"].warm()
    log.info(
        "notebook service listening",
        extra={"fields": {"bind": config.bind, "port": config.port, "issuer": config.issuer_url,
                          "gitea": config.gitea_url, "org": config.gitea_org,
                          "version": __version__, "pid": os.getpid()}},
    )  # fmt: skip
    indexing = asyncio.create_task(_keep_index(app))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    in_flight: InFlight = app.settings["evn_in_flight"]
    await in_flight.drain(server, config.shutdown_grace_seconds)
    indexing.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await indexing
    await app.settings["evn_indexer"].close()
    await app.settings["evn_gitea"].aclose()  # the pooled connections
    await app.settings["evn_verifier"].aclose()
    log.info("stopped")


def main(argv: list[str] | None = None) -> None:
    NotebookServiceApp.launch_instance(argv)


if __name__ == "__main__":
    main()
