#!/usr/bin/env bash
# Build both wheels and install each into a clean environment of its own: the extension's with no
# Node on the PATH (server extension and prebuilt labextension listed enabled and OK), the notebook
# service's without any Jupyter package (its command starts, it brings no Jupyter server).
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
unzip -l "$out"/dist/*.whl | grep -q 'evn_notebook_service\|/service/handlers.py' && { echo "the extension's wheel carries the notebook service"; exit 1; }
echo "check-wheel: $(basename "$out"/dist/*.whl) lists both extensions OK without Node"

.venv/bin/python -m build --wheel -o "$out/svc-dist" service >"$out/svc-build.log" 2>&1 || { tail -30 "$out/svc-build.log"; exit 1; }
python3 -m venv "$out/svc"
"$out/svc/bin/pip" install -q "$out"/svc-dist/*.whl
env -i HOME="$HOME" PATH="$out/svc/bin" evn-notebook-service --help >/dev/null || { echo "evn-notebook-service --help fails"; exit 1; }
for m in jupyter_server jupyterlab requests_oauthlib notebook; do
  if "$out/svc/bin/python" -c "import $m" 2>/dev/null; then echo "the service's environment has $m"; exit 1; fi
done
"$out/svc/bin/python" -c "from evn_notebook_service.contract import licences, document; assert licences() and document()['openapi']"
echo "check-wheel: $(basename "$out"/svc-dist/*.whl) installs alone, runs, carries the contract, no Jupyter"
