"""HTTP routes of the server extension, all under ``{base_url}evn-submit/``."""

from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado import web


class StatusHandler(APIHandler):
    @web.authenticated
    def get(self) -> None:
        self.finish({"logged_in": False})


def setup_route_handlers(server_app) -> None:  # type: ignore[no-untyped-def]
    web_app = server_app.web_app
    base_url = web_app.settings["base_url"]
    web_app.add_handlers(
        ".*$", [(url_path_join(base_url, "evn-submit", "status"), StatusHandler)]
    )
