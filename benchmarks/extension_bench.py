"""Benchmark of the server extension against the real stack (``python3 -m devstack up`` first).

1. Event-loop health: latency of Jupyter's ``GET /api/status`` (p50/p99/max, polled every 20 ms
   by a thread) on a real ``jupyter server`` with the extension, idle, while a 50 MB notebook is
   being submitted through ``POST evn-submit/submit``, and while it is opened as a copy through
   ``POST evn-submit/open-copy``, and, as the floor, while Jupyter itself saves the same notebook
   (``PUT /api/contents``, JupyterLab's Save) (``--runs`` times each, pooled), with the load
   average before and after and the server's memory high-water mark (VmHWM). ``--code-rev REV``
   also runs a server with the extension's code as of a git revision (``git archive``), the
   rounds interleaved, for a before/after comparison. In ``extension_latency.py``.
2. Token-endpoint calls (code exchange + refreshes, counted by ``OidcClient.token_requests``)
   for 100 sequential submissions, and for 10 concurrent submissions right after the access
   token expired (``EVN_SHORT_CLIENT_ID``, 10 s tokens). Runs the extension's own objects
   in-process, against the real Keycloak and notebook service.

    .venv/bin/python benchmarks/extension_bench.py [--size-mb 50] [--submits 100] [--runs 3]
        [--code-rev HEAD~1] [--only latency|tokens]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import html
import json
import os
import re
import secrets
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path
from typing import Any

import nbformat
import requests
from cryptography.fernet import Fernet

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from jupyter_server.services.contents.filemanager import FileContentsManager  # noqa: E402

from jupyterlab_evn_submit.actions import ArchiveActions  # noqa: E402
from jupyterlab_evn_submit.client import ServiceClient  # noqa: E402
from jupyterlab_evn_submit.config import EvnSubmitConfig  # noqa: E402
from jupyterlab_evn_submit.oidc import OidcClient  # noqa: E402
from jupyterlab_evn_submit.tokens import TokenManager  # noqa: E402
from jupyterlab_evn_submit.tokenstore import TokenStore  # noqa: E402


def stack_env() -> dict[str, str]:
    out = subprocess.run(
        [sys.executable, "-m", "devstack", "env"], cwd=REPO, capture_output=True, text=True
    )
    if out.returncode != 0:
        sys.exit("devstack is not up: python3 -m devstack up")
    env = {}
    for line in out.stdout.splitlines():
        key, _, value = line.removeprefix("export ").partition("=")
        env[key] = shlex.split(value)[0] if value else ""
    return env


# --- a browser, for Keycloak's login form -------------------------------------------------


class _LoopbackPolicy(DefaultCookiePolicy):
    def return_ok_secure(self, cookie: Any, request: Any) -> bool:
        host = urllib.parse.urlsplit(request.get_full_url()).hostname
        return host in ("127.0.0.1", "localhost") or super().return_ok_secure(cookie, request)


class Browser(requests.Session):
    def __init__(self) -> None:
        super().__init__()
        self.cookies = requests.cookies.RequestsCookieJar(policy=_LoopbackPolicy())

    def prepare_request(self, request: requests.Request) -> requests.PreparedRequest:
        prepared = super().prepare_request(request)
        prepared.headers.pop("Cookie", None)
        prepared.prepare_cookies(self.cookies)
        return prepared


def keycloak_login(authorize_url: str, user: str, password: str) -> dict[str, str]:
    s = Browser()
    page = s.get(authorize_url, timeout=30)
    m = re.search(r'<form[^>]*id="kc-form-login"[^>]*action="([^"]+)"', page.text)
    assert m, "no Keycloak login form"
    r = s.post(
        html.unescape(m.group(1)),
        data={"username": user, "password": password},
        allow_redirects=False,
        timeout=30,
    )
    assert r.status_code == 302, r.status_code
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(r.headers["Location"]).query))


# --- notebooks ------------------------------------------------------------------------------


def big_notebook(size_mb: int) -> Any:
    """``size_mb`` cells, each with a ~1 MB PNG-sized base64 output (incompressible)."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    for i in range(size_mb):
        cell = nbformat.v4.new_code_cell(f"plot({i})", execution_count=i + 1)
        data = base64.b64encode(os.urandom(750_000)).decode()
        cell.outputs = [nbformat.v4.new_output("display_data", data={"image/png": data})]
        nb.cells.append(cell)
    return nb


def small_notebook(i: int) -> Any:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells.append(nbformat.v4.new_code_cell(f"x = {i}", execution_count=1))
    return nb


def experiment_code() -> str:
    return f"B{secrets.randbelow(10_000):04d}{secrets.token_hex(2).upper()}"


def submission(experiment: str, path: str, name: str) -> dict[str, Any]:
    return {
        "path": path,
        "experiment": experiment,
        "name": name,
        "metadata": {
            "title": f"Benchmark {name}",
            "description": "benchmark",
            "authors": [{"name": "Demo Researcher"}],
            "license": "CC-BY-4.0",
            "keywords": [],
        },
        "output_policy": "keep",
        "message": "benchmark",
        "idempotency_key": "bench-" + secrets.token_hex(12),
    }


def percentiles(samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    p50 = statistics.median(ms)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return f"n={len(ms):4d}  p50={p50:7.2f} ms  p99={p99:7.2f} ms  max={ms[-1]:7.2f} ms"


# --- part 2: token-endpoint calls -------------------------------------------------------------


async def logged_in_actions(stack: dict[str, str], client_id: str, work: Path) -> ArchiveActions:
    config = EvnSubmitConfig(
        issuer_url=stack["EVN_ISSUER_URL"],
        client_id=client_id,
        service_url=stack["EVN_SERVICE_URL"],
        token_store=str(work / f"store-{client_id}" / "refresh-token"),
        token_keys=[Fernet.generate_key().decode()],
    )
    oidc = OidcClient(config.issuer_url, config.client_id, config.scopes)
    tokens = TokenManager(oidc, TokenStore(config.store_path, config.token_keys))
    # an exact redirect URI of the devstack realm (Keycloak ignores a loopback port)
    url = await tokens.start_browser_login("bench", "http://127.0.0.1:1/evn-submit/callback")
    query = await asyncio.to_thread(
        keycloak_login, url, stack["EVN_DEMO_USER"], stack["EVN_DEMO_PASSWORD"]
    )
    await tokens.finish_browser_login("bench", query["state"], query["code"])
    cm = FileContentsManager(root_dir=str(work / "root2"))
    return ArchiveActions(config, tokens, ServiceClient(config.service_url), cm)


async def token_calls(stack: dict[str, str], submits: int, work: Path) -> None:
    root = work / "root2"
    root.mkdir()
    for i in range(max(submits, 10)):
        nbformat.write(small_notebook(i), root / f"n{i}.ipynb")
    experiment = experiment_code()

    actions = await logged_in_actions(stack, stack["EVN_CLIENT_ID"], work)
    before = actions.tokens.oidc.token_requests
    t0 = time.perf_counter()
    for i in range(submits):
        await actions.submit(submission(experiment, f"n{i}.ipynb", f"n{i}"))
    took = time.perf_counter() - t0
    calls = actions.tokens.oidc.token_requests - before
    print(
        f"\n{submits} sequential submissions: {calls} token-endpoint calls after login "
        f"({took:.1f} s, {took / submits * 1000:.0f} ms each)"
    )
    await actions.tokens.logout()

    short = await logged_in_actions(stack, stack["EVN_SHORT_CLIENT_ID"], work)
    await short.tokens.access_token()
    await asyncio.sleep(9.0)  # past the refresh point of a 10 s access token
    before = short.tokens.oidc.token_requests
    t0 = time.perf_counter()
    burst = asyncio.gather(
        *(short.submit(submission(experiment, f"n{i}.ipynb", f"c{i}")) for i in range(10))
    )
    # all ten ask for a token within their first second; a run that outlives the next 10 s
    # token needs later refreshes, which are not this figure
    await asyncio.sleep(3.0)
    first_burst = short.tokens.oidc.token_requests - before
    results = await burst
    took = time.perf_counter() - t0
    calls = short.tokens.oidc.token_requests - before
    print(
        f"10 concurrent submissions after expiry: {first_burst} token-endpoint call(s) "
        "in the first 3 s"
    )
    print(
        f"  ... and {calls} in total until all {len(results)} were archived ({took:.1f} s; "
        "a run longer than the 10 s token needs later refreshes)"
    )
    await short.tokens.logout()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=50)
    parser.add_argument("--submits", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3, help="submissions and copies, pooled")
    parser.add_argument("--code-rev", action="append", default=[], help="also run this revision")
    parser.add_argument("--only", choices=("latency", "tokens"))
    args = parser.parse_args()
    stack = stack_env()
    with tempfile.TemporaryDirectory(prefix="evn-bench-") as tmp:
        work = Path(tmp)
        if args.only != "tokens":
            from extension_latency import latency_under_submission

            latency_under_submission(stack, args.size_mb, args.runs, work, args.code_rev)
        if args.only != "latency":
            asyncio.run(token_calls(stack, args.submits, work))
    print(json.dumps({"done": True}))


if __name__ == "__main__":
    main()
