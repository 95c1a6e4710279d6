"""Benchmark of the notebook service against the alternatives, side by side, in one run.

    python3 -m devstack up && .venv/bin/python benchmarks/service_bench.py [--quick]

Prints: submit through the service vs a direct Gitea contents-API commit (1 MB, 20 MB); vs the
git path of a jupyterlab-git user (clone + commit + push into a repository holding 200
notebooks); 16 concurrent clients into one experiment vs one client committing directly to
Gitea one commit after another, and 16 clients into 16 experiments; the service's peak RSS while
it takes a 50 MB notebook. It needs the real stack and writes into fresh repositories.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import string
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
from service_stack import Gitea, Service, Tokens, notebook_of_size, stack_env, submit


def code() -> str:
    return (
        "B" + str(random.randint(100, 999)) + "".join(random.choices(string.ascii_uppercase, k=4))
    )


def median(values: list[float]) -> float:
    return statistics.median(values)


def row(label: str, ours: float, theirs: float, unit: str = "s") -> None:
    print(f"  {label:<46} {ours:8.2f} {unit:<3} {theirs:8.2f} {unit:<3} {ours / theirs:6.2f}x")


def single_submissions(service: Service, gitea: Gitea, tokens: Tokens, reps: int) -> None:
    print(f"\n1. one submission: service vs direct Gitea contents API (median of {reps})")
    print(f"  {'':<46} {'service':>12} {'direct':>12} {'ratio':>7}")
    for mb in (1, 20):
        nb_json = json.dumps(notebook_of_size(mb)).encode()
        repo = code()
        gitea.create_repo(repo)
        ours, direct = [], []
        for i in range(reps):  # interleaved, so both sides see the same machine load
            ours.append(submit(service, repo, tokens(), nb_json, f"nb{i}"))
            direct.append(gitea.commit(repo, {f"direct/nb{i}.ipynb": nb_json}))
        row(f"{len(nb_json) / 1e6:.1f} MB notebook", median(ours), median(direct))


def git_path(service: Service, gitea: Gitea, tokens: Tokens, existing: int) -> None:
    print(f"\n2. the git path (clone + commit + push) into a repository of {existing} notebooks")
    repo = code()
    gitea.create_repo(repo)
    small = json.dumps(notebook_of_size(0.1)).encode()
    for start in range(0, existing, 50):
        gitea.commit(repo, {f"someone/nb{i}/nb{i}.ipynb": small for i in range(start, start + 50)})
    nb_json = json.dumps(notebook_of_size(1)).encode()
    times: list[float] = []
    ours: list[float] = []
    for i in range(3):
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp) / "clone"
            started = time.perf_counter()
            gitea.git("clone", "-q", f"{gitea.url}/{gitea.org}/{repo}.git", str(work))
            (work / "demo" / f"git{i}").mkdir(parents=True)
            (work / "demo" / f"git{i}" / f"git{i}.ipynb").write_bytes(nb_json)
            gitea.git("add", "-A", cwd=work)
            gitea.git("-c", "user.name=Demo", "-c", "user.email=d@x", "commit", "-qm", "nb",
                      cwd=work)  # fmt: skip
            gitea.git("push", "-q", "origin", "HEAD:main", cwd=work)
            times.append(time.perf_counter() - started)
        ours.append(submit(service, repo, tokens(), nb_json, f"svc{i}"))
    print(f"  {'':<46} {'service':>12} {'git path':>12} {'ratio':>7}")
    row("1 MB notebook, median of 3", median(ours), median(times))


def concurrency(service: Service, gitea: Gitea, tokens: Tokens, clients: int, each: int) -> None:
    total = clients * each
    print(f"\n3. {clients} clients x {each} submissions (small notebooks), one service process")
    nb_json = json.dumps(notebook_of_size(0.01)).encode()

    lock = threading.Lock()

    def token() -> str:
        with lock:
            return tokens()

    def run(codes: list[str]) -> float:
        def client(i: int) -> None:
            for n in range(each):
                submit(service, codes[i % len(codes)], token(), nb_json, f"c{i}-{n}")

        started = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(client, range(clients)))
        return time.perf_counter() - started

    one = code()
    gitea.create_repo(one)
    t_one = run([one])
    many = [code() for _ in range(clients)]
    for repo in many:
        gitea.create_repo(repo)
    t_many = run(many)
    direct_repo = code()
    gitea.create_repo(direct_repo)
    started = time.perf_counter()
    for n in range(total):
        gitea.commit(direct_repo, {f"direct/n{n}.ipynb": nb_json})
    t_direct = time.perf_counter() - started
    print(f"  {'':<46} {'commits/s':>12} {'s total':>12}")
    for label, seconds in (
        (f"{clients} clients -> 1 experiment (service)", t_one),
        ("1 client -> Gitea directly, one after another", t_direct),
        (f"{clients} clients -> {clients} experiments (service)", t_many),
    ):
        print(f"  {label:<46} {total / seconds:12.2f} {seconds:12.1f}")


def peak_rss(service: Service, gitea: Gitea, tokens: Tokens) -> None:
    print("\n4. the service's memory while it takes a 50 MB notebook")
    nb_json = json.dumps(notebook_of_size(50)).encode()
    repo = code()
    gitea.create_repo(repo)
    proc = psutil.Process(service.proc.pid)
    before = proc.memory_info().rss
    peak = before
    done = threading.Event()

    def watch() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, proc.memory_info().rss)
            time.sleep(0.02)

    watcher = threading.Thread(target=watch)
    watcher.start()
    seconds = submit(service, repo, tokens(), nb_json, "big")
    done.set()
    watcher.join()
    mb = len(nb_json) / 1e6
    print(f"  notebook {mb:.1f} MB, submitted in {seconds:.1f} s")
    growth = (peak - before) / 1e6
    print(f"  RSS before {before / 1e6:.0f} MB, peak {peak / 1e6:.0f} MB, growth {growth:.0f} MB")
    print(f"  = {growth / mb:.2f}x the notebook's size")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions and clients")
    parser.add_argument("--only", default="1,2,3,4", help="sections to run, e.g. 1,4")
    args = parser.parse_args()
    only = {int(x) for x in args.only.split(",")}
    stack = stack_env()
    gitea, tokens = Gitea(stack), Tokens(stack)
    log_dir = Path(tempfile.mkdtemp(prefix="service-bench-"))
    service = Service(stack, log_dir / "service.log")
    print(f"notebook service benchmark · {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} · "
          f"{psutil.cpu_count()} CPUs, load {psutil.getloadavg()[0]:.1f}")  # fmt: skip
    try:
        if 1 in only:
            single_submissions(service, gitea, tokens, reps=2 if args.quick else 3)
        if 2 in only:
            git_path(service, gitea, tokens, existing=200)
        if 3 in only:
            concurrency(service, gitea, tokens, clients=16, each=2 if args.quick else 3)
        if 4 in only:
            peak_rss(service, gitea, tokens)
    finally:
        service.stop()
        shutil.rmtree(log_dir, ignore_errors=True)
    print(f"\nload average at the end: {psutil.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    sys.exit(main())
