#!/usr/bin/env bash
# The Python floor: vermin (PyPI) computes the oldest Python that each distribution's code needs,
# and that must be the floor its pyproject.toml declares (requires-python ">=X"). Code that needs a
# newer Python fails here with the offending lines; a declared floor above what the code needs
# fails too (lower requires-python, or say why it must stay raised). contract/ is in both wheels.
# Annotations are evaluated (--eval-annotations): the stricter reading.
set -euo pipefail
cd "$(dirname "$0")/.."
VERMIN_VERSION=1.9.2
if [ "$(.venv/bin/vermin --version 2>/dev/null)" != "$VERMIN_VERSION" ]; then
  echo "floors: installing vermin $VERMIN_VERSION into .venv" >&2
  .venv/bin/pip install -q "vermin==$VERMIN_VERSION"
fi
vermin() { .venv/bin/vermin --no-tips --eval-annotations --no-make-paths-absolute "$@"; }

status=0
check() {  # check PYPROJECT DIR...
  local pyproject=$1; shift
  local floor found
  floor=$(python3 -c 'import re, sys, tomllib
spec = tomllib.load(open(sys.argv[1], "rb"))["project"]["requires-python"]
m = re.fullmatch(r">=\s*(3\.\d+)(\.0)?", spec.strip())
print(m[1] if m else sys.exit(f"floors: {sys.argv[1]}: requires-python {spec!r} is not \">=3.N\""))' "$pyproject")
  if ! vermin --violations -t="$floor-" "$@" >/tmp/floors.$$ 2>&1; then
    cat /tmp/floors.$$
    echo "floors: $* need(s) a Python newer than $pyproject's requires-python >=$floor (lines above)" >&2
    status=1
  fi
  found=$(vermin "$@" 2>&1 | sed -n 's/^Minimum required versions: *//p' | tr -d ' ' | sed 's/^[^,]*,//')
  rm -f /tmp/floors.$$
  if [ "$found" != "$floor" ]; then
    echo "floors: vermin says $* need(s) Python $found; $pyproject declares >=$floor" >&2
    status=1
  else
    echo "floors: $pyproject requires-python >=$floor; vermin: the code needs $found"
  fi
}
check pyproject.toml jupyterlab_evn_submit contract
check service/pyproject.toml service/evn_notebook_service contract
exit $status
