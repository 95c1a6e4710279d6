#!/usr/bin/env bash
# The extension's fast tests in .venv-floor: an environment pinned to the oldest versions that
# pyproject.toml allows (scripts/floors.txt, checked here against both pyproject.toml files so it
# cannot drift). The Python floor itself is checked by scripts/floors.sh (vermin): only one
# interpreter is at hand. Cached by a stamp: quick when warm.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { echo "floor-env: $*" >&2; }

# 1. floors.txt must list exactly the declared lower bounds (">=X" of the runtime dependencies)
python3 - <<'PY'
import re, sys, tomllib
declared: dict[str, str] = {}
for path in ("pyproject.toml", "service/pyproject.toml"):
    with open(path, "rb") as f:
        deps = tomllib.load(f)["project"]["dependencies"]
    for dep in deps:
        m = re.match(r"^([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?\s*(.*)$", dep)
        assert m, dep
        name, spec = re.sub(r"[-_.]+", "-", m[1]).lower(), m[2]
        low = re.search(r">=\s*([0-9][^,;\s]*)", spec)
        if not low:
            sys.exit(f"floor-env: {path}: {dep!r} declares no lower bound (>=)")
        if declared.setdefault(name, low[1]) != low[1]:
            sys.exit(f"floor-env: {name} has two different floors: {declared[name]} and {low[1]}")
listed: dict[str, str] = {}
for line in open("scripts/floors.txt"):
    line = line.split("#")[0].strip()
    if line:
        name, _, version = line.partition("==")
        listed[re.sub(r"[-_.]+", "-", name).lower()] = version
if listed != declared:
    want = "\n".join(f"  {k}=={v}" for k, v in sorted(declared.items()))
    sys.exit(f"floor-env: scripts/floors.txt does not match the floors declared in "
             f"pyproject.toml and service/pyproject.toml; they say:\n{want}")
PY

# 2. the environment, rebuilt only when a pyproject.toml, the floors or this script change
venv=.venv-floor
if [ ! -x $venv/bin/python ]; then
  say "creating $venv"
  python3 -m venv $venv
fi
stamp=$venv/.evn-installed
want=$(cat pyproject.toml service/pyproject.toml scripts/floors.txt scripts/floor-env.sh | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  say "installing the extension with its oldest allowed dependencies (about a minute cold)"
  $venv/bin/pip install -q -U pip
  $venv/bin/pip install -q -c scripts/floors.txt -e ./service -e '.[test]'
  # the floors must really be what got installed (pip may not silently pick newer ones)
  $venv/bin/python - <<'PY'
import importlib.metadata as md, re, sys
bad = []
for line in open("scripts/floors.txt"):
    line = line.split("#")[0].strip()
    if line:
        name, _, version = line.partition("==")
        have = md.version(name)
        pad = lambda v: [int(x) for x in re.findall(r"\d+", v)] + [0] * 3
        if pad(have)[:3] != pad(version)[:3]:
            bad.append(f"{name} {have} (floor {version})")
if bad:
    sys.exit("floor-env: not at the floor: " + ", ".join(bad))
PY
  echo "$want" >"$stamp"
fi
$venv/bin/python -c 'import importlib.metadata as md
names = [line.split("==")[0] for line in open("scripts/floors.txt") if line[0].isalpha()]
print("floor-env: at", ", ".join(f"{n} {md.version(n)}" for n in names))' >&2

# 3. the fast tests (no stack) with those versions
# Two warnings that only the oldest versions meet beside today's transitive packages, harmless at
# run time, which pyproject.toml's filterwarnings = error would turn into errors: nbformat 5.7
# imports ErrorTree from jsonschema's top level (deprecated there since; the test extra needs
# jsonschema >= 4.20), and jupyter_server 2.4.0's event schemas carry an integer version that
# jupyter_events >= 0.7 coerces with a warning. -W arguments are literal message prefixes.
say "running the extension's fast tests at the floors"
$venv/bin/python -m pytest -q -m "not stack" -p no:cacheprovider \
  -W "ignore:Importing ErrorTree directly from the jsonschema package is deprecated:DeprecationWarning" \
  -W 'ignore:The `version` property of an event schema must be a string' \
  tests
