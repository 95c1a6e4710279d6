"""Helpers for tests against the real stack: Keycloak grants and login, Gitea's API."""

from __future__ import annotations

import html
import re
import urllib.parse
from http.cookiejar import DefaultCookiePolicy

import requests

from devstack.testing import password_grant, token_endpoint

__all__ = ["password_grant", "token_endpoint"]


class LoopbackCookiePolicy(DefaultCookiePolicy):
    """Keycloak marks its cookies Secure even on http; a browser still sends them to 127.0.0.1."""

    def return_ok_secure(self, cookie, request):  # type: ignore[no-untyped-def]
        host = urllib.parse.urlsplit(request.get_full_url()).hostname
        return host in ("127.0.0.1", "localhost") or super().return_ok_secure(cookie, request)


class BrowserSession(requests.Session):
    """A requests session that sends Keycloak's ``Secure`` cookies back to 127.0.0.1, also while
    following redirects: ``Session.prepare_request`` merges cookies into a jar with the default
    policy (which drops them), so the header is rebuilt here from the loopback-aware jar."""

    def __init__(self) -> None:
        super().__init__()
        self.cookies = requests.cookies.RequestsCookieJar(policy=LoopbackCookiePolicy())

    def prepare_request(self, request: requests.Request) -> requests.PreparedRequest:
        prepared = super().prepare_request(request)
        prepared.headers.pop("Cookie", None)
        prepared.prepare_cookies(self.cookies)
        return prepared


def browser_session() -> BrowserSession:
    return BrowserSession()


def approve_device(url: str, user: str, password: str, *, deny: bool = False) -> str:
    """Open a device login's verification URL, log in and accept (or deny) the "grant access"
    page, as a person would; the text of the last page."""
    s = BrowserSession()
    page = s.get(url, timeout=30)
    page.raise_for_status()
    for _ in range(5):
        text = page.text
        login = re.search(r'<form[^>]*id="kc-form-login"[^>]*action="([^"]+)"', text)
        if login:
            page = s.post(
                html.unescape(login.group(1)),
                data={"username": user, "password": password},
                timeout=30,
            )
            continue
        # a "grant access" (consent) or "enter your code" form
        form = re.search(r'<form[^>]*action="([^"]+)"[^>]*>(.*?)</form>', text, flags=re.S)
        if form and ("accept" in form.group(2) or "device_user_code" in form.group(2)):
            fields = dict(
                re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', form.group(2))
            )
            if "accept" in form.group(2):
                fields["cancel" if deny else "accept"] = "No" if deny else "Yes"
            action = urllib.parse.urljoin(page.url, html.unescape(form.group(1)))
            page = s.post(action, data=fields, timeout=30)
            continue
        return text
    return page.text


def submit_login_form(
    session: requests.Session, authorize_url: str, user: str, password: str
) -> str:
    """Open Keycloak's login page, post the credentials, return the redirect (with code, state)."""
    page = session.get(authorize_url, timeout=30)
    page.raise_for_status()
    m = re.search(r'<form[^>]*id="kc-form-login"[^>]*action="([^"]+)"', page.text)
    if not m:
        raise AssertionError(f"no login form at {authorize_url}: {page.text[:300]}")
    r = session.post(
        html.unescape(m.group(1)),
        data={"username": user, "password": password},
        allow_redirects=False,
        timeout=30,
    )
    if r.status_code != 302:
        raise AssertionError(f"login answered {r.status_code}: {r.text[:300]}")
    return r.headers["Location"]


def gitea(stack: dict, method: str, path: str, *, admin: bool = False, **kw) -> requests.Response:
    token = stack["EVN_GITEA_ADMIN_TOKEN" if admin else "EVN_GITEA_TOKEN"]
    return requests.request(
        method,
        stack["EVN_GITEA_URL"] + "/api/v1" + path,
        timeout=60,
        headers={"Authorization": f"token {token}"},
        **kw,
    )
