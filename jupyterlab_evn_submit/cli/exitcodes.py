"""Exit codes a script can rely on, and the one mapping from the package's errors to them.

``docs/cli.md`` lists the same table; a test checks it against ``EXIT_CODES``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import (
    BadRequest,
    ConfigurationError,
    EvnSubmitError,
    IdentityProviderError,
    IdentityProviderUnavailable,
    InvalidNotebook,
    LoginFailed,
    NotebookNotFound,
    NotebookTooLarge,
    NotLoggedIn,
    ServiceError,
    ServiceUnavailable,
)

OK = 0
FAILED = 1
USAGE = 2
NOT_LOGGED_IN = 3
INVALID = 4
UNAVAILABLE = 5
REJECTED = 6
CONFIGURATION = 7
INTERRUPTED = 130

#: code -> (name, meaning) as documented in docs/cli.md
EXIT_CODES: dict[int, tuple[str, str]] = {
    OK: ("ok", "done"),
    FAILED: ("failed", "an unexpected error (a bug: please report it with the output of -vv)"),
    USAGE: ("usage", "wrong command line: unknown verb or option, missing argument"),
    NOT_LOGGED_IN: (
        "not-logged-in",
        "not logged in, the login expired or was revoked, or a login was refused or timed out",
    ),
    INVALID: (
        "invalid",
        "invalid notebook or metadata (not found, not nbformat 4, too large, bad license or "
        "ORCID, bad experiment code): nothing was sent",
    ),
    UNAVAILABLE: (
        "unavailable",
        "the notebook service or Keycloak cannot be reached, timed out or answered 5xx/429: "
        "safe to retry the same command",
    ),
    REJECTED: ("rejected", "the archive refused the request (HTTP 4xx): retrying will not help"),
    CONFIGURATION: (
        "configuration",
        "the configuration is missing or wrong (EVN_ISSUER_URL, EVN_SERVICE_URL, EVN_CLIENT_ID, "
        "EVN_TOKEN_KEYS, ...), or Keycloak refused the client",
    ),
    INTERRUPTED: ("interrupted", "interrupted (Ctrl-C)"),
}

LOGIN_HINT = "Run `jupyter evn-submit login` and try again."
RETRY_HINT = "Nothing was changed; run the same command again later (it is safe to repeat)."
CONFIG_HINT = (
    "Check EVN_ISSUER_URL, EVN_CLIENT_ID and EVN_SERVICE_URL (or c.EvnSubmitConfig in "
    "jupyter_server_config.py); `jupyter evn-submit status` shows what is used."
)


class CliError(Exception):
    """An error of the command line itself with its exit code (no network involved)."""

    def __init__(self, code: int, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint


@dataclass
class Outcome:
    code: int
    message: str
    hint: str

    @property
    def kind(self) -> str:
        return EXIT_CODES[self.code][0]


def outcome(error: BaseException) -> Outcome:
    """The exit code, the message and what to do, for any error a verb may raise."""
    if isinstance(error, CliError):
        return Outcome(error.code, error.message, error.hint)
    if not isinstance(error, EvnSubmitError):
        return Outcome(FAILED, f"Unexpected error: {type(error).__name__}: {error}", "")
    message = error.message
    if isinstance(error, NotLoggedIn | LoginFailed):
        return Outcome(NOT_LOGGED_IN, message, LOGIN_HINT)
    if isinstance(error, InvalidNotebook | NotebookNotFound | NotebookTooLarge | BadRequest):
        return Outcome(INVALID, message, "Nothing was sent to the archive.")
    if isinstance(error, ConfigurationError):
        return Outcome(CONFIGURATION, message, CONFIG_HINT)
    if isinstance(error, IdentityProviderUnavailable | ServiceUnavailable):
        return Outcome(UNAVAILABLE, message, RETRY_HINT)
    if isinstance(error, IdentityProviderError):
        return Outcome(CONFIGURATION, message, CONFIG_HINT)
    if isinstance(error, ServiceError):
        upstream = error.upstream_status
        if upstream == 401:
            return Outcome(NOT_LOGGED_IN, message, LOGIN_HINT)
        if upstream >= 500 or upstream == 429:
            return Outcome(UNAVAILABLE, message, RETRY_HINT)
        refused = f"The archive refused the request (HTTP {upstream}): {message}"
        return Outcome(REJECTED, refused, "")
    return Outcome(FAILED, message, "")
