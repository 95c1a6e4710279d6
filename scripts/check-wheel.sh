#!/usr/bin/env bash
# Build the wheel and install it into a clean environment with no Node on the PATH: both the server
# extension and the prebuilt labextension must be listed enabled and OK.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
.venv/bin/python -m build --wheel -o "$out/dist" . >"$out/build.log" 2>&1 || { tail -30 "$out/build.log"; exit 1; }
python3 -m venv "$out/venv"
"$out/venv/bin/pip" install -q "$out"/dist/*.whl
se=$(env -i HOME="$HOME" PATH="$out/venv/bin" jupyter server extension list 2>&1)
le=$(env -i HOME="$HOME" PATH="$out/venv/bin" jupyter labextension list 2>&1)
echo "$se" | grep -q 'jupyterlab_evn_submit.*OK' || { echo "server extension not OK: $se"; exit 1; }
echo "$le" | grep -q 'jupyterlab-evn-submit.*enabled.*OK' || { echo "labextension not OK: $le"; exit 1; }
echo "check-wheel: $(basename "$out"/dist/*.whl) lists both extensions OK without Node"
