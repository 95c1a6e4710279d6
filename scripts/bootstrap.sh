#!/usr/bin/env bash
# Make the development environment on a fresh machine, or bring it up to date (quick when warm):
# .venv with both distributions installed editable (the extension with its test + dev extras,
# labextension built; the notebook service, which the stack runs from it), .venv-service with the
# notebook service alone (its tests prove it needs no Jupyter) and, with --browser, Debian's
# Chromium for the UI tests. Used by .ci/run and scripts/demo.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { echo "bootstrap: $*" >&2; }

if [ "${1:-}" = "--browser" ] && [ ! -x /usr/bin/chromium ]; then
  say "installing Debian's Chromium (about 30 s)"
  if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q chromium >/dev/null
fi

# DaCHS, the EVN archive's VO server (devstack's catalogue, devstack/dachs.py), from Debian. Its
# post-install needs the system PostgreSQL cluster 15/main running, which a container does not
# start by itself: start it between the two installs (and again if the post-install still failed).
if [ "${EVN_DEVSTACK_DACHS:-1}" != 0 ] &&
  [ "$(dpkg-query -W -f='${db:Status-Abbrev}' gavodachs2-server 2>/dev/null)" != "ii " ]; then
  say "installing DaCHS (Debian's gavodachs2-server and PostgreSQL 15; about a minute)"
  if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
  apt_get() { $sudo env DEBIAN_FRONTEND=noninteractive apt-get -y -q "$@" >/dev/null; }
  apt_get update
  apt_get install postgresql-15
  $sudo pg_ctlcluster 15 main start >/dev/null 2>&1 || true
  if ! apt_get install gavodachs2-server; then
    say "DaCHS's post-install failed; starting PostgreSQL 15/main and configuring it again"
    $sudo pg_ctlcluster 15 main start >/dev/null 2>&1 || true
    $sudo env DEBIAN_FRONTEND=noninteractive dpkg --configure -a >/dev/null
  fi
fi

if [ ! -x .venv/bin/python ]; then
  say "creating .venv"
  python3 -m venv .venv
fi
stamp=.venv/.evn-installed
want=$(cat pyproject.toml service/pyproject.toml package.json | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  say "installing the package and its test + dev dependencies into .venv (a few minutes cold)"
  .venv/bin/pip install -q -U pip
  .venv/bin/pip install -q 'jupyterlab>=4.0,<5'
  .venv/bin/pip install -q -e './service[postgres,render]' -e '.[test,dev]'
  echo "$want" >"$stamp"
fi
if [ ! -x .venv-service/bin/python ]; then
  say "creating .venv-service (the notebook service alone)"
  python3 -m venv .venv-service
fi
stamp=.venv-service/.evn-installed
want=$(sha256sum <service/pyproject.toml | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  .venv-service/bin/pip install -q -U pip
  .venv-service/bin/pip install -q -e './service[test,postgres]'
  echo "$want" >"$stamp"
fi
say "building the labextension (minified, as in the wheel)"
(source .venv/bin/activate && jlpm install >/dev/null && jlpm build:prod >/dev/null)
# JupyterLab in .venv loads the labextension from this checkout (a link, as the extension
# template's development install does), not the copy pip made when it last installed the package
(source .venv/bin/activate && jupyter labextension develop --overwrite . >/dev/null)
say "ready: source .venv/bin/activate"
