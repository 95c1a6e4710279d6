"""The options of the archive's catalogue and of the embargo (docs/catalogue.md), a part of
``ServiceConfig`` kept in its own module: each a trait read from its environment variable."""

from __future__ import annotations

import os
import re
from urllib.parse import urlparse

from traitlets import Float, Int, Unicode, default, validate
from traitlets.config import Configurable


def _env(name: str, fallback: str) -> str:
    return os.environ.get(name, "").strip() or fallback


def _at_least(name: str, value: float, least: float, *, strictly: bool = False) -> float:
    if value < least or (strictly and value == least):
        bound = f"more than {least:g}" if strictly else f"{least:g} or more"
        raise ValueError(f"{name} must be {bound}, got {value}")
    return value


class CatalogueOptions(Configurable):
    """The catalogue's and the embargo's options; ``ServiceConfig`` inherits them."""

    tap_url = Unicode(
        config=True,
        help="Base URL of the archive's TAP service (…/tap) holding ivoa.obscore; empty: no "
        "catalogue, the experiment pattern alone decides. Env: EVN_TAP_URL.",
    )

    @default("tap_url")
    def _tap_url_default(self) -> str:
        return _env("EVN_TAP_URL", "")

    @validate("tap_url")
    def _tap_url_validate(self, proposal):
        value = proposal["value"].strip()
        parsed = urlparse(value)
        if value and (parsed.scheme not in {"http", "https"} or not parsed.netloc):
            raise ValueError(f"tap_url must be an http(s) URL, got {value!r}")
        return value.rstrip("/")

    catalogue_codes = Unicode(
        config=True,
        help="Regular expression: codes it matches whole are looked up in the catalogue (404 "
        "when unknown); other codes the experiment pattern allows are accepted by the pattern "
        "alone. Env: EVN_CATALOGUE_CODES.",
    )

    @default("catalogue_codes")
    def _catalogue_codes_default(self) -> str:
        return _env("EVN_CATALOGUE_CODES", ".*")

    @validate("catalogue_codes")
    def _catalogue_codes_validate(self, proposal):
        re.compile(proposal["value"])
        return proposal["value"]

    catalogue_ttl_seconds = Float(
        config=True,
        help="Seconds an answer of the catalogue (also an unknown code) is kept before it is "
        "asked again. Env: EVN_CATALOGUE_TTL_SECONDS.",
    )

    @default("catalogue_ttl_seconds")
    def _catalogue_ttl_default(self) -> float:
        return float(_env("EVN_CATALOGUE_TTL_SECONDS", "3600"))

    @validate("catalogue_ttl_seconds")
    def _catalogue_ttl_validate(self, proposal):
        return _at_least("catalogue_ttl_seconds", proposal["value"], 0)

    catalogue_timeout_seconds = Float(
        config=True,
        help="Seconds one query of the catalogue may take; past it the request is answered 503. "
        "Env: EVN_CATALOGUE_TIMEOUT_SECONDS.",
    )

    @default("catalogue_timeout_seconds")
    def _catalogue_timeout_default(self) -> float:
        return float(_env("EVN_CATALOGUE_TIMEOUT_SECONDS", "10"))

    @validate("catalogue_timeout_seconds")
    def _catalogue_timeout_validate(self, proposal):
        return _at_least("catalogue_timeout_seconds", proposal["value"], 0, strictly=True)

    embargo_days = Int(
        config=True,
        help="Days after an experiment's last observation its data (and notebooks) become "
        "public, unless the catalogue has its own release date. Env: EVN_EMBARGO_DAYS.",
    )

    @default("embargo_days")
    def _embargo_days_default(self) -> int:
        return int(_env("EVN_EMBARGO_DAYS", "365"))

    @validate("embargo_days")
    def _embargo_days_validate(self, proposal):
        return int(_at_least("embargo_days", proposal["value"], 0))

    release_interval_seconds = Float(
        config=True,
        help="Seconds between two releases of the embargoes that have ended (their repositories "
        "made public, under the index's lease); 0: never. Env: EVN_RELEASE_INTERVAL_SECONDS.",
    )

    @default("release_interval_seconds")
    def _release_interval_default(self) -> float:
        return float(_env("EVN_RELEASE_INTERVAL_SECONDS", "300"))

    @validate("release_interval_seconds")
    def _release_interval_validate(self, proposal):
        return _at_least("release_interval_seconds", proposal["value"], 0)
