"""PostgreSQL 15 from the machine image: a private cluster for the index (EVN_DEVSTACK_POSTGRES=1).

The cluster lives in ``.devstack/postgres`` and runs as the ``postgres`` user (PostgreSQL refuses
to run as root); when that user cannot enter the checkout (a clone in a private ``mktemp -d``
folder), in ``/var/tmp/jupyterlab-evn-submit/postgres-<hash of the state folder>`` instead. It
listens on 127.0.0.1 and a port of its own, without a Unix socket, trusting local TCP
connections: it is a development database. Databases: ``evn_index`` (the devstack's notebook
service) and ``evn_index_test`` (the index tests).
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from . import paths, procs

BIN = Path(os.environ.get("EVN_DEVSTACK_PG_BIN", "/usr/lib/postgresql/15/bin"))
USER = "postgres"
ELSEWHERE = Path("/var/tmp/jupyterlab-evn-submit")  # for a checkout the postgres user cannot enter
DATABASES = ("evn_index", "evn_index_test")
PREFERRED_PORT = 5433


def wanted() -> bool:
    return os.environ.get("EVN_DEVSTACK_POSTGRES") == "1"


def obtain() -> None:
    """Nothing to download: the binaries come with the machine image (Debian's postgresql-15)."""
    missing = [
        b for b in ("initdb", "postgres", "pg_ctl", "pg_isready", "psql") if not (BIN / b).exists()
    ]
    if missing:
        raise RuntimeError(
            f"PostgreSQL 15 is not installed ({', '.join(missing)} missing in {BIN}): "
            "apt-get install postgresql-15, or set EVN_DEVSTACK_PG_BIN"
        )


def _as_postgres(*cmd: str | Path) -> list[str]:
    return ["runuser", "-u", USER, "--", *(str(c) for c in cmd)]


@functools.cache
def home() -> Path:
    """The cluster's folder: in the state folder if the ``postgres`` user can enter it (or the
    cluster is there already), else one of this checkout's own in /var/tmp."""
    inside = paths.STATE / "postgres"
    digest = hashlib.sha256(str(paths.STATE.resolve()).encode()).hexdigest()[:12]
    outside = ELSEWHERE / f"postgres-{digest}"
    for folder in (inside, outside):
        if (folder / "data" / "PG_VERSION").exists():
            return folder
    paths.STATE.mkdir(parents=True, exist_ok=True)
    enters = subprocess.run(_as_postgres("test", "-x", paths.STATE), capture_output=True)
    return inside if enters.returncode == 0 else outside


def data() -> Path:
    return home() / "data"


def port(state: dict) -> int:
    """The cluster's port: configured (EVN_DEVSTACK_POSTGRES_PORT), remembered, or picked now."""
    chosen = state.setdefault("ports", {})
    if os.environ.get("EVN_DEVSTACK_POSTGRES_PORT"):
        chosen["postgres"] = int(os.environ["EVN_DEVSTACK_POSTGRES_PORT"])
    elif "postgres" not in chosen:
        taken = set(chosen.values())
        free = PREFERRED_PORT not in taken and paths.port_free(PREFERRED_PORT)
        chosen["postgres"] = PREFERRED_PORT if free else paths.free_port()
    return int(chosen["postgres"])


def configure() -> None:
    """``initdb`` once: UTF-8, C collation (orders text like SQLite), trust on 127.0.0.1."""
    if (data() / "PG_VERSION").exists():
        return
    home().mkdir(parents=True, exist_ok=True)
    if home().parent == ELSEWHERE:
        os.chmod(ELSEWHERE, 0o711)  # noqa: S103 (whatever the umask, the postgres user enters)
    shutil.rmtree(data(), ignore_errors=True)
    data().mkdir(mode=0o700)
    shutil.chown(home(), USER, USER)
    shutil.chown(data(), USER, USER)
    procs.run(
        _as_postgres(
            BIN / "initdb", "-D", data(), "-U", USER, "--auth=trust", "--encoding=UTF8",
            "--locale=C", "--no-instructions",
        ),
        "creating the PostgreSQL cluster",
    )  # fmt: skip


def url(state: dict, database: str = "evn_index") -> str:
    return f"postgresql+psycopg://{USER}@127.0.0.1:{state['ports']['postgres']}/{database}"


def ready(state: dict) -> bool:
    if "postgres" not in state.get("ports", {}):
        return False
    probe = [str(BIN / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port(state))]
    return subprocess.run(probe, capture_output=True).returncode == 0


def _psql(state: dict, sql: str) -> str:
    cmd = [str(BIN / "psql"), "-h", "127.0.0.1", "-p", str(port(state)), "-U", USER]
    done = subprocess.run(
        [*cmd, "-d", "postgres", "-tAc", sql], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"psql {sql!r} failed: {done.stderr.strip()}")
    return done.stdout.strip()


def _create_databases(state: dict) -> None:
    have = _psql(state, "SELECT datname FROM pg_database").split()
    for name in DATABASES:
        if name not in have:
            _psql(state, f"CREATE DATABASE {name}")
            procs.say(f"created the PostgreSQL database {name}")


def up(state: dict) -> None:
    p = port(state)
    paths.save_state(state)
    if procs.alive(state, "postgres") and ready(state):
        _create_databases(state)
        return
    obtain()
    configure()
    cmd = _as_postgres(
        BIN / "postgres", "-D", data(), "-p", str(p),
        "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
    )  # fmt: skip
    procs.say(f"starting PostgreSQL on 127.0.0.1:{p}")
    procs.start(state, "postgres", cmd, env=dict(os.environ), cwd=home(), marker=str(data()))
    procs.wait_ready("postgres", lambda: ready(state), state, timeout=60)
    _create_databases(state)


def stop(state: dict) -> None:
    """A fast shutdown (clients disconnected, no recovery at the next start), then the process."""
    if procs.alive(state, "postgres"):
        subprocess.run(
            _as_postgres(BIN / "pg_ctl", "stop", "-D", data(), "-m", "fast", "-w", "-t", "30"),
            capture_output=True,
        )
    procs.stop(state, "postgres")


def env(state: dict) -> dict[str, str]:
    if not state.get("procs", {}).get("postgres"):
        return {}
    return {"EVN_POSTGRES_URL": url(state), "EVN_POSTGRES_TEST_URL": url(state, "evn_index_test")}
