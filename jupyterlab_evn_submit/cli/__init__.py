"""``jupyter evn-submit``: submit, list and fetch EVN archive notebooks from a terminal or a
pipeline. The console script ``jupyter-evn-submit`` makes ``jupyter evn-submit`` work."""

from __future__ import annotations

import sys


def main() -> None:
    from .app import main as run

    sys.exit(run())
