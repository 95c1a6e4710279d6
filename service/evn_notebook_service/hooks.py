"""``POST /api/v1/hooks/gitea``: Gitea's organisation webhook keeps the index current.

Only a body signed with the shared secret (``X-Gitea-Signature``: hex HMAC-SHA256 of the raw
body) is believed; a push into a repository of the organisation schedules its reindex, which
reads everything from Gitea again, so nothing in the payload but the repository's name is used.
"""

from __future__ import annotations

import hashlib
import hmac
import json

from tornado import web

from .contract import RuleError, experiment_code
from .errors import BadRequest, ServiceError
from .handlers import BaseHandler
from .indexer import Indexer


class WebhookSignatureError(ServiceError):
    status = 401


def signature_ok(secret: str, body: bytes, given: str | None) -> bool:
    """Whether ``given`` is the hex HMAC-SHA256 of ``body`` under ``secret`` (constant time)."""
    if not secret or not given:
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, given.strip().lower())


class WebhookHandler(BaseHandler):
    @property
    def indexer(self) -> Indexer:
        return self.settings["evn_indexer"]

    def post(self) -> None:
        secret = self.config.webhook_secret
        if not secret:
            raise web.HTTPError(404)  # the route is off: as if it did not exist
        if not signature_ok(
            secret, self.request.body, self.request.headers.get("X-Gitea-Signature")
        ):
            raise WebhookSignatureError(
                "missing or wrong X-Gitea-Signature; configure the webhook with the service's "
                "secret (EVN_SERVICE_WEBHOOK_SECRET)"
            )
        event = self.request.headers.get("X-Gitea-Event", "")
        try:
            payload = json.loads(self.request.body)
        except (ValueError, UnicodeDecodeError, RecursionError) as e:  # nested too deep too
            raise BadRequest("the webhook body is not JSON") from e
        repo = _pushed_repo(payload, self.config.gitea_org) if event == "push" else None
        try:
            experiment = experiment_code(repo, self.config.experiment_regex()) if repo else None
        except RuleError:
            experiment = None
        if experiment is None:
            why = "not a push" if event != "push" else "not an experiment's repository"
            self.write_json({"message": f"ignored: {why} ({event or 'no event'})"}, 202)
            return
        self.indexer.schedule(experiment)
        self.write_json({"message": f"reindex of {experiment} scheduled"}, 202)


def _pushed_repo(payload: object, org: str) -> str | None:
    """The pushed repository's name when it belongs to ``org``; else None."""
    repository = payload.get("repository") if isinstance(payload, dict) else None
    if not isinstance(repository, dict):
        return None
    owner, _, name = str(repository.get("full_name") or "").partition("/")
    if owner.lower() != org.lower() or not name:
        return None
    return name
