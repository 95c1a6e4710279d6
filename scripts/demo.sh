#!/usr/bin/env bash
# The whole thing on one machine: Keycloak, Gitea, the notebook service and JupyterLab with the
# extension and a sample notebook. Prints the URL and the demo researcher's login; Ctrl-C stops all.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
source .venv/bin/activate
python3 -m devstack up
set -a
eval "$(python3 -m devstack env)"
set +a
workspace=.devstack/demo-workspace
mkdir -p "$workspace"
for nb in demo/*.ipynb; do
  [ -e "$workspace/$(basename "$nb")" ] || cp "$nb" "$workspace/"
done
port=${EVN_DEMO_PORT:-8888}
token=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
root_flag=""
[ "$(id -u)" = 0 ] && root_flag="--allow-root"
jupyter lab --no-browser --ip=127.0.0.1 --port="$port" --port-retries=0 $root_flag \
  --ServerApp.root_dir="$workspace" --IdentityProvider.token="$token" \
  >.devstack/logs/jupyterlab.log 2>&1 &
lab=$!
stop() {
  echo; echo "demo: stopping JupyterLab and the stack"
  kill "$lab" 2>/dev/null || true
  wait "$lab" 2>/dev/null || true
  python3 -m devstack down
}
trap stop EXIT
trap 'exit 130' INT TERM
for _ in $(seq 1 120); do
  curl -fs "http://127.0.0.1:$port/api/status?token=$token" >/dev/null && break
  kill -0 "$lab" 2>/dev/null || { tail -20 .devstack/logs/jupyterlab.log; exit 1; }
  sleep 0.5
done
cat <<TXT

  JupyterLab:  http://127.0.0.1:$port/lab/tree/$(basename "$(ls demo/*.ipynb | head -n 1)")?token=$token
  Log in to the EVN archive as:  $EVN_DEMO_USER / $EVN_DEMO_PASSWORD
  Gitea (the archive):  $EVN_GITEA_URL/$EVN_GITEA_ORG
  Logs: .devstack/logs/   Press Ctrl-C to stop everything.

TXT
wait "$lab"
