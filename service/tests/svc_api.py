"""Client-side helpers for the service tests: notebooks, submissions, OpenAPI validation, Gitea."""

from __future__ import annotations

import json
import random
import string
import uuid
from typing import Any

import jsonschema
import requests
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012


def experiment_code() -> str:
    """A fresh, valid experiment code (so each test has its own repository)."""
    letters = "".join(random.choices(string.ascii_uppercase, k=4))
    return f"T{random.randint(1000, 9999)}{letters}"


def notebook(source: str = "print('hello EVN')", cells: int = 1) -> dict[str, Any]:
    return {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": i + 1,
                "id": f"cell-{i}",
                "metadata": {},
                "outputs": [],
                "source": source,
            }
            for i in range(cells)
        ],
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def metadata(title: str = "Calibration of EG078B") -> dict[str, Any]:
    return {
        "title": title,
        "description": "Fringe fitting and bandpass calibration.",
        "authors": [
            {"name": "Demo Researcher", "orcid": "0000-0002-1825-0097", "affiliation": "JIVE"},
            {"name": "Second Author"},
        ],
        "license": "CC-BY-4.0",
        "keywords": ["evn", "vlbi"],
    }


def body(**over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"notebook": notebook(), "metadata": metadata()}
    data.update(over)
    return data


def submit(
    service_url: str,
    code: str,
    token: str | None,
    payload: dict[str, Any] | bytes,
    key: str | None = None,
    path: str = "",
    timeout: float = 120,
) -> requests.Response:
    headers = {"Content-Type": "application/json", "Idempotency-Key": key or str(uuid.uuid4())}
    if token:
        headers["Authorization"] = "Bearer " + token
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return requests.post(
        f"{service_url}/api/v1/experiments/{code}/notebooks{path}",
        data=data,
        headers=headers,
        timeout=timeout,
    )


class OpenAPI:
    """Validates a response against the schema the service's own document gives it."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.doc = document
        resource = Resource.from_contents(document, default_specification=DRAFT202012)
        self.registry: Registry = Registry().with_resource("urn:openapi", resource)

    def check(self, template: str, method: str, response: requests.Response) -> Any:
        """The response's JSON, after checking its status and body are documented."""
        responses = self.doc["paths"][template][method.lower()]["responses"]
        spec = responses.get(str(response.status_code))
        assert spec is not None, f"{response.status_code} not documented for {method} {template}"
        if "$ref" in spec:
            spec = self.doc["components"]["responses"][spec["$ref"].rsplit("/", 1)[1]]
        if "content" not in spec:
            assert not response.content, f"{response.status_code} has no documented body"
            return None
        schema = _absolute(spec["content"]["application/json"]["schema"])
        data = response.json()
        jsonschema.Draft202012Validator(
            schema, registry=self.registry, format_checker=jsonschema.FormatChecker()
        ).validate(data)
        return data


def walk(
    openapi: OpenAPI, base: str, template: str, key: str, url: str, **get: Any
) -> list[list[dict[str, Any]]]:
    """Every page of a list, following ``next`` from ``url`` (each answer validated): the pages.

    ``next`` must be a relative URL carrying ``limit`` and ``cursor`` and equal the ``Link``
    header; the last page has ``next`` and ``next_cursor`` null and no ``Link``.
    """
    pages: list[list[dict[str, Any]]] = []
    while True:
        r = requests.get(base + url, timeout=60, **get)
        assert r.status_code == 200, r.text
        data = openapi.check(template, "get", r)
        pages.append(data[key])
        if data["next"] is None:
            assert data["next_cursor"] is None and "Link" not in r.headers
            return pages
        assert data["next"].startswith("/api/v1/") and "cursor=" in data["next"]
        assert r.headers["Link"] == f'<{data["next"]}>; rel="next"'
        assert len(pages) < 1000, "the pages do not end"
        url = data["next"]


def _absolute(schema: Any) -> Any:
    """Local ``#/…`` references point into the registered document."""
    if isinstance(schema, dict):
        return {
            k: ("urn:openapi" + v if k == "$ref" and v.startswith("#") else _absolute(v))
            for k, v in schema.items()
        }
    if isinstance(schema, list):
        return [_absolute(v) for v in schema]
    return schema


class GiteaInspector:
    """Gitea as the tests see it (admin token): commits, files, repositories."""

    def __init__(self, stack: dict[str, str]) -> None:
        self.url = stack["EVN_GITEA_URL"].rstrip("/")
        self.org = stack["EVN_GITEA_ORG"]
        self.session = requests.Session()
        self.session.headers["Authorization"] = "token " + stack["EVN_GITEA_ADMIN_TOKEN"]

    def api(self, path: str, **params: Any) -> requests.Response:
        return self.session.get(f"{self.url}/api/v1{path}", params=params, timeout=30)

    def repo_exists(self, code: str) -> bool:
        return self.api(f"/repos/{self.org}/{code}").status_code == 200

    def commit_count(self, code: str) -> int:
        r = self.api(f"/repos/{self.org}/{code}/commits", limit=1, stat="false", files="false")
        if r.status_code in (404, 409):
            return 0
        r.raise_for_status()
        return int(r.headers["X-Total-Count"])

    def raw(self, code: str, path: str, ref: str | None = None) -> requests.Response:
        params = {"ref": ref} if ref else {}
        return self.api(f"/repos/{self.org}/{code}/raw/{path}", **params)

    def tree(self, code: str) -> list[str]:
        r = self.api(f"/repos/{self.org}/{code}/git/trees/main", recursive="true", per_page=10000)
        if r.status_code == 404:
            return []
        r.raise_for_status()
        return [e["path"] for e in r.json()["tree"] if e["type"] == "blob"]

    def delete_repo(self, code: str) -> None:
        self.session.delete(f"{self.url}/api/v1/repos/{self.org}/{code}", timeout=30)
