#!/usr/bin/env bash
# Every linter, for Python and for the frontend. Exit non-zero on the first finding.
set -euo pipefail
cd "$(dirname "$0")/.."
PATH="$PWD/.venv/bin:$PATH"
ruff check .
ruff format --check .
mypy
bash scripts/floors.sh  # vermin: the code needs exactly the declared requires-python
jlpm lint:check
