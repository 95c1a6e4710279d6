"""HTTP routes of the server extension, all under ``{base_url}evn-submit/``.

Thin handlers: read the request, call one method of ``ArchiveActions`` (``settings["evn_submit"]``),
finish. Every verb is ``@web.authenticated`` and ``@authorized``; every state change is a POST, so
jupyter_server checks its XSRF token. Errors leave through ``errors.to_http_error`` only.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import urlencode

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler, JupyterHandler
from jupyter_server.utils import url_path_join
from tornado import web

from .actions import ArchiveActions
from .config import EvnSubmitConfig
from .errors import BadRequest, EvnHTTPError, EvnSubmitError, to_http_error
from .requestbody import BoundedBody, json_object
from .wiring import wire

T = TypeVar("T")
AUTH_RESOURCE = "evn-submit"
MESSAGE_SOURCE = "jupyterlab-evn-submit"


@web.stream_request_body  # prepare judges the body from its headers before it is read
class EvnHandler(BoundedBody, APIHandler):
    auth_resource = AUTH_RESOURCE

    @property
    def actions(self) -> ArchiveActions:
        return self.settings["evn_submit"]

    @property
    def jupyter_user(self) -> str:
        return str(getattr(self.current_user, "username", self.current_user))

    async def call(self, work: Callable[[], Awaitable[T]]) -> T:
        """Run one action; its typed errors become HTTP answers here and nowhere else. A POST's
        body is checked first, also on routes that read nothing from it."""
        try:
            if self.request.method == "POST":
                self.body()
            return await work()
        except EvnSubmitError as e:
            raise to_http_error(e) from e

    def body(self) -> dict[str, Any]:
        """The body as a JSON object (empty: ``{}``); parsed once, by ``contract.jsonsafe``."""
        if not hasattr(self, "_body"):
            try:
                self._body = json_object(self.raw_body())
            except EvnSubmitError as e:
                raise to_http_error(e) from e
        return self._body

    def text(self, name: str, value: Any, *, default: str = "") -> str:
        """A field of the body that must be a string (missing or null: ``default``)."""
        if value is None:
            return default
        if not isinstance(value, str):
            raise to_http_error(BadRequest(f"{name} must be a string."))
        return value

    def query(self) -> dict[str, str]:
        """The query arguments, the last value of each (as ``get_query_argument`` reads it)."""
        return {name: self.get_query_argument(name) for name in self.request.query_arguments}

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """APIHandler's ``{"message": ...}``, plus the headers the error carries (Retry-After),
        and Tornado's own errors (bad unicode in the URL) with their arguments filled in."""
        error = (kwargs.get("exc_info") or (None, None, None))[1]
        if isinstance(error, EvnHTTPError):
            for name, value in error.headers.items():
                self.set_header(name, value)
            if error.fields:  # the catalogue's suggestions: JSON beside the message
                self.set_header("Content-Type", "application/json")
                reply = {"message": error.log_message, "reason": error.reason}
                self.finish(json.dumps(error.fields | reply))
                return
        elif isinstance(error, web.HTTPError) and error.args and error.log_message:
            filled = web.HTTPError(status_code, _filled(error.log_message, error.args))
            kwargs["exc_info"] = (web.HTTPError, filled, None)
        super().write_error(status_code, **kwargs)

    def redirect_uri(self) -> str:
        return login_redirect_uri(self, self.actions.config.callback_url)


def _filled(template: str, args: Any) -> str:
    try:
        return template % tuple(args)
    except (TypeError, ValueError):
        return template


class StatusHandler(EvnHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.finish(await self.call(self.actions.status))


class LoginHandler(EvnHandler):
    @web.authenticated
    @authorized
    async def post(self) -> None:
        url = await self.call(
            lambda: self.actions.tokens.start_browser_login(self.jupyter_user, self.redirect_uri())
        )
        self.finish({"authorize_url": url})


FORWARDED_HOST = re.compile(r"^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$")


def public_origin(handler: JupyterHandler) -> str:
    """``scheme://host`` as the browser sees this server. With ``ServerApp.trust_xheaders``
    Tornado takes the scheme from ``X-Forwarded-Proto`` (or ``X-Scheme``) and the host comes
    from ``X-Forwarded-Host`` (the nearest proxy's value); without it both are ignored."""
    host = handler.request.host
    app = handler.serverapp
    if app is not None and app.trust_xheaders:
        forwarded = handler.request.headers.get("X-Forwarded-Host", "").split(",")[-1].strip()
        if FORWARDED_HOST.match(forwarded):
            host = forwarded
    return f"{handler.request.protocol}://{host}"


def login_redirect_uri(handler: JupyterHandler, callback_url: str) -> str:
    """The configured ``callback_url`` (JupyterHub: one URI for all users), else this server's
    ``{base_url}evn-submit/callback`` at its public origin."""
    if callback_url:
        return callback_url
    path = url_path_join(handler.settings["base_url"], "evn-submit", "callback")
    return public_origin(handler) + path


class CallbackHandler(JupyterHandler):
    """The popup lands here from Keycloak: finish the login, tell the opener, close. 200 only
    when the login succeeded; a failed one (an error from Keycloak, a bad state, a refused
    code) is a 400 with the same page, which tells the opener why."""

    auth_resource = AUTH_RESOURCE

    @web.authenticated
    @authorized
    async def get(self) -> None:
        actions: ArchiveActions = self.settings["evn_submit"]
        user = str(getattr(self.current_user, "username", self.current_user))
        ok, message = False, ""
        error = self.get_argument("error", "")
        try:
            if error:
                self.set_status(400)
                # still consume the state, so it cannot be used afterwards
                actions.tokens.discard_login(self.get_argument("state", ""))
                detail = self.get_argument("error_description", error)
                message = (
                    "The login was cancelled."
                    if error == "access_denied"
                    else f"The login service reported: {detail}"
                )
            else:
                who = await actions.tokens.finish_browser_login(
                    user, self.get_argument("state", ""), self.get_argument("code", "")
                )
                ok, message = True, f"Logged in to the EVN archive as {who['username']}."
        except EvnSubmitError as e:
            message = e.message
            self.set_status(e.status)
        origin = public_origin(self)
        payload = {"source": MESSAGE_SOURCE, "type": "login", "ok": ok, "message": message}
        self.set_header("Cache-Control", "no-store")
        self.set_header("Referrer-Policy", "no-referrer")
        self.finish(_callback_page(payload, origin))


def _script_json(value: Any) -> str:
    """JSON that is safe inside a <script> element."""
    return (
        json.dumps(value)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _callback_page(payload: dict[str, Any], origin: str) -> str:
    from html import escape

    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>EVN archive login</title></head>
<body><p id="evn-login-message">{escape(payload["message"])}</p>
<p>You can close this window.</p>
<script>
(function () {{
  var message = {_script_json(payload)};
  var origin = {_script_json(origin)};
  if (window.opener && !window.opener.closed) {{
    window.opener.postMessage(message, origin);
    window.close();
  }}
}})();
</script></body></html>
"""


class DeviceStartHandler(EvnHandler):
    @web.authenticated
    @authorized
    async def post(self) -> None:
        self.finish(
            await self.call(lambda: self.actions.tokens.start_device_login(self.jupyter_user))
        )


class DevicePollHandler(EvnHandler):
    @web.authenticated
    @authorized
    async def post(self) -> None:
        device_id = self.text("device_id", self.body().get("device_id"))
        self.finish(
            await self.call(
                lambda: self.actions.tokens.poll_device_login(self.jupyter_user, device_id)
            )
        )


class LogoutHandler(EvnHandler):
    @web.authenticated
    @authorized
    async def post(self) -> None:
        await self.call(lambda: self.actions.tokens.logout())
        self.finish({"logged_in": False})


class PreviewHandler(EvnHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        budget = self.get_argument("output_budget", "")
        if budget and not (budget.isascii() and budget.isdigit() and len(budget) <= 12):
            raise to_http_error(BadRequest("output_budget must be a number of bytes."))
        budget_bytes = int(budget) if budget else None
        self.finish(
            await self.call(
                lambda: self.actions.preview(
                    self.get_argument("path", ""),
                    self.get_argument("output_policy", "keep"),
                    budget_bytes,
                )
            )
        )


class SubmitHandler(EvnHandler):
    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.body()
        answer = await self.call(lambda: self.actions.submit(body))
        self.set_status(201 if answer.get("created", True) else 200)
        self.finish(answer)


class SubmissionsHandler(EvnHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        query = self.query()
        self.finish(await self.call(lambda: self.actions.submissions(query)))


class ExperimentNotebooksHandler(EvnHandler):
    @web.authenticated
    @authorized
    async def get(self, experiment: str) -> None:
        query = self.query()
        self.finish(await self.call(lambda: self.actions.experiment_notebooks(experiment, query)))


class VersionsHandler(EvnHandler):
    @web.authenticated
    @authorized
    async def get(self, experiment: str, owner: str, name: str) -> None:
        query = self.query()
        self.finish(await self.call(lambda: self.actions.versions(experiment, owner, name, query)))


class SearchHandler(EvnHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        query = self.query()
        self.finish(await self.call(lambda: self.actions.search(query)))


class ObservationHandler(EvnHandler):
    """What the archive's catalogue knows of ``?experiment=CODE`` (the form asks as the code is
    typed): the service's answer passed on, 404 with ``suggestions``, 503 with Retry-After."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        code = self.get_argument("experiment", "", strip=False)
        self.finish(await self.call(lambda: self.actions.observation(code)))


class OpenCopyHandler(EvnHandler):
    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.body()
        self.finish(await self.call(lambda: self.actions.open_copy(body)))


class DiffHandler(EvnHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        args = [
            self.get_argument(name, "")
            for name in ("experiment", "owner", "name", "base", "remote")
        ]
        self.finish(await self.call(lambda: self.actions.diff(*args)))


@web.stream_request_body  # a GET with a body is refused from its headers (BoundedBody)
class OpenLinkHandler(BoundedBody, JupyterHandler):
    """A link from a paper or the archive's web page: checks it, writes nothing, and sends the
    browser to JupyterLab with ``?evn-open=…``, where the reader confirms before a copy is made."""

    auth_resource = AUTH_RESOURCE

    @web.authenticated
    @authorized
    def get(self) -> None:
        actions: ArchiveActions = self.settings["evn_submit"]
        query = {name: self.get_query_argument(name) for name in self.request.query_arguments}
        try:
            target = actions.open_link(query)
        except EvnSubmitError as e:
            raise to_http_error(e) from e
        lab = url_path_join(self.settings["base_url"], "lab")
        self.redirect(f"{lab}?{urlencode({'evn-open': target})}")


SEGMENT = r"([^/]+)"

#: (path under evn-submit/, handler): docs/architecture.md lists the same routes
ROUTES: list[tuple[str, type[JupyterHandler]]] = [
    ("status", StatusHandler),
    ("login", LoginHandler),
    ("callback", CallbackHandler),
    ("device", DeviceStartHandler),
    ("device/poll", DevicePollHandler),
    ("logout", LogoutHandler),
    ("preview", PreviewHandler),
    ("submit", SubmitHandler),
    ("submissions", SubmissionsHandler),
    ("search", SearchHandler),
    ("observation", ObservationHandler),
    (f"experiments/{SEGMENT}/notebooks", ExperimentNotebooksHandler),
    (f"experiments/{SEGMENT}/notebooks/{SEGMENT}/{SEGMENT}/versions", VersionsHandler),
    ("open-copy", OpenCopyHandler),
    ("diff", DiffHandler),
    ("open", OpenLinkHandler),
]


def build_actions(server_app: Any, log: logging.Logger) -> ArchiveActions:
    """The routes' service object, wired by ``wiring.wire``. No network; never raises: a bad
    configuration is logged, reported by ``GET status`` and answered with 503 elsewhere."""
    from . import __version__

    wired = wire(lambda: EvnSubmitConfig(parent=server_app), log)
    return ArchiveActions(
        wired.config,
        wired.tokens,
        wired.client,
        server_app.contents_manager,
        getattr(server_app, "kernel_spec_manager", None),
        problem=wired.problem,
        tool_version=__version__,
        log=log,
    )


def setup_route_handlers(server_app: Any) -> None:
    web_app = server_app.web_app
    base_url = web_app.settings["base_url"]
    web_app.settings["evn_submit"] = build_actions(server_app, server_app.log)
    web_app.add_handlers(
        ".*$",
        [(url_path_join(base_url, "evn-submit", path), handler) for path, handler in ROUTES],
    )
