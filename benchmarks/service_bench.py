"""Benchmark of submissions: the notebook service beside the alternatives, interleaved, in one run.

    python3 -m devstack up && .venv/bin/python benchmarks/service_bench.py [--quick] [--only 1,4]

1. one submission through the service vs Gitea's own contents-API commit of the same bytes
   (1 MB, 20 MB notebooks of incompressible image outputs);
2. the git path of a jupyterlab-git user (a kept clone; per sample pull, add, commit, push) vs
   the service, into repositories of 200 and 1,200 realistic notebooks (built once, cached);
3. 16 clients into 16 experiments at once through the service vs one writer committing the same
   16 notebooks to Gitea one after another (wall time for all 16);
4. the service's memory: VmHWM growth of a fresh service process while it takes a 50 MB
   notebook, as a multiple of the notebook, and its RSS afterwards;
5. the whole path from the server extension (a Jupyter server logged in with a bootstrap refresh
   token) beside the service alone beside Gitea directly (1 MB, 20 MB);
6. the Jupyter server's start time (to ``/api/status`` answering) with and without the extension.

Every comparison interleaves its sides (the first side alternates), each sample a distinct
notebook, and prints the median, the spread (min-max), the ratio of the medians to the last side
and the load average before and after. Exits 1 when any part failed (its figures are not shown).
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import statistics
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from bench_jupyter import JupyterServer, start_time
from bench_notebooks import image_notebook, reduction_notebook, stored
from bench_repos import prepared
from bench_stats import compare, header, loadavg, spread
from service_stack import Gitea, Service, Tokens, index_database, stack_env, submit

PARTS = {1: "single", 2: "git path", 3: "16 clients", 4: "memory", 5: "extension", 6: "start"}
#: no periodic reconcile (a fresh index would reindex the whole organisation at start) and no
#: webhook route: the benchmark's service does only what the benchmark asks of it
QUIET = {"EVN_SERVICE_RECONCILE_SECONDS": "0", "EVN_SERVICE_WEBHOOK_SECRET": ""}


@dataclass
class Bench:
    stack: dict[str, str]
    gitea: Gitea
    tokens: Tokens
    service: Service
    work: Path
    samples: int
    quick: bool
    index_url: str

    def __post_init__(self) -> None:
        self.seeds = itertools.count(int(time.time()) % 1_000_000 * 1000)

    def seed(self) -> int:
        """A seed never used before in this run (and very likely not in earlier runs)."""
        return next(self.seeds)

    def experiment(self) -> str:
        """A new experiment (its repository created in Gitea, as a first submission would)."""
        code = f"B{self.seed() % 10_000:04d}{int(time.time() * 1000) % 10_000:04d}"
        self.gitea.create_repo(code)
        return code

    def submit(self, repo: str, data: bytes, name: str) -> float:
        return submit(self.service, repo, self.tokens(), data, name)


def single(b: Bench) -> None:
    print("\n1. one submission: the service vs Gitea's own contents-API commit of the same bytes")
    for mb in (1, 20):
        repo = b.experiment()

        def ours(i: int, repo: str = repo, mb: int = mb) -> float:
            return b.submit(repo, stored(image_notebook(mb, b.seed())), f"svc-{i}")

        def direct(i: int, repo: str = repo, mb: int = mb) -> float:
            data = stored(image_notebook(mb, b.seed()))
            return b.gitea.commit(repo, {f"direct/d{i}/d{i}.ipynb": data})

        compare(f"{mb} MB notebook (50 image outputs)",
                {"through the service": ours, "Gitea contents API": direct}, b.samples)  # fmt: skip


def git_path(b: Bench) -> None:
    print("\n2. the git path (kept clone: pull, add, commit, push) vs the service, same-size repos")
    for size in (200, 1200):
        started = time.perf_counter()
        git_repo, svc_repo = prepared(b.gitea, size)
        clone = b.work / f"clone-{size}"
        b.gitea.git("clone", "-q", b.gitea.remote(git_repo), str(clone))
        ready = time.perf_counter() - started
        print(f"  {size} notebooks: repositories reset and the clone made in {ready:.0f} s")

        def by_git(i: int, clone: Path = clone) -> float:
            folder = clone / "demo" / f"git-{i}"
            folder.mkdir(parents=True)
            (folder / f"git-{i}.ipynb").write_bytes(stored(reduction_notebook(b.seed())))
            user = ["-c", "user.name=Demo Researcher", "-c", "user.email=demo@evn-archive.test"]
            started = time.perf_counter()
            b.gitea.git("pull", "-q", "--no-rebase", "origin", "main", cwd=clone)
            b.gitea.git("add", f"demo/git-{i}/git-{i}.ipynb", cwd=clone)
            b.gitea.git(*user, "commit", "-q", "-m", f"Add git-{i}", cwd=clone)
            b.gitea.git("push", "-q", "origin", "HEAD:main", cwd=clone)
            return time.perf_counter() - started

        def ours(i: int, repo: str = svc_repo) -> float:
            return b.submit(repo, stored(reduction_notebook(b.seed())), f"svc-{i}")

        compare(f"{size} notebooks, one reduction notebook (~110 KB) added",
                {"through the service": ours, "git pull+add+commit+push": by_git},
                b.samples)  # fmt: skip


def clients(b: Bench) -> None:
    print("\n3. 16 clients into 16 experiments at once vs one writer to Gitea, one after another")
    repos = [b.experiment() for _ in range(16)]
    for n, repo in enumerate(repos):  # the service has seen each repository once
        b.submit(repo, stored(reduction_notebook(b.seed())), f"warm-{n}")

    def ours(i: int) -> float:
        token = b.tokens()
        notebooks = [stored(reduction_notebook(b.seed())) for _ in repos]

        def one(n: int) -> float:
            return submit(b.service, repos[n], token, notebooks[n], f"c{i}-{n}")

        started = time.perf_counter()
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(one, range(16)))
        return time.perf_counter() - started

    def direct(i: int) -> float:
        notebooks = [stored(reduction_notebook(b.seed())) for _ in repos]
        started = time.perf_counter()
        for n, repo in enumerate(repos):
            b.gitea.commit(repo, {f"direct/c{i}-{n}/c{i}-{n}.ipynb": notebooks[n]})
        return time.perf_counter() - started

    compare("wall time for all 16 (reduction notebooks, ~110 KB)",
            {"16 clients -> the service": ours, "1 writer -> Gitea, in turn": direct},
            b.samples)  # fmt: skip


def memory_sample(b: Bench, n: int) -> tuple[float, float, float, float]:
    """A fresh service takes a 50 MB notebook: (size MB, HWM growth MB, RSS before, after)."""
    svc = Service(b.stack, b.work / f"memory-{n}.log", b.index_url, **QUIET)
    try:
        repo = b.experiment()
        submit(svc, repo, b.tokens(), stored(reduction_notebook(b.seed())), "warm")
        data = stored(image_notebook(50, b.seed()))
        time.sleep(1.0)
        before = svc.status("VmRSS")
        try:  # the high-water mark starts from now, where the kernel allows it
            Path(f"/proc/{svc.proc.pid}/clear_refs").write_text("5")
        except OSError:
            pass
        if svc.status("VmHWM") > before * 1.1:  # else the growth would count the start-up's peak
            raise RuntimeError("the kernel did not reset the high-water mark (clear_refs)")
        submit(svc, repo, b.tokens(), data, "big")
        peak = svc.status("VmHWM")
        time.sleep(2.0)
        after = svc.status("VmRSS")
        return len(data) / 1e6, (peak - before) / 1e6, before / 1e6, after / 1e6
    finally:
        svc.stop()


def memory(b: Bench) -> None:
    runs = 1 if b.quick else 3
    print(f"\n4. the service's memory taking a 50 MB notebook ({runs} fresh process(es), VmHWM)")
    before_load = loadavg()
    results = [memory_sample(b, n) for n in range(runs)]
    size = results[0][0]
    print(f"  notebook {size:.1f} MB   (load {before_load} -> {loadavg()})")
    print(f"    high-water mark growth  {spread([r[1] for r in results], '{:.0f}')} MB"
          f" = {statistics.median(r[1] / r[0] for r in results):.2f}x the notebook")  # fmt: skip
    print(f"    RSS before              {spread([r[2] for r in results], '{:.0f}')} MB")
    print(f"    RSS 2 s after           {spread([r[3] for r in results], '{:.0f}')} MB"
          f" (kept: {statistics.median(r[3] - r[2] for r in results):.0f} MB)")  # fmt: skip


def extension(b: Bench) -> None:
    print("\n5. the whole path from the server extension vs the service alone vs Gitea directly")
    server = JupyterServer(b.stack, b.work / "jupyter", b.service.url, login=True)
    try:
        server.ready()
        for mb in (1, 20):
            repo = b.experiment()
            (server.root / "warm.ipynb").write_bytes(stored(reduction_notebook(b.seed())))
            server.submit(repo, "warm.ipynb", f"warm-{mb}")  # logs in (bootstrap token) once

            def whole(i: int, repo: str = repo, mb: int = mb) -> float:
                (server.root / f"x{mb}-{i}.ipynb").write_bytes(stored(image_notebook(mb, b.seed())))
                return server.submit(repo, f"x{mb}-{i}.ipynb", f"ext-{i}")

            def ours(i: int, repo: str = repo, mb: int = mb) -> float:
                return b.submit(repo, stored(image_notebook(mb, b.seed())), f"svc-{i}")

            def direct(i: int, repo: str = repo, mb: int = mb) -> float:
                data = stored(image_notebook(mb, b.seed()))
                return b.gitea.commit(repo, {f"direct/d{i}/d{i}.ipynb": data})

            compare(f"{mb} MB notebook (50 image outputs)",
                    {"extension -> service": whole, "service alone": ours,
                     "Gitea contents API": direct}, b.samples)  # fmt: skip
    finally:
        server.stop()


def startup(b: Bench) -> None:
    print("\n6. the Jupyter server's start time (process start to /api/status answering)")
    work = b.work / "start"

    def side(extension: bool) -> Callable[[int], float]:
        return lambda i: start_time(b.stack, work, b.service.url, extension)

    compare("jupyter server", {"with the extension": side(True), "without": side(False)},
            b.samples)  # fmt: skip


RUNS: dict[int, Callable[[Bench], None]] = {
    1: single, 2: git_path, 3: clients, 4: memory, 5: extension, 6: startup,
}  # fmt: skip


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="1,2,3,4,5,6", help="parts to run, e.g. 1,4")
    parser.add_argument("--samples", type=int, default=7, help="samples per side (default 7)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 2 samples per side")
    args = parser.parse_args()
    args.parts = sorted({int(x) for x in args.only.split(",")})
    if unknown := [p for p in args.parts if p not in RUNS]:
        parser.error(f"no part {unknown}; the parts are {PARTS}")
    if args.quick:
        args.samples = 2
    return args


def run(args: argparse.Namespace, stack: dict[str, str], work: Path) -> list[int]:
    """The parts asked for; the numbers of those that failed."""
    failed = []
    with ExitStack() as cleanup:
        index_url = cleanup.enter_context(index_database(stack, work))
        service = Service(stack, work / "service.log", index_url, **QUIET)
        cleanup.callback(service.stop)
        b = Bench(stack, Gitea(stack), Tokens(stack), service, work, args.samples, args.quick,
                  index_url)  # fmt: skip
        b.submit(b.experiment(), stored(reduction_notebook(b.seed())), "warm")
        for part in args.parts:
            try:
                RUNS[part](b)
            except Exception:
                failed.append(part)
                print(f"  PART {part} ({PARTS[part]}) FAILED, no figures from it:")
                print("    " + traceback.format_exc().strip().replace("\n", "\n    "))
                errors = [x for x in service.log_path.read_text().splitlines() if '"ERROR"' in x]
                print("    the service's last error: " + (errors[-1][:1500] if errors else "none"))
    return failed


def main() -> int:
    args = arguments()
    stack = stack_env()
    header("notebook service benchmark (benchmarks/service_bench.py)", args.samples)
    work = Path(tempfile.mkdtemp(prefix="evn-service-bench-"))
    started = time.perf_counter()
    try:
        failed = run(args, stack, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\nload at the end {loadavg()}; took {(time.perf_counter() - started) / 60:.1f} min")
    if failed:
        print(f"FAILED: part(s) {', '.join(map(str, failed))}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
