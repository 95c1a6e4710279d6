"""Interleaved comparisons and how they are printed.

Every comparison runs its sides in turn, sample by sample (A, B, then B, A, ...: the side that
goes first alternates, so neither always meets a warm or a cold Gitea), and prints for each side
the median and the spread (min-max), the ratio of the medians to the last side (the reference),
and the load average before and after.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

#: one sample of a side: its index -> seconds (raises when the sample failed)
Sample = Callable[[int], float]


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def header(title: str, samples: int) -> None:
    commit = subprocess.run(
        ["git", "log", "-1", "--format=%h %s"], cwd=REPO, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO,
        capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    print(title)
    print(f"  date     {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}")
    commit = commit if len(commit) <= 72 else commit[:71] + "…"
    print(f"  commit   {commit}{' (and uncommitted changes)' if dirty else ''}")
    print(f"  machine  {os.cpu_count()} cores, {os.uname().machine}, {_memory()}")
    print(f"  load     {loadavg()} (1, 5, 15 min)")
    print(f"  samples  {samples} per side, interleaved, each a distinct notebook")


def _memory() -> str:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB RAM"
    return "RAM unknown"


def interleave(sides: dict[str, Sample], samples: int) -> dict[str, list[float]]:
    """``samples`` samples of every side, in turn; the order rotates from sample to sample."""
    names = list(sides)
    times: dict[str, list[float]] = {name: [] for name in names}
    for i in range(samples):
        shift = i % len(names)
        order = names[shift:] + names[:shift]
        if i % 2:
            order.reverse()
        for name in order:
            times[name].append(sides[name](i))
    return times


def compare(label: str, sides: dict[str, Sample], samples: int, unit: str = "s") -> None:
    """Run ``sides`` interleaved and print them; the last side is the reference of the ratios."""
    before = loadavg()
    times = interleave(sides, samples)
    after = loadavg()
    ref = statistics.median(times[list(sides)[-1]])
    print(f"  {label}   (load {before} -> {after})")
    for name, values in times.items():
        med = statistics.median(values)
        print(
            f"    {name:<40} median {med:8.3f} {unit}  spread {min(values):8.3f}-"
            f"{max(values):.3f} {unit}  n={len(values)}  {med / ref:5.2f}x"
        )


def spread(values: list[float], fmt: str = "{:.2f}") -> str:
    med = statistics.median(values)
    return f"median {fmt.format(med)}, spread {fmt.format(min(values))}-{fmt.format(max(values))}"
