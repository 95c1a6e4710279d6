"""The service's one error model: typed exceptions carrying an HTTP status and a message.

Clients (``gitea.py``, ``auth.py``) raise these; ``handlers.py`` turns any of them into
``{"message": …}`` with the status. Messages say what the caller can do about it.
"""

from __future__ import annotations

from typing import Any

from .contract import RuleError


class ServiceError(Exception):
    status = 500
    # a machine-readable name, sent as ``error`` beside the message (Unauthorized's ``error`` is
    # the RFC 6750 code of its header, not this)
    error_name: str | None = None

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status

    def fields(self) -> dict[str, Any]:
        """What the JSON answer carries beside ``message`` (``error`` and the subclass's own)."""
        return {"error": self.error_name} if self.error_name else {}


class BadRequest(ServiceError):
    status = 400


class Unauthorized(ServiceError):
    """401; ``error`` is the RFC 6750 error code for ``WWW-Authenticate`` (None: no token sent)."""

    status = 401

    def __init__(self, message: str, *, error: str | None = "invalid_token") -> None:
        super().__init__(message)
        self.error = error


class Forbidden(ServiceError):
    status = 403


class NotFound(ServiceError):
    status = 404


class MethodNotAllowed(ServiceError):
    """405; ``allow`` lists the methods the route has (sent as ``Allow``)."""

    status = 405

    def __init__(self, message: str, *, allow: tuple[str, ...]) -> None:
        super().__init__(message)
        self.allow = allow


class RequestTimeout(ServiceError):
    status = 408


class PayloadTooLarge(ServiceError):
    status = 413


class UnsupportedMediaType(ServiceError):
    status = 415


class TooManyRequests(ServiceError):
    """429; ``retry_after`` (seconds) is sent as ``Retry-After``."""

    status = 429

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class UpstreamError(ServiceError):
    """Gitea or Keycloak answered something the service cannot use (502)."""

    status = 502


class UpstreamUnavailable(ServiceError):
    status = 503


class CatalogueUnavailable(ServiceError):
    """The archive's catalogue (TAP) cannot answer: 503 with ``Retry-After``, never a guess."""

    status = 503
    error_name = "CatalogueUnavailable"

    def __init__(self, message: str, *, retry_after: int = 30) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class UnknownExperiment(ServiceError):
    """404: the catalogue does not know the code; ``suggestions`` are close codes it knows."""

    status = 404
    error_name = "UnknownExperiment"

    def __init__(self, code: str, suggestions: list[str]) -> None:
        hint = f"did you mean {', '.join(suggestions)}? " if suggestions else ""
        super().__init__(
            f"experiment {code} is not in the EVN archive's catalogue; {hint}"
            "check the code on the observation's page in the archive"
        )
        self.suggestions = suggestions

    def fields(self) -> dict[str, Any]:
        return {**super().fields(), "suggestions": self.suggestions}


class UpstreamTimeout(ServiceError):
    status = 504


class GiteaResponseError(ServiceError):
    """A non-2xx answer from Gitea, kept raw so the archive logic can decide (retry, 404, …)."""

    def __init__(self, status: int, message: str, method: str, path: str) -> None:
        super().__init__(f"Gitea answered {status} to {method} {path}: {message}", status=502)
        self.gitea_status = status
        self.gitea_message = message

    @property
    def is_ref_lock_conflict(self) -> bool:
        return self.gitea_status == 403 and "cannot lock ref" in self.gitea_message

    @property
    def is_sha_mismatch(self) -> bool:
        return self.gitea_status in (409, 422) and "sha does not match" in self.gitea_message

    @property
    def is_already_exists(self) -> bool:
        return self.gitea_status in (409, 422) and "already exists" in self.gitea_message


def as_service_error(exc: BaseException | None) -> ServiceError | None:
    """The service error an exception stands for: a broken contract rule is a 400."""
    if isinstance(exc, ServiceError):
        return exc
    if isinstance(exc, RuleError):
        return BadRequest(exc.message)
    return None
