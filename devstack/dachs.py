"""DaCHS, the EVN archive's Virtual Observatory server, as the stack's experiment catalogue.

Debian's ``gavodachs2-server`` (installed by ``scripts/bootstrap.sh``) is a system service: it lives
in ``/var/gavo``, reads ``/etc/gavo.rc`` and keeps its tables in the system PostgreSQL cluster
15/main (port 5432; devstack's own cluster for the index is another one, on its own port). ``up``
starts that cluster when it is down, writes a resource descriptor and the seed (``SEED``: synthetic
EVN experiments relative to today, one ObsCore row per data product) into ``/var/gavo/inputs/evn``,
imports them when they changed (so at least daily) and runs ``dachs serve start --foreground`` as
a devstack part (its output in ``.devstack/logs/dachs.log``; DaCHS's own logs in /var/gavo/logs).
``EVN_DEVSTACK_DACHS=0`` leaves it out. See docs/catalogue.md.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import os
import shutil
import subprocess
import urllib.parse
import urllib.request
from pathlib import Path

from . import dachs_seed, paths, procs

CODES = dachs_seed.CODES
RESDIR = "evn"
GAVO = Path("/var/gavo")  # the Debian package's rootDir
INPUTS = GAVO / "inputs" / RESDIR
GAVO_RC = Path("/etc/gavo.rc")
TEMPLATE = Path(__file__).with_name("dachs-rd") / "q.rd"
CLUSTER = ("15", "main")
MARKER = "dachs serve start --foreground"
RC_HEADER = "# written by python3 -m devstack (jupyterlab-evn-submit): DaCHS on 127.0.0.1\n"
PREFERRED_PORT = 8080


def wanted() -> bool:
    return os.environ.get("EVN_DEVSTACK_DACHS", "1") != "0"


def port(state: dict) -> int:
    """DaCHS's port: configured (EVN_DEVSTACK_DACHS_PORT), remembered, or picked (8080 first)."""
    chosen = state.setdefault("ports", {})
    if os.environ.get("EVN_DEVSTACK_DACHS_PORT"):
        chosen["dachs"] = int(os.environ["EVN_DEVSTACK_DACHS_PORT"])
    elif "dachs" not in chosen:
        taken = set(chosen.values())
        free = PREFERRED_PORT not in taken and paths.port_free(PREFERRED_PORT)
        chosen["dachs"] = PREFERRED_PORT if free else paths.free_port()
    return int(chosen["dachs"])


def _remembered_port() -> int:
    return int(paths.load_state().get("ports", {}).get("dachs", PREFERRED_PORT))


def url(state: dict) -> str:
    return f"http://127.0.0.1:{port(state)}"


def rows(today: dt.date, dachs_port: int = PREFERRED_PORT) -> list[dict]:
    """The seeded ObsCore rows for ``today`` (deterministic given the date and the port)."""
    return dachs_seed.rows(today, f"http://127.0.0.1:{dachs_port}/getproduct/{RESDIR}/data/")


def _today() -> dt.date:
    return dt.datetime.now(dt.timezone.utc).date()


SEED: list[dict] = rows(_today(), _remembered_port())


def tap_query(base: str, adql: str, timeout: float = 10.0) -> list[dict]:
    """Rows of a synchronous ADQL query (CSV) against the TAP service at ``base`` (…/tap)."""
    form = urllib.parse.urlencode(
        {"REQUEST": "doQuery", "LANG": "ADQL", "FORMAT": "csv", "QUERY": adql}
    ).encode()
    with urllib.request.urlopen(base.rstrip("/") + "/sync", form, timeout=timeout) as r:
        return list(csv.DictReader(io.StringIO(r.read().decode())))


def ready(state: dict) -> bool:
    if "dachs" not in state.get("ports", {}):
        return False
    try:
        return bool(tap_query(url(state) + "/tap", "SELECT TOP 1 obs_id FROM ivoa.obscore", 5))
    except (OSError, ValueError):
        return False


def obtain() -> None:
    if not shutil.which("dachs"):
        raise RuntimeError(
            "DaCHS is not installed: run bash scripts/bootstrap.sh (it installs Debian's "
            "gavodachs2-server), or set EVN_DEVSTACK_DACHS=0 to run the stack without a catalogue"
        )


def _cluster_online() -> bool:
    listing = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True, check=False)
    for line in listing.stdout.splitlines():
        fields = line.split()
        if tuple(fields[:2]) == CLUSTER:
            return fields[3] == "online"
    raise RuntimeError(
        f"the PostgreSQL cluster {'/'.join(CLUSTER)} DaCHS uses does not exist "
        "(apt-get install --reinstall gavodachs2-server creates it)"
    )


def _start_cluster(state: dict) -> None:
    """DaCHS's database: the system cluster, which a container does not start by itself."""
    if _cluster_online():
        return
    procs.run(["pg_ctlcluster", *CLUSTER, "start"], f"starting PostgreSQL {'/'.join(CLUSTER)}")
    state["dachs_cluster_started"] = True  # down stops it again; one started by others is left
    paths.save_state(state)


def _gavo_rc(state: dict) -> str:
    p = port(state)
    return (
        f"{RC_HEADER}[web]\nbindAddress: 127.0.0.1\nserverPort: {p}\n"
        f"serverURL: http://127.0.0.1:{p}\n"
    )


def _write_rc(text: str) -> bool:
    """Write /etc/gavo.rc when it differs (keeping a copy of one devstack did not write)."""
    old = GAVO_RC.read_text() if GAVO_RC.exists() else None
    if old == text:
        return False
    if old is not None and not old.startswith(RC_HEADER):
        shutil.copy2(GAVO_RC, GAVO_RC.with_name(GAVO_RC.name + ".before-devstack"))
    GAVO_RC.write_text(text)
    return True


def seed_csv(seed: list[dict]) -> str:
    out = io.StringIO()
    fields = ["obs_id", "target_name", "ra", "dec", "t_min", "t_max", "did", "product", "size"]
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*fields, "embargo"])
    for row in seed:
        writer.writerow(
            [row["obs_id"], row["target_name"], row["s_ra"], row["s_dec"], row["t_min"],
             row["t_max"], row["obs_publisher_did"], row["product"], row["size"],
             row["embargo"] or ""]
        )  # fmt: skip
    return out.getvalue()


def _write_inputs(rd: str, table: str, seed: list[dict]) -> None:
    """The resource directory: the RD, the CSV and a tiny stand-in file per product."""
    INPUTS.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(INPUTS / "data", ignore_errors=True)
    for row in seed:
        product = INPUTS / "data" / row["product"]
        product.parent.mkdir(parents=True, exist_ok=True)
        product.write_text(f"devstack stand-in for the FITS-IDI file {row['product']}\n")
    (INPUTS / "q.rd").write_text(rd)
    (INPUTS / "seed.csv").write_text(table)


def _seed(seed: list[dict]) -> bool:
    """Import the RD and the seed when they differ from the last import; True if imported."""
    rd, table = TEMPLATE.read_text(), seed_csv(seed)
    digest = hashlib.sha256((rd + table).encode()).hexdigest()
    stamp = INPUTS / "seed.sha256"
    if stamp.exists() and stamp.read_text().strip() == digest:
        return False
    stamp.unlink(missing_ok=True)
    _write_inputs(rd, table, seed)
    log = paths.LOGS / "dachs-import.log"
    days = len({r["obs_id"] for r in seed})
    for args, what in (
        (["imp", "//obscore"], "DaCHS: the ObsCore table"),
        (["imp", f"{RESDIR}/q"], f"DaCHS: importing {days} synthetic EVN experiments"),
        (["pub", f"{RESDIR}/q"], "DaCHS: publishing them"),
    ):
        procs.run(["dachs", *args], what, cwd=GAVO / "inputs", log=log)
    stamp.write_text(digest + "\n")
    return True


def up(state: dict) -> None:
    p = port(state)
    paths.save_state(state)
    obtain()
    try:
        _start_cluster(state)
        changed = _write_rc(_gavo_rc(state))
        changed = _seed(rows(_today(), p)) or changed
    except PermissionError as e:
        raise RuntimeError(
            f"DaCHS is a system service and devstack configures it as root ({e}); "
            "run as root, or set EVN_DEVSTACK_DACHS=0 to run the stack without a catalogue"
        ) from e
    if procs.alive(state, "dachs"):
        if not changed and ready(state):
            return
        procs.stop(state, "dachs")
    procs.say(f"starting DaCHS on 127.0.0.1:{p}")
    procs.start(
        state,
        "dachs",
        ["dachs", "serve", "start", "--foreground"],
        env=dict(os.environ),
        cwd=GAVO,
        marker=MARKER,
    )
    procs.wait_ready("dachs", lambda: ready(state), state, timeout=90)


def stop(state: dict) -> None:
    procs.stop(state, "dachs")
    if state.pop("dachs_cluster_started", False):
        subprocess.run(["pg_ctlcluster", *CLUSTER, "stop"], capture_output=True, check=False)
        paths.save_state(state)


def env(state: dict) -> dict[str, str]:
    if not state.get("procs", {}).get("dachs"):
        return {}
    return {"EVN_TAP_URL": url(state) + "/tap", "EVN_CATALOGUE_CODES": CODES}
