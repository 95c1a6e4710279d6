"""Notebooks for the benchmarks: every one distinct, so nothing is deduplicated or cached.

- ``image_notebook``: outputs that are incompressible images (random PNG-sized base64), the
  worst case for every byte the service touches;
- ``reduction_notebook``: what a VLBI data reduction looks like (markdown, code, tables of
  numbers printed as text, a few plots), with outputs distinct from every other notebook.

``stored`` gives the bytes in the layout the service stores (nbformat's: indent 1, sorted keys).
"""

from __future__ import annotations

import base64
import json
import random
from typing import Any

KERNEL = {"name": "python3", "display_name": "Python 3", "language": "python"}
STEPS = ("load the FITS-IDI files", "flag RFI", "apply a-priori amplitude calibration",
         "fringe-fit the calibrator", "bandpass", "phase-reference the target",
         "self-calibrate", "image the target", "measure the flux densities")  # fmt: skip


def stored(nb: dict[str, Any]) -> bytes:
    """The notebook as the service stores it (``submission.dump_json``'s layout)."""
    text = json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False, separators=(",", ": "))
    return (text + "\n").encode()


def _notebook(cells: list[dict[str, Any]]) -> dict[str, Any]:
    metadata = {"kernelspec": KERNEL, "language_info": {"name": "python", "version": "3.12.3"}}
    return {"cells": cells, "metadata": metadata, "nbformat": 4, "nbformat_minor": 5}


def _png(rnd: random.Random, nbytes: int) -> str:
    return base64.b64encode(rnd.randbytes(nbytes)).decode()


def _code(i: int, source: str, outputs: list[dict[str, Any]]) -> dict[str, Any]:
    return {"cell_type": "code", "execution_count": i, "id": f"c{i:04d}", "metadata": {},
            "source": source, "outputs": outputs}  # fmt: skip


def _image(rnd: random.Random, nbytes: int) -> dict[str, Any]:
    data = {"image/png": _png(rnd, nbytes), "text/plain": "<Figure size 640x480>"}
    return {"output_type": "display_data", "metadata": {}, "data": data}


def image_notebook(megabytes: float, seed: int, cells: int = 50) -> dict[str, Any]:
    """About ``megabytes`` MiB: ``cells`` code cells, each with one incompressible image."""
    rnd = random.Random(seed)
    per_cell = int(megabytes * 1024 * 1024 / cells * 3 / 4)
    out = [
        _code(i + 1, f"plot_visibilities(scan={i})", [_image(rnd, per_cell)]) for i in range(cells)
    ]
    return _notebook(out)


def _table(rnd: random.Random, rows: int) -> str:
    lines = ["station  scan  amp(Jy)   phase(deg)  snr"]
    for _ in range(rows):
        lines.append(
            f"{rnd.choice(['EF', 'JB', 'WB', 'ON', 'MC', 'TR', 'YS', 'HH'])}      "
            f"{rnd.randint(1, 400):4d}  {rnd.uniform(0.01, 3):.4f}  {rnd.uniform(-180, 180):9.3f}"
            f"  {rnd.uniform(3, 900):7.1f}"
        )
    return "\n".join(lines) + "\n"


def reduction_notebook(seed: int, cells: int = 40) -> dict[str, Any]:
    """A realistic reduction notebook (about 80-200 KB): markdown, code, text tables, plots."""
    rnd = random.Random(seed)
    out: list[dict[str, Any]] = []
    for i in range(cells):
        step = STEPS[i % len(STEPS)]
        if i % 4 == 0:
            out.append({"cell_type": "markdown", "id": f"m{i:04d}", "metadata": {},
                        "source": f"## {step.capitalize()}\n\nRun {seed}, step {i}."})  # fmt: skip
            continue
        source = f"# {step}\nresult = pipeline.step({i}, refant='EF', solint={rnd.randint(1, 60)})"
        outputs: list[dict[str, Any]] = [
            {"output_type": "stream", "name": "stdout", "text": _table(rnd, rnd.randint(5, 25))}
        ]
        if i % 9 == 5:
            outputs.append(_image(rnd, rnd.randint(10_000, 30_000)))
        out.append(_code(i, source, outputs))
    return _notebook(out)
