"""Who the author is: the token's email only when Keycloak says it was verified.

Unit tests of ``_identity`` on claims, then real users of the devstack realm (created through
Keycloak's admin API, removed afterwards) submitting through the service: the commit's author and
the RO-Crate's submitter carry the verified address or the no-reply one.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from evn_notebook_service.auth import NOREPLY_DOMAIN, _identity
from evn_notebook_service.errors import Unauthorized
from evn_notebook_service.rocrate import SUBMITTER_ID
from hypothesis import given
from hypothesis import strategies as st
from svc_api import GiteaInspector, body, submit
from svc_process import ServiceProcess
from svc_tokens import RealmKey, claims_of

from devstack.testing import password_grant

BASE = {"sub": "0b7c-sub", "preferred_username": "ada", "name": "Ada Lovelace"}


def ident(**claims: Any) -> Any:
    merged = {**BASE, **claims}
    return _identity({k: v for k, v in merged.items() if v is not None})


@pytest.mark.parametrize("sub", [None, "", "   ", "\t\n", 42, ["a"], {"a": 1}, True])
def test_a_token_without_a_non_empty_string_sub_is_a_401(sub: Any) -> None:
    with pytest.raises(Unauthorized, match="sub claim"):
        ident(sub=sub)


def test_a_verified_email_is_the_authors() -> None:
    who = ident(email="ada@example.org", email_verified=True)
    assert (who.sub, who.username, who.name, who.email) == (
        "0b7c-sub",
        "ada",
        "Ada Lovelace",
        "ada@example.org",
    )


@pytest.mark.parametrize("verified", [False, None, "true", "True", 1, "1", [True], {"value": True}])
def test_an_email_not_verified_by_a_json_true_is_not_used(verified: Any) -> None:
    assert ident(email="ada@example.org", email_verified=verified).email == (
        f"ada@{NOREPLY_DOMAIN}"
    )


@pytest.mark.parametrize(
    "email", [None, "", "  ", 7, ["ada@example.org"], "no-at-sign", "a@b@c", "Ada <ada@x.org>",
              "ada@example.org\nBcc: x@y", "ada @example.org", "a" * 250 + "@x.org"],
)  # fmt: skip
def test_a_verified_but_unusable_email_falls_back_to_no_reply(email: Any) -> None:
    assert ident(email=email, email_verified=True).email == f"ada@{NOREPLY_DOMAIN}"


@pytest.mark.parametrize("name", [None, "", "   ", 3, ["Ada"], {"first": "Ada"}])
def test_a_missing_or_odd_name_is_the_username(name: Any) -> None:
    assert ident(name=name).name == "ada"


@pytest.mark.parametrize("username", [None, "", 5, ["ada"]])
def test_a_token_without_a_username_is_a_401(username: Any) -> None:
    with pytest.raises(Unauthorized, match="preferred_username"):
        ident(preferred_username=username)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=6,
)


@given(
    st.fixed_dictionaries(
        {},
        optional={
            k: JSON for k in ("sub", "preferred_username", "name", "email", "email_verified", "typ")
        },
    )
)
def test_any_claims_give_an_identity_of_strings_or_a_401(claims: dict[str, Any]) -> None:
    try:
        who = _identity(claims)
    except Unauthorized:
        return
    assert all(isinstance(v, str) and v for v in (who.sub, who.username, who.name, who.email))
    verified = claims.get("email_verified") is True
    assert who.email.endswith("@" + NOREPLY_DOMAIN) or (
        verified and who.email == claims["email"].strip()
    )
    assert who.email.count("@") == 1


def test_a_username_with_an_at_sign_keeps_one_at_sign_in_its_no_reply_address() -> None:
    who = _identity({"sub": "x", "preferred_username": "ada@example.org"})
    assert who.email == f"ada+example.org@{NOREPLY_DOMAIN}"


# -- real users, real tokens, real commits ---------------------------------------------------


class RealmUsers:
    """Users created in the devstack realm through Keycloak's admin API (deleted at the end)."""

    def __init__(self, stack: dict[str, str]) -> None:
        self.stack = stack
        self.base = stack["EVN_KEYCLOAK_URL"] + "/admin/realms/evn/users"
        self.ids: list[str] = []

    def _admin(self) -> dict[str, str]:
        return RealmKey(self.stack)._admin()

    def create(self, *, verified: bool) -> tuple[str, str, str]:
        """A new researcher: (username, password, email)."""
        username = f"idtest-{uuid.uuid4().hex[:10]}"
        email, password = f"{username}@example.org", uuid.uuid4().hex
        r = requests.post(
            self.base,
            headers=self._admin(),
            timeout=30,
            json={
                "username": username,
                "enabled": True,
                "email": email,
                "emailVerified": verified,
                "firstName": "Identity",
                "lastName": "Tester",
                "requiredActions": [],
                "credentials": [{"type": "password", "value": password, "temporary": False}],
            },
        )
        assert r.status_code == 201, r.text
        self.ids.append(r.headers["Location"].rsplit("/", 1)[1])
        return username, password, email

    def delete_all(self) -> None:
        admin = self._admin()
        for user_id in self.ids:
            requests.delete(f"{self.base}/{user_id}", headers=admin, timeout=30)


@pytest.fixture
def users(stack: dict[str, str]) -> Iterator[RealmUsers]:
    made = RealmUsers(stack)
    yield made
    made.delete_all()


def _authors(gitea: GiteaInspector, code: str, result: dict[str, Any]) -> tuple[str, str]:
    """The email of the submission's commit in Gitea, and of its RO-Crate's submitter."""
    r = gitea.api(f"/repos/{gitea.org}/{code}/git/commits/{result['commit']}")
    r.raise_for_status()
    commit_email = r.json()["commit"]["author"]["email"]
    crate = gitea.raw(code, f"{result['folder']}/ro-crate-metadata.json", result["commit"]).json()
    submitter = {e["@id"]: e for e in crate["@graph"]}[SUBMITTER_ID]
    return commit_email, submitter["email"]


@pytest.mark.stack
@pytest.mark.parametrize("verified", [False, True])
def test_the_author_email_is_the_tokens_only_when_verified(
    stack: dict[str, str],
    service: ServiceProcess,
    users: RealmUsers,
    gitea: GiteaInspector,
    code: str,
    verified: bool,
) -> None:
    username, password, email = users.create(verified=verified)
    token = password_grant(stack, username, password)["access_token"]
    try:
        r = submit(service.url, code, token, body(name="identity"))
        assert r.status_code == 201, r.text
        result = r.json()
        expected = email if verified else f"{username}@{NOREPLY_DOMAIN}"
        assert result["submitter"]["email"] == expected
        assert _authors(gitea, code, result) == (expected, expected)
    finally:
        gitea.delete_repo(code)


@pytest.mark.stack
@pytest.mark.parametrize(
    ("changes", "status", "email"),
    [
        ({"sub": ""}, 401, None),
        ({"sub": "  "}, 401, None),
        ({"sub": 17}, 401, None),
        ({"email_verified": "true"}, 201, "no-reply"),
        ({"email": ["demo@evn-archive.test"]}, 201, "no-reply"),
        ({"name": {"given": "Demo"}}, 201, "demo@evn-archive.test"),
    ],
)
def test_odd_claims_in_signed_tokens_are_a_401_or_a_fallback(
    service: ServiceProcess,
    token: Callable[..., str],
    realm_key: RealmKey,
    gitea: GiteaInspector,
    code: str,
    changes: dict[str, Any],
    status: int,
    email: str | None,
) -> None:
    signed = realm_key.sign(claims_of(token(), **changes))
    try:
        r = submit(service.url, code, signed, body(name="claims"))
        assert r.status_code == status, r.text
        if status == 401:
            assert r.json()["message"] and r.headers["WWW-Authenticate"].startswith("Bearer")
            assert not gitea.repo_exists(code)
            return
        submitter = r.json()["submitter"]
        assert submitter["email"] == (f"demo@{NOREPLY_DOMAIN}" if email == "no-reply" else email)
        assert isinstance(submitter["name"], str) and submitter["name"]
    finally:
        gitea.delete_repo(code)
