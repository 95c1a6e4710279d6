#!/usr/bin/env bash
# The Galata UI tests in Debian's Chromium, against JupyterLab with the extension and the real stack
# (the stack must be up: python3 -m devstack up).
set -euo pipefail
cd "$(dirname "$0")/.."
source .venv/bin/activate
set -a
eval "$(python3 -m devstack env)"
set +a
cd ui-tests
jlpm install >/dev/null
jlpm playwright test
