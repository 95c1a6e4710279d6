"""Benchmark of the archive index: reads and search at 50, 500 and 5,000 experiments, side by side.

    python3 -m devstack up && .venv/bin/python benchmarks/index_bench.py [--quick] [--real 50]

Prints, from one run:
1. p50 / p95 of every read endpoint and of search over HTTP, for indexes filled synthetically with
   R = 50, 500 and 5,000 experiments of 10 notebooks each (50,000 notebooks at the largest), one
   service process per size, the calls interleaved across the sizes so all see the same load;
2. the Gitea fan-out that the reads used to make beside the index, on real repositories (the
   organisation as it is plus ``--real`` new experiments, one notebook each), interleaved;
3. the delay from a submission's answer to its appearing in search;
4. the time to rebuild the index of the whole organisation from Gitea (``reindex``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import string
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests
from evn_notebook_service.config import ServiceConfig
from evn_notebook_service.fanout import FanoutReader
from evn_notebook_service.gitea import GiteaClient
from evn_notebook_service.index import Index, NotebookRecord, VersionRecord
from service_stack import Service, Tokens, notebook_of_size, stack_env, submit

WORDS = [
    "fringe", "bandpass", "amplitude", "calibration", "imaging", "selfcal", "flagging", "delay",
    "phase", "referencing", "polarisation", "spectral", "maser", "pulsar", "quasar", "jet",
    "astrometry", "closure", "uvfits", "clean", "tsys", "gain", "antenna", "baseline",
]  # fmt: skip
PER_EXPERIMENT = 10


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def row(label: str, samples: list[float]) -> str:
    ms = [s * 1000 for s in samples]
    return f"{label:<34} p50 {statistics.median(ms):7.1f} ms  p95 {pct(ms, 0.95):7.1f} ms"


def code_of(i: int) -> str:
    return f"S{i:04d}X"


def fill(url: str, experiments: int, owner_sub: str) -> None:
    """``experiments`` x PER_EXPERIMENT notebooks, 2 versions; every 25th is ``owner_sub``'s."""
    index = Index(url)
    index.migrate()
    rnd = random.Random(experiments)
    for e in range(experiments):
        notebooks = []
        for n in range(PER_EXPERIMENT):
            words = rnd.sample(WORDS, 6)
            serial = e * PER_EXPERIMENT + n
            mine = serial % 25 == 0
            owner = "demo" if mine else f"user{serial % 97}"
            name = f"nb-{serial}"
            updated = f"2026-{1 + serial % 12:02d}-{1 + serial % 28:02d}T12:00:00Z"
            meta = {"title": f"{words[0].title()} of {code_of(e)}", "description": " ".join(words),
                    "authors": [{"name": f"Author {serial % 300}"}], "license": "CC-BY-4.0",
                    "keywords": words[:2]}  # fmt: skip
            rec = NotebookRecord(
                experiment=code_of(e), owner=owner, name=name, folder=f"{owner}/{name}",
                notebook_path=f"{owner}/{name}/{name}.ipynb", title=meta["title"],
                description=meta["description"], authors=meta["authors"], license="CC-BY-4.0",
                keywords=meta["keywords"], version=2, commit=f"{serial:040x}", updated=updated,
                owner_sub=owner_sub if mine else f"sub-{serial % 97}", legacy=False,
                text=" ".join(rnd.choices(WORDS, k=400)),
            )  # fmt: skip
            versions = [
                VersionRecord(v, f"{serial:038x}{v:02x}", updated, f"v{v}", meta, None)
                for v in (1, 2)
            ]
            notebooks.append((rec, versions))
        index.replace_repo(code_of(e), notebooks, head=f"{e:040x}", gitea_updated=str(e))
    index.dispose()


def synthetic(stack: dict[str, str], tokens: Tokens, sizes: list[int], calls: int) -> None:
    print(f"\n1. reads and search over HTTP, synthetic indexes (load {load()})")
    sub = json.loads(_claims(tokens()))["sub"]
    work = Path(tempfile.mkdtemp(prefix="evn-index-bench-"))
    services = {}
    for r in sizes:
        started = time.perf_counter()
        url = f"sqlite:///{work / f'index-{r}.sqlite'}"
        fill(url, r, sub)
        took = time.perf_counter() - started
        print(f"  filled R={r} ({r * PER_EXPERIMENT} notebooks) in {took:.0f} s")
        env = dict(stack, EVN_SERVICE_INDEX_URL=url, EVN_SERVICE_RECONCILE_SECONDS="0",
                   EVN_SERVICE_WEBHOOK_SECRET="")  # fmt: skip
        services[r] = Service(env, work / f"service-{r}.log")
    auth = {"Authorization": "Bearer " + tokens()}

    def one_experiment(s: str, r: int) -> str:
        return f"{s}/api/v1/experiments/{code_of(random.randrange(r))}/notebooks"

    def search(s: str, r: int) -> str:
        return f"{s}/api/v1/notebooks?q={random.choice(WORDS)}"

    def search_two(s: str, r: int) -> str:
        words = "+".join(random.sample(WORDS, 2))
        return f"{s}/api/v1/notebooks?q={words}&license=CC-BY-4.0"

    def search_author(s: str, r: int) -> str:
        return f"{s}/api/v1/notebooks?author=Author+{random.randrange(300)}&sort=updated"

    reads = {
        "experiment's notebooks (limit 20)": one_experiment,
        "my submissions (limit 20)": lambda s, r: f"{s}/api/v1/me/submissions",
        "a notebook's versions": _versions_url,
        "search q=<word>": search,
        "search q=<2 words>&license": search_two,
        "search author filter, by date": search_author,
    }
    samples: dict[tuple[str, int], list[float]] = {(k, r): [] for k in reads for r in sizes}
    session = requests.Session()
    for _ in range(calls):  # interleaved: every size sees the same machine load
        for label, make in reads.items():
            for r in sizes:
                url = make(services[r].url, r)
                t = time.perf_counter()
                answer = session.get(url, headers=auth, timeout=30)
                samples[(label, r)].append(time.perf_counter() - t)
                if answer.status_code != 200:
                    raise RuntimeError(f"{url} answered {answer.status_code}: {answer.text[:200]}")
    for label in reads:
        for r in sizes:
            print("  " + row(f"{label} R={r}", samples[(label, r)]))
        flat = statistics.median(samples[(label, sizes[-1])]) / statistics.median(
            samples[(label, sizes[0])]
        )
        print(f"  {'':<34} R={sizes[-1]} / R={sizes[0]} p50: {flat:.2f}x")
    for service in services.values():
        service.stop()


def _versions_url(service: str, r: int) -> str:
    serial = random.randrange(r * PER_EXPERIMENT)
    e, owner = serial // PER_EXPERIMENT, "demo" if serial % 25 == 0 else f"user{serial % 97}"
    return f"{service}/api/v1/experiments/{code_of(e)}/notebooks/{owner}/nb-{serial}/versions"


def _claims(token: str) -> str:
    import base64

    part = token.split(".")[1]
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)).decode()


def real(stack: dict[str, str], tokens: Tokens, new: int, calls: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="evn-index-real-"))
    url = f"sqlite:///{work / 'index.sqlite'}"
    env = dict(stack, EVN_SERVICE_INDEX_URL=url, EVN_SERVICE_RECONCILE_SECONDS="0")
    service = Service(env, work / "service.log")
    print(f"\n2. the Gitea fan-out beside the index, real repositories (load {load()})")
    nb = json.dumps(notebook_of_size(0.01)).encode()
    tag = "".join(random.choices(string.ascii_uppercase, k=2))
    for i in range(new):
        submit(service, f"R{tag}{i:03d}", tokens(), nb, f"bench-{i}")
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "evn_notebook_service", "reindex"],
        env={**os.environ, **env}, capture_output=True, text=True, check=True,
    )  # fmt: skip
    reindex_s = time.perf_counter() - started
    config = ServiceConfig()
    gitea = GiteaClient(config)
    repos = asyncio.run(_count_repos(gitea))
    sub = json.loads(_claims(tokens()))["sub"]
    fanout = FanoutReader(config, gitea)
    experiment = f"R{tag}000"
    auth = {"Authorization": "Bearer " + tokens()}
    pairs = {
        "my submissions": (
            lambda: asyncio.run(fanout.submissions_of(sub, stack["EVN_DEMO_USER"])),
            f"{service.url}/api/v1/me/submissions",
        ),
        "an experiment's notebooks": (
            lambda: asyncio.run(fanout.experiment_notebooks(experiment)),
            f"{service.url}/api/v1/experiments/{experiment}/notebooks",
        ),
    }
    for label, (old, new_url) in pairs.items():
        before, after = [], []
        for _ in range(calls):
            t = time.perf_counter()
            old()
            before.append(time.perf_counter() - t)
            t = time.perf_counter()
            requests.get(new_url, headers=auth, timeout=60).raise_for_status()
            after.append(time.perf_counter() - t)
        print(f"  {label} ({repos} repositories in the organisation)")
        print("    " + row("Gitea fan-out (in process)", before))
        print("    " + row("index (over HTTP)", after))
    print(f"\n3. submission to search: delay from the 201 to the first hit (load {load()})")
    delays = []
    for i in range(5):
        word = "zq" + uuid.uuid4().hex[:10]
        doc = notebook_of_size(0.01)
        doc["cells"].insert(0, {"cell_type": "markdown", "id": f"w{i}", "metadata": {},
                                "source": f"# The {word} step"})  # fmt: skip
        submit(service, experiment, tokens(), json.dumps(doc).encode(), f"delay-{i}")
        t = time.perf_counter()
        search = f"{service.url}/api/v1/notebooks?q={word}"
        while word not in requests.get(search, timeout=30).text:
            time.sleep(0.01)
        delays.append(time.perf_counter() - t)
    print("  " + row("submission visible in search", delays))
    print(f"\n4. reindex of the whole organisation ({repos} repositories): {reindex_s:.1f} s")
    print("   " + out.stdout.strip().splitlines()[-1] if out.stdout.strip() else "")
    service.stop()


async def _count_repos(gitea: GiteaClient) -> int:
    return len(await gitea.org_repos())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls, sizes 50 and 500")
    parser.add_argument("--real", type=int, default=50, help="new real experiments for part 2")
    args = parser.parse_args()
    stack = stack_env()
    for key, value in stack.items():
        os.environ[key] = value
    tokens = Tokens(stack)
    sizes = [50, 500] if args.quick else [50, 500, 5000]
    calls = 30 if args.quick else 200
    print(f"index benchmark, {os.cpu_count()} cores, load {load()}, {calls} calls per cell")
    synthetic(stack, tokens, sizes, calls)
    real(stack, tokens, args.real, 10 if args.quick else 20)


if __name__ == "__main__":
    main()
