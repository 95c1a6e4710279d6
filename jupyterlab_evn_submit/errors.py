"""Typed errors of the server extension, and the one place that maps them to HTTP answers.

The OIDC client, the token manager, notebook preparation and the notebook-service client raise
these exceptions; they know nothing of Tornado. ``to_http_error`` turns any of them into a
``tornado.web.HTTPError`` whose ``log_message`` is the sentence a researcher reads in JupyterLab
(``APIHandler.write_error`` sends it as ``{"message": ...}``).
"""

from __future__ import annotations

import re
from typing import Any

from tornado import web


class EvnSubmitError(Exception):
    """``status``: what the routes answer; ``message``: what the researcher reads."""

    status = 500
    default_message = "Something went wrong in the EVN archive extension."
    #: the HTTP reason phrase (``None``: the one of ``_REASONS`` or the standard one)
    reason: str | None = None

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        #: response headers the answer carries (``Retry-After`` of the notebook service)
        self.headers: dict[str, str] = {}
        #: JSON fields the answer carries besides ``message`` (``suggestions``)
        self.fields: dict[str, Any] = {}
        super().__init__(self.message)


class ConfigurationError(EvnSubmitError):
    status = 503
    default_message = (
        "The EVN archive extension is not configured: ask the operator to set EVN_ISSUER_URL, "
        "EVN_CLIENT_ID and EVN_SERVICE_URL."
    )


class BadRequest(EvnSubmitError):
    status = 400
    default_message = "The request is not valid."


class BodyTooLarge(EvnSubmitError):
    """A request body over the routes' limit, refused from its ``Content-Length``."""

    status = 413
    reason = "Request body too large"

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(
            f"The request body is {size} bytes but this route takes at most {limit} bytes; "
            "send the notebook's path, not the notebook."
        )


# --- login ----------------------------------------------------------------------------------


class NotLoggedIn(EvnSubmitError):
    status = 401
    default_message = "You are not logged in to the EVN archive. Log in and try again."


class SessionEnded(NotLoggedIn):
    """The identity provider refused the stored refresh token (``invalid_grant``)."""

    default_message = (
        "Your EVN archive login has ended (it expired or was revoked). Log in again to continue."
    )


class BootstrapTokenMissing(NotLoggedIn):
    """A bootstrap login was asked for, but JupyterHub handed over no refresh token."""

    default_message = "No refresh token was handed over by JupyterHub. Log in with a browser."


class LoginFailed(EvnSubmitError):
    status = 400
    default_message = "The login did not succeed. Close the login window and try again."


class LoginStateInvalid(LoginFailed):
    """Unknown, replayed, expired, or another user's login state."""

    default_message = (
        "This login attempt is not valid any more (it was already used, it expired, or it was "
        "started by someone else). Start the login again from JupyterLab."
    )


class IdentityProviderUnavailable(EvnSubmitError):
    status = 503
    default_message = (
        "The EVN login service (Keycloak) cannot be reached. Try again in a few minutes; "
        "nothing was submitted."
    )


class IdentityProviderTimeout(IdentityProviderUnavailable):
    status = 504
    default_message = (
        "The EVN login service (Keycloak) did not answer in time. Try again in a few minutes; "
        "nothing was submitted."
    )


class IdentityProviderError(EvnSubmitError):
    """Keycloak answered with an error other than ``invalid_grant``."""

    status = 502
    default_message = "The EVN login service answered with an error."


# --- notebooks ------------------------------------------------------------------------------


class NotebookNotFound(EvnSubmitError):
    status = 404
    default_message = "The notebook was not found. Save it first, then submit again."


class InvalidNotebook(EvnSubmitError):
    status = 422
    default_message = "The notebook is not a valid Jupyter notebook."


class NotebookTooLarge(EvnSubmitError):
    status = 413

    def __init__(self, size: int, limit: int) -> None:
        self.size = size
        self.limit = limit
        super().__init__(
            f"The notebook is {_mb(size)} but the archive accepts at most {_mb(limit)}. "
            "Strip large outputs (output policy 'strip-large' or 'strip') and submit again."
        )


def _mb(n: int) -> str:
    """Sizes as a researcher reads them: 50 kB, 12.3 MB."""
    return f"{n / 1_000_000:.1f} MB" if n >= 1_000_000 else f"{max(1, round(n / 1000))} kB"


# --- notebook service -----------------------------------------------------------------------


class ServiceUnavailable(EvnSubmitError):
    status = 503
    default_message = (
        "The EVN notebook archive cannot be reached. Your notebook is unchanged; try again later."
    )


class ServiceTimeout(ServiceUnavailable):
    status = 504
    default_message = (
        "The EVN notebook archive did not answer in time. Your notebook is unchanged; submitting "
        "again with the same form is safe (it will not create a second version)."
    )


class ServiceError(EvnSubmitError):
    """The notebook service answered with an error status."""

    def __init__(
        self, upstream_status: int, message: str | None, *, retry_after: str | None = None
    ) -> None:
        self.upstream_status = upstream_status
        self.status = _SERVICE_STATUS.get(upstream_status, 502 if upstream_status >= 500 else 400)
        text = (message or "").strip()
        if upstream_status == 401:
            text = "The EVN archive did not accept your login. Log in again and retry."
        elif upstream_status >= 500:
            text = (
                "The EVN notebook archive had a problem"
                + (f": {text}" if text else "")
                + ". Your notebook is unchanged; try again later."
            )
        elif not text:
            text = f"The EVN notebook archive refused the request (HTTP {upstream_status})."
        super().__init__(text)
        _retry_after(self, retry_after)


def _retry_after(error: EvnSubmitError, value: str | None) -> None:
    if value is not None and _RETRY_AFTER.fullmatch(value.strip()):
        error.headers["Retry-After"] = value.strip()


class UnknownExperiment(ServiceError):
    """The archive's catalogue does not know the experiment (the service's 404
    ``UnknownExperiment``); ``suggestions``: up to three known codes close to it."""

    default_message = "The EVN archive's catalogue does not know this experiment."

    def __init__(self, message: str | None, suggestions: list[str]) -> None:
        super().__init__(404, message or self.default_message)
        self.suggestions = suggestions
        self.fields = {"error": "UnknownExperiment", "suggestions": list(suggestions)}


class CatalogueUnavailable(ServiceError):
    """The archive's catalogue cannot answer (the service's 503 ``CatalogueUnavailable``): the
    experiment could be neither confirmed nor refused. Passed on as a 503 (not the 502 of other
    failures of the service) with the service's message and ``Retry-After``."""

    default_message = (
        "The EVN archive's catalogue cannot be reached just now, so the experiment cannot be "
        "checked. Nothing was submitted; try again in a few minutes."
    )

    def __init__(self, message: str | None = None, *, retry_after: str | None = None) -> None:
        super().__init__(503, None, retry_after=retry_after)
        self.status = 503
        self.message = (message or "").strip() or self.default_message
        self.args = (self.message,)
        self.fields = {"error": "CatalogueUnavailable"}


# Upstream 4xx statuses pass through (they describe the user's request); 5xx become 502.
_SERVICE_STATUS = {400: 400, 401: 401, 403: 403, 404: 404, 409: 409, 413: 413, 422: 422, 429: 429}


# Retry-After is seconds or an HTTP date: printable ASCII, passed on only in that shape.
_RETRY_AFTER = re.compile(r"[0-9]{1,9}|[A-Za-z]{3}, [0-9A-Za-z :]{10,40}")


class EvnHTTPError(web.HTTPError):
    """An ``HTTPError`` with the headers of its answer (``EvnHandler.write_error`` sets them)."""

    def __init__(
        self,
        status: int,
        message: str,
        reason: str | None,
        headers: dict[str, str],
        fields: dict[str, Any] | None = None,
    ):
        super().__init__(status, message, reason=reason)
        self.headers = dict(headers)
        #: JSON fields of the answer besides ``message`` and ``reason``
        self.fields = dict(fields or {})


def to_http_error(error: EvnSubmitError) -> EvnHTTPError:
    """The one mapping from the extension's errors to an HTTP answer (``{"message": ...}``)."""
    # ``log_message`` is sent as the JSON message; no ``args``, so no %-formatting happens.
    reason = error.reason or _REASONS.get(error.status)
    return EvnHTTPError(error.status, error.message, reason, error.headers, error.fields)


_REASONS = {
    401: "Not logged in to the EVN archive",
    413: "Notebook too large",
    502: "EVN archive error",
    503: "EVN archive unavailable",
    504: "EVN archive timeout",
}
