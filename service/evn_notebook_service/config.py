"""Configuration of the notebook service: traits, each read from its environment variable."""

from __future__ import annotations

import os
import re
from urllib.parse import urlparse

from traitlets import Bool, Float, Int, List, Unicode, default, validate

from .catalogue_options import CatalogueOptions
from .contract import limit, schema

DEFAULT_EXPERIMENT_PATTERN: str = schema("ExperimentCode")["pattern"]


def _env(name: str, fallback: str) -> str:
    return os.environ.get(name, "").strip() or fallback


def _env_bool(name: str, fallback: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return fallback
    return value in {"1", "true", "yes", "on"}


def _check_url(value: str, what: str) -> str:
    if not value:
        return value
    parsed = urlparse(value)
    if parsed.scheme not in {"http", "https"} or not parsed.netloc:
        raise ValueError(f"{what} must be an http(s) URL, got {value!r}")
    return value.rstrip("/")


class ServiceConfig(CatalogueOptions):
    """Every option of ``evn-notebook-service``; its README lists them (a test checks). The
    catalogue's and the embargo's options are in ``catalogue_options.py``."""

    issuer_url = Unicode(
        config=True,
        help="Keycloak realm URL issuing the access tokens (the `iss` claim). Env: EVN_ISSUER_URL.",
    )

    @default("issuer_url")
    def _issuer_url_default(self) -> str:
        return _check_url(_env("EVN_ISSUER_URL", ""), "issuer_url")

    @validate("issuer_url")
    def _issuer_url_validate(self, proposal):
        return _check_url(proposal["value"], "issuer_url")

    jwks_url = Unicode(
        config=True,
        help="JWKS URL; empty means the issuer's OpenID discovery document. Env: EVN_JWKS_URL.",
    )

    @default("jwks_url")
    def _jwks_url_default(self) -> str:
        return _check_url(_env("EVN_JWKS_URL", ""), "jwks_url")

    @validate("jwks_url")
    def _jwks_url_validate(self, proposal):
        return _check_url(proposal["value"], "jwks_url")

    audience = Unicode(
        config=True,
        help="Audience every access token must carry (the `aud` claim). Env: EVN_SERVICE_AUDIENCE.",
    )

    @default("audience")
    def _audience_default(self) -> str:
        return _env("EVN_SERVICE_AUDIENCE", "evn-notebook-service")

    algorithms = List(
        Unicode(),
        config=True,
        help="Allowed JWT signature algorithms (comma-separated in the env; never `none` or HS*). "
        "Env: EVN_SERVICE_ALGORITHMS.",
    )

    @default("algorithms")
    def _algorithms_default(self) -> list[str]:
        raw = _env("EVN_SERVICE_ALGORITHMS", "RS256")
        return [a.strip() for a in raw.split(",") if a.strip()]

    @validate("algorithms")
    def _algorithms_validate(self, proposal):
        allowed = {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"}
        bad = [a for a in proposal["value"] if a not in allowed]
        if bad or not proposal["value"]:
            raise ValueError(f"algorithms must be a non-empty subset of {sorted(allowed)}: {bad}")
        return proposal["value"]

    leeway_seconds = Int(
        config=True,
        help="Clock skew tolerated on `exp`/`nbf`, in seconds. Env: EVN_SERVICE_LEEWAY_SECONDS.",
    )

    @default("leeway_seconds")
    def _leeway_default(self) -> int:
        return int(_env("EVN_SERVICE_LEEWAY_SECONDS", "30"))

    jwks_min_refresh_seconds = Float(
        config=True,
        help="Least time between two JWKS fetches caused by unknown key ids. "
        "Env: EVN_SERVICE_JWKS_MIN_REFRESH_SECONDS.",
    )

    @default("jwks_min_refresh_seconds")
    def _jwks_min_refresh_default(self) -> float:
        return float(_env("EVN_SERVICE_JWKS_MIN_REFRESH_SECONDS", "5"))

    jwks_timeout = Float(
        config=True,
        help="Seconds for fetching Keycloak's keys (JWKS) or discovery document. "
        "Env: EVN_SERVICE_JWKS_TIMEOUT.",
    )

    @default("jwks_timeout")
    def _jwks_timeout_default(self) -> float:
        return float(_env("EVN_SERVICE_JWKS_TIMEOUT", "10"))

    gitea_url = Unicode(
        config=True, help="Gitea's root URL, no trailing slash. Env: EVN_GITEA_URL."
    )

    @default("gitea_url")
    def _gitea_url_default(self) -> str:
        return _check_url(_env("EVN_GITEA_URL", ""), "gitea_url")

    @validate("gitea_url")
    def _gitea_url_validate(self, proposal):
        return _check_url(proposal["value"], "gitea_url")

    gitea_public_url = Unicode(
        config=True,
        help="Gitea's root URL as researchers reach it, for permalinks; empty means gitea_url. "
        "Env: EVN_GITEA_PUBLIC_URL.",
    )

    @default("gitea_public_url")
    def _gitea_public_url_default(self) -> str:
        return _check_url(_env("EVN_GITEA_PUBLIC_URL", ""), "gitea_public_url")

    @validate("gitea_public_url")
    def _gitea_public_url_validate(self, proposal):
        return _check_url(proposal["value"], "gitea_public_url")

    gitea_org = Unicode(
        config=True,
        help="Gitea organisation holding one repository per experiment. Env: EVN_GITEA_ORG.",
    )

    @default("gitea_org")
    def _gitea_org_default(self) -> str:
        return _env("EVN_GITEA_ORG", "EVN")

    gitea_branch = Unicode(
        config=True, help="Branch the archive commits to. Env: EVN_GITEA_BRANCH."
    )

    @default("gitea_branch")
    def _gitea_branch_default(self) -> str:
        return _env("EVN_GITEA_BRANCH", "main")

    committer_name = Unicode(
        config=True, help="Committer name of every archive commit. Env: EVN_SERVICE_COMMITTER_NAME."
    )

    @default("committer_name")
    def _committer_name_default(self) -> str:
        return _env("EVN_SERVICE_COMMITTER_NAME", "EVN notebook service")

    committer_email = Unicode(
        config=True,
        help="Committer e-mail of every archive commit. Env: EVN_SERVICE_COMMITTER_EMAIL.",
    )

    @default("committer_email")
    def _committer_email_default(self) -> str:
        return _env("EVN_SERVICE_COMMITTER_EMAIL", "notebook-service@evn-archive.invalid")

    bind = Unicode(config=True, help="Address the service listens on. Env: EVN_SERVICE_BIND.")

    @default("bind")
    def _bind_default(self) -> str:
        return _env("EVN_SERVICE_BIND", "127.0.0.1")

    port = Int(config=True, help="TCP port the service listens on. Env: EVN_SERVICE_PORT.")

    @default("port")
    def _port_default(self) -> int:
        return int(_env("EVN_SERVICE_PORT", "8765"))

    max_notebook_bytes = Int(
        config=True,
        help="Largest accepted notebook (its JSON), in bytes; bigger requests get 413. "
        "Env: EVN_SERVICE_MAX_NOTEBOOK_BYTES.",
    )

    @default("max_notebook_bytes")
    def _max_notebook_bytes_default(self) -> int:
        return int(_env("EVN_SERVICE_MAX_NOTEBOOK_BYTES", str(limit("max_notebook_bytes"))))

    experiment_pattern = Unicode(
        config=True,
        help="Regular expression a (upper-cased) experiment code must match. "
        "Env: EVN_SERVICE_EXPERIMENT_PATTERN.",
    )

    @default("experiment_pattern")
    def _experiment_pattern_default(self) -> str:
        return _env("EVN_SERVICE_EXPERIMENT_PATTERN", DEFAULT_EXPERIMENT_PATTERN)

    @validate("experiment_pattern")
    def _experiment_pattern_validate(self, proposal):
        re.compile(proposal["value"])
        return proposal["value"]

    create_repos = Bool(
        config=True,
        help="Create a missing experiment repository on its first submission. "
        "Env: EVN_SERVICE_CREATE_REPOS.",
    )

    @default("create_repos")
    def _create_repos_default(self) -> bool:
        return _env_bool("EVN_SERVICE_CREATE_REPOS", True)

    connect_timeout = Float(
        config=True,
        help="Seconds to connect to Gitea or Keycloak. Env: EVN_SERVICE_CONNECT_TIMEOUT.",
    )

    @default("connect_timeout")
    def _connect_timeout_default(self) -> float:
        return float(_env("EVN_SERVICE_CONNECT_TIMEOUT", "5"))

    request_timeout = Float(
        config=True,
        help="Seconds for one request to Gitea (a commit of a big notebook included). "
        "Env: EVN_SERVICE_REQUEST_TIMEOUT.",
    )

    @default("request_timeout")
    def _request_timeout_default(self) -> float:
        return float(_env("EVN_SERVICE_REQUEST_TIMEOUT", "60"))

    write_deadline_seconds = Float(
        config=True,
        help="Seconds one submission may spend retrying Gitea's write conflicts before 503. "
        "Env: EVN_SERVICE_WRITE_DEADLINE_SECONDS.",
    )

    @default("write_deadline_seconds")
    def _write_deadline_default(self) -> float:
        return float(_env("EVN_SERVICE_WRITE_DEADLINE_SECONDS", "120"))

    index_url = Unicode(
        config=True,
        help="Database of the archive index: a SQLAlchemy URL, sqlite:///path or "
        "postgresql+psycopg://…; deletable, it is rebuilt from Gitea. Env: EVN_SERVICE_INDEX_URL.",
    )

    @default("index_url")
    def _index_url_default(self) -> str:
        return _env("EVN_SERVICE_INDEX_URL", "sqlite:///evn-index.sqlite")

    @validate("index_url")
    def _index_url_validate(self, proposal):
        value = proposal["value"].strip()
        if not re.match(r"^(sqlite|postgresql)(\+\w+)?://", value):
            raise ValueError(
                f"index_url must be a sqlite:/// or postgresql+psycopg:// URL, got "
                f"{value.split('://')[0]!r}…"
            )
        return value

    webhook_secret = Unicode(
        config=True,
        help="Shared secret of Gitea's push webhook (HMAC-SHA256); empty turns the webhook "
        "route off. Never logged. Env: EVN_SERVICE_WEBHOOK_SECRET.",
    )

    @default("webhook_secret")
    def _webhook_secret_default(self) -> str:
        return os.environ.get("EVN_SERVICE_WEBHOOK_SECRET", "").strip()

    reconcile_seconds = Float(
        config=True,
        help="Seconds between two reconciles of the index with Gitea (under a lease, one replica "
        "at a time); 0 turns the periodic reconcile off. Env: EVN_SERVICE_RECONCILE_SECONDS.",
    )

    @default("reconcile_seconds")
    def _reconcile_seconds_default(self) -> float:
        return float(_env("EVN_SERVICE_RECONCILE_SECONDS", "300"))

    @validate("reconcile_seconds")
    def _reconcile_seconds_validate(self, proposal):
        if proposal["value"] < 0:
            raise ValueError(f"reconcile_seconds must be 0 or more, got {proposal['value']}")
        return proposal["value"]

    body_timeout_seconds = Float(
        config=True,
        help="Seconds a client may take to send a request body; a slower one is answered 408 and "
        "its connection closed. Env: EVN_SERVICE_BODY_TIMEOUT_SECONDS.",
    )

    @default("body_timeout_seconds")
    def _body_timeout_default(self) -> float:
        return float(_env("EVN_SERVICE_BODY_TIMEOUT_SECONDS", "120"))

    shutdown_grace_seconds = Float(
        config=True,
        help="Seconds a SIGTERM or SIGINT lets requests in flight finish (no new connection is "
        "accepted meanwhile) before the rest are cut off. Env: EVN_SERVICE_SHUTDOWN_GRACE_SECONDS.",
    )

    @default("shutdown_grace_seconds")
    def _shutdown_grace_default(self) -> float:
        return float(_env("EVN_SERVICE_SHUTDOWN_GRACE_SECONDS", "30"))

    max_new_repositories = Int(
        config=True,
        help="New experiment repositories one researcher may create per "
        "new_repository_window_seconds (429 beyond; counted per service process); 0: no limit. "
        "Env: EVN_SERVICE_MAX_NEW_REPOSITORIES.",
    )

    @default("max_new_repositories")
    def _max_new_repositories_default(self) -> int:
        return int(_env("EVN_SERVICE_MAX_NEW_REPOSITORIES", "10"))

    new_repository_window_seconds = Float(
        config=True,
        help="The window of max_new_repositories. Env: EVN_SERVICE_NEW_REPOSITORY_WINDOW_SECONDS.",
    )

    @default("new_repository_window_seconds")
    def _new_repository_window_default(self) -> float:
        return float(_env("EVN_SERVICE_NEW_REPOSITORY_WINDOW_SECONDS", "86400"))

    max_submissions = Int(
        config=True,
        help="Submissions one researcher may make per submission_window_seconds (429 beyond; a "
        "replay of the same request is not counted; counted per service process); 0: no limit. "
        "Env: EVN_SERVICE_MAX_SUBMISSIONS.",
    )

    @default("max_submissions")
    def _max_submissions_default(self) -> int:
        return int(_env("EVN_SERVICE_MAX_SUBMISSIONS", "120"))

    submission_window_seconds = Float(
        config=True,
        help="The window of max_submissions. Env: EVN_SERVICE_SUBMISSION_WINDOW_SECONDS.",
    )

    @default("submission_window_seconds")
    def _submission_window_default(self) -> float:
        return float(_env("EVN_SERVICE_SUBMISSION_WINDOW_SECONDS", "3600"))

    gitea_read_connections = Int(
        config=True,
        help="Keep-alive connections to Gitea the service's reads may use at once (the index, "
        "the read API); further reads queue, within their request's deadline. "
        "Env: EVN_SERVICE_GITEA_READ_CONNECTIONS.",
    )

    @default("gitea_read_connections")
    def _gitea_read_connections_default(self) -> int:
        return int(_env("EVN_SERVICE_GITEA_READ_CONNECTIONS", "16"))

    gitea_write_connections = Int(
        config=True,
        help="Connections to Gitea the service's commits may use at once (writes of different "
        "experiments run in parallel up to this). Env: EVN_SERVICE_GITEA_WRITE_CONNECTIONS.",
    )

    @default("gitea_write_connections")
    def _gitea_write_connections_default(self) -> int:
        return int(_env("EVN_SERVICE_GITEA_WRITE_CONNECTIONS", "8"))

    idempotency_days = Float(
        config=True,
        help="Days an idempotency record answers a replay; a request repeated later is a new "
        "submission; 0: records never expire. Env: EVN_SERVICE_IDEMPOTENCY_DAYS.",
    )

    @default("idempotency_days")
    def _idempotency_days_default(self) -> float:
        return float(_env("EVN_SERVICE_IDEMPOTENCY_DAYS", "30"))

    log_level = Unicode(config=True, help="Log level. Env: EVN_SERVICE_LOG_LEVEL.")

    @default("log_level")
    def _log_level_default(self) -> str:
        return _env("EVN_SERVICE_LOG_LEVEL", "INFO").upper()

    @property
    def gitea_token(self) -> str:
        """The bot's Gitea token: from EVN_GITEA_TOKEN only, never from a config file."""
        return os.environ.get("EVN_GITEA_TOKEN", "").strip()

    @property
    def public_gitea_url(self) -> str:
        return self.gitea_public_url or self.gitea_url

    def experiment_regex(self) -> re.Pattern[str]:
        return re.compile(self.experiment_pattern)

    def check_complete(self) -> list[str]:
        """What is missing to start; empty when the service can start."""
        missing = []
        if not self.issuer_url:
            missing.append("issuer_url (EVN_ISSUER_URL)")
        if not self.gitea_url:
            missing.append("gitea_url (EVN_GITEA_URL)")
        if not self.gitea_token:
            missing.append("the Gitea token (EVN_GITEA_TOKEN)")
        return missing
