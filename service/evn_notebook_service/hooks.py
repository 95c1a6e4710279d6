"""``POST /api/v1/hooks/gitea``: Gitea's organisation webhook keeps the index current.

Only a body signed with the shared secret (``X-Gitea-Signature``: hex HMAC-SHA256 of the raw
body) is believed; a push into a repository of the organisation schedules its reindex, which
reads everything from Gitea again, so nothing in the payload but the repository's name is used.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from tornado import web

from .contract import RuleError, experiment_code, jsonsafe
from .errors import BadRequest, PayloadTooLarge, ServiceError
from .handlers import BaseHandler
from .indexer import Indexer

# Gitea's push payload lists at most [webhook] PAGING_NUM commits (10 by default) with their
# changed paths: kilobytes, rarely more. A body larger than this is not a webhook of Gitea's,
# and is refused before it is read (it is read before its signature can be checked).
WEBHOOK_BODY_LIMIT = 5 * 1024 * 1024
_SIGNATURE = re.compile(r"\s*[0-9a-fA-F]{64}\s*")


class WebhookSignatureError(ServiceError):
    status = 401


def signature_ok(secret: str, body: bytes, given: str | None) -> bool:
    """Whether ``given`` is the hex HMAC-SHA256 of ``body`` under ``secret`` (constant time)."""
    if not secret or not given:
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, given.strip().lower())


def _bad_signature() -> WebhookSignatureError:
    return WebhookSignatureError(
        "missing or wrong X-Gitea-Signature; configure the webhook with the service's "
        "secret (EVN_SERVICE_WEBHOOK_SECRET)"
    )


class WebhookHandler(BaseHandler):
    @property
    def indexer(self) -> Indexer:
        return self.settings["evn_indexer"]

    def body_limit(self) -> int:
        return WEBHOOK_BODY_LIMIT

    def too_large(self) -> ServiceError:
        return PayloadTooLarge(f"a webhook body is at most {WEBHOOK_BODY_LIMIT} bytes")

    def route_refusal(self) -> BaseException | None:
        if not self.config.webhook_secret:
            return web.HTTPError(404)  # the route is off: as if it did not exist
        return super().route_refusal()

    async def before_body(self) -> None:
        if not _SIGNATURE.fullmatch(self.request.headers.get("X-Gitea-Signature", "")):
            raise _bad_signature()  # no body of an unsigned request is held

    def post(self) -> None:
        body = bytes(self.body_bytes)
        if not signature_ok(
            self.config.webhook_secret, body, self.request.headers.get("X-Gitea-Signature")
        ):
            raise _bad_signature()
        event = self.request.headers.get("X-Gitea-Event", "")
        try:
            payload = jsonsafe.loads(body, what="the webhook body")
        except RuleError as e:  # not UTF-8 or JSON, nested too deep, a lone surrogate
            raise BadRequest(e.message) from e
        repo = _pushed_repo(payload, self.config.gitea_org) if event == "push" else None
        try:
            experiment = experiment_code(repo, self.config.experiment_regex()) if repo else None
        except RuleError:
            experiment = None
        if experiment is None:
            why = "not a push" if event != "push" else "not an experiment's repository"
            self.write_json({"message": f"ignored: {why} ({event or 'no event'})"}, 202)
            return
        self.indexer.pushed(experiment, _pushed_commits(payload))
        self.write_json({"message": f"reindex of {experiment} scheduled"}, 202)


def _pushed_commits(payload: object) -> list[str] | None:
    """The ids of the commits a push carried; None unless Gitea listed them all."""
    commits = payload.get("commits") if isinstance(payload, dict) else None
    if not isinstance(commits, list) or not commits:
        return None
    ids = [c.get("id") for c in commits if isinstance(c, dict)]
    total = payload.get("total_commits", len(commits)) if isinstance(payload, dict) else None
    named = [i for i in ids if isinstance(i, str) and i]
    if total != len(commits) or len(named) != len(commits):
        return None  # a long push is listed in part: read the repository
    return named


def _pushed_repo(payload: object, org: str) -> str | None:
    """The pushed repository's name when it belongs to ``org``; else None."""
    repository = payload.get("repository") if isinstance(payload, dict) else None
    if not isinstance(repository, dict):
        return None
    owner, _, name = str(repository.get("full_name") or "").partition("/")
    if owner.lower() != org.lower() or not name:
        return None
    return name
