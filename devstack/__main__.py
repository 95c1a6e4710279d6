"""``python3 -m devstack up|status|env|down|logs [NAME]``: the real stack on 127.0.0.1."""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import shlex
import sys
import time

from . import dachs, gitea, keycloak, paths, postgres, procs, service

# postgres: only with EVN_DEVSTACK_POSTGRES=1; dachs (the catalogue): unless EVN_DEVSTACK_DACHS=0
PARTS = ("postgres", "dachs", "keycloak", "gitea", "service")
OPTIONAL = {"postgres": postgres.wanted, "dachs": dachs.wanted}


def stack_env(state: dict) -> dict[str, str]:
    return {**_backends_env(state), **service.env(state)}


def _backends_env(state: dict) -> dict[str, str]:
    """What the notebook service is started with."""
    return {
        **postgres.env(state),
        **dachs.env(state),
        **keycloak.env(state),
        **gitea.env(state),
    }


def up(state: dict) -> None:
    started = time.monotonic()
    paths.ports(state)
    paths.save_state(state)
    before = {name for name in PARTS if procs.alive(state, name)}
    try:
        gitea.obtain()  # the long build first, so that Keycloak's wait is not wasted
        keycloak.up(state)
        gitea.up(state)
        if postgres.wanted():
            postgres.up(state)
        if dachs.wanted():
            dachs.up(state)
        service.up(state, _backends_env(state))
    except BaseException:
        for name in PARTS:
            if name not in before:
                procs.stop(state, name)
        raise
    procs.say(
        f"stack up in {time.monotonic() - started:.0f} s; settings: `python3 -m devstack env`"
    )


def status(state: dict) -> int:
    ready = {"keycloak": keycloak.ready, "gitea": gitea.ready, "service": service.ready}
    ready["postgres"] = postgres.ready
    ready["dachs"] = dachs.ready
    worst = 0
    for name in PARTS:
        if name in OPTIONAL and not (OPTIONAL[name]() or procs.alive(state, name)):
            continue
        pid = procs.alive(state, name)
        ok = pid is not None and ready[name](state)
        worst = worst if ok else 1
        print(
            f"{name:9} {'ready' if ok else 'running, not ready' if pid else 'stopped':20}"
            f" {('pid ' + str(pid)) if pid else ''}"
        )
    return worst


def down(state: dict) -> None:
    for name in reversed(PARTS):
        if name == "postgres":
            postgres.stop(state)  # a fast shutdown: SIGTERM would wait for every client
        elif name == "dachs":
            dachs.stop(state)  # and the system cluster, if devstack started it
        else:
            procs.stop(state, name)


def logs(name: str, lines: int) -> None:
    log = paths.LOGS / f"{name}.log"
    if log.exists():
        print("\n".join(log.read_text(errors="replace").splitlines()[-lines:]))


@contextlib.contextmanager
def _exclusive(command: str):
    """One changing command at a time: two restarts at once each started a service, and the
    second one's process, holding the port, was left out of the state (an orphan)."""
    if command not in ("up", "down", "restart"):
        yield
        return
    paths.STATE.mkdir(parents=True, exist_ok=True)
    with open(paths.STATE / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m devstack", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up", help="obtain what is missing, start, wait until ready (idempotent)")
    sub.add_parser("status", help="what runs and what answers (exit 1 unless all are ready)")
    sub.add_parser("env", help="KEY=value lines for eval")
    sub.add_parser("down", help="stop every process devstack started")
    rs = sub.add_parser("restart", help="stop one part and bring the stack up again")
    rs.add_argument("name", choices=PARTS)
    lg = sub.add_parser("logs", help="the last lines of a part's log")
    lg.add_argument("name", choices=PARTS)
    lg.add_argument("-n", type=int, default=60)
    args = parser.parse_args(argv)
    with _exclusive(args.command):
        return _run(args, paths.load_state())


def _run(args: argparse.Namespace, state: dict) -> int:
    try:
        if args.command == "up":
            up(state)
        elif args.command == "status":
            return status(state)
        elif args.command == "env":
            if not state.get("ports"):
                print("devstack: not set up yet; run `python3 -m devstack up`", file=sys.stderr)
                return 1
            for key, value in stack_env(state).items():
                print(f"export {key}={shlex.quote(value)}")
        elif args.command == "down":
            down(state)
        elif args.command == "restart":
            procs.stop(state, args.name)
            up(state)
        elif args.command == "logs":
            logs(args.name, args.n)
    except RuntimeError as e:
        print(f"devstack: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("devstack: interrupted; what this command started was stopped", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
