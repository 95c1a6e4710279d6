#!/usr/bin/env bash
# Fuzz the notebook service's API with schemathesis, from the OpenAPI document it serves, against
# the running devstack (python3 -m devstack up). Every route of contract/openapi.json, every
# check that can apply (below), a fixed seed and a time budget: about 4 minutes on 2 cores.
#   bash scripts/fuzz.sh            # FUZZ_MAX_TIME / FUZZ_MAX_EXAMPLES / FUZZ_SEED override
# Prints the number of generated cases and of failures; exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
SCHEMATHESIS_VERSION=4.32.5
venv=.venv-fuzz
max_time=${FUZZ_MAX_TIME:-200}
max_examples=${FUZZ_MAX_EXAMPLES:-60}
seed=${FUZZ_SEED:-1}

# a venv of its own: schemathesis pins hypothesis, jsonschema etc. apart from the project's
if [ "$("$venv/bin/schemathesis" --version 2>/dev/null)" != "schemathesis, version $SCHEMATHESIS_VERSION" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" -q install "schemathesis==$SCHEMATHESIS_VERSION"
fi

# devstack's settings unless exported already; EVN_SERVICE_URL, when given, names the service
given=${EVN_SERVICE_URL:-}
if [ -z "${EVN_ISSUER_URL:-}" ]; then
  set -a
  eval "$(python3 -m devstack env)"
  set +a
fi
service=${given:-$EVN_SERVICE_URL}
service=${service%/}
# the demo researcher's access token (300 s; the run stays within that)
token=$(curl -fsS "$EVN_ISSUER_URL/protocol/openid-connect/token" -d grant_type=password \
  -d "client_id=$EVN_TEST_CLIENT_ID" -d "username=$EVN_DEMO_USER" -d "password=$EVN_DEMO_PASSWORD" \
  -d scope=openid | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
# Submissions are real commits (the stack is disposable), but only ever into an experiment of
# this run's own: the fuzzer cannot add a version to a demo notebook nor create a repository
# under a code another test uses. Bad experiment codes on the POST routes are covered by
# service/tests/test_bad_inputs.py; the GET routes fuzz the code freely.
export FUZZ_CODE="FZ$(date +%s | tail -c 5)Z"
export FUZZ_TOKEN=$token

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/schemathesis.toml" <<'TOML'

headers = { Authorization = "Bearer ${FUZZ_TOKEN}" }
# one worker: the machine has 2 cores shared with the service, Gitea and Keycloak
workers = 1
request-timeout = 30.0

[generation]
# a case per input is enough to find a pattern the code enforces but the document misses
unique-inputs = true
# query parameters a route does not declare are ignored, as the document's info says (a cache
# buster must not break a read); negative cases that only add one would be "accepted" by design
allow-extra-parameters = false

# Every check applies, with these exceptions (each says why):
# - ignored_auth: the read routes are public on purpose (no security in the document), and the
#   routes that need a token are answered 401 without one by test_bad_inputs.py; schemathesis
#   replays them without the header, which is what it checks, so it stays ON.
# - use_after_free, ensure_resource_availability: need DELETE or links between operations; this
#   API has neither (nothing is ever deleted), so they have nothing to check.
# - object_level_authorization: needs two identities; the 403 on another researcher's notebook
#   is covered by service/tests/test_submit.py.
[checks.use_after_free]
enabled = false
[checks.ensure_resource_availability]
enabled = false
[checks.object_level_authorization]
enabled = false

# The Gitea webhook is signed with an HMAC of the body (X-Gitea-Signature) that schemathesis
# cannot compute: every case it sends is a 401 by design, so fuzzing it checks nothing. Unsigned,
# badly signed, deeply nested and oversized webhook bodies are rows of test_bad_inputs.py.
[[operations]]
include-operation-id = "giteaWebhook"
enabled = false

# positive_data_acceptance cannot hold for a submission: a valid one needs a valid nbformat 4
# notebook (nbformat's own schema, per minor version, which the document names but does not
# copy), ORCID iDs whose last character is a check digit (ISO 7064, no JSON Schema can say it)
# and, without `name`, a title with an ASCII letter or digit to derive a name from. So schema-
# valid submissions are refused on purpose; test_submit.py covers the accepted ones. Every other
# check runs on them, negative_data_rejection included.
[[operations]]
include-operation-id = ["submitNotebook", "submitVersion"]
parameters = { "path.code" = "${FUZZ_CODE}" }
checks.positive_data_acceptance.enabled = false

# The same check digit on the search's `orcid`; and `cursor`, which is opaque: only a cursor this
# service gave out is accepted, and schemathesis cannot make one. Both are pinned to values the
# service accepts (a valid ORCID iD; the empty cursor, the first page); their bad values are rows
# of test_bad_inputs.py.
[parameters]
"query.orcid" = "0000-0002-1825-0097"
"query.cursor" = ""
# since after until is refused (400), a rule between two parameters that no schema can state:
# until is left out, since is fuzzed alone
"query.until" = ""
# the cone is all three of ra, dec and radius or none (400 otherwise), another rule between
# parameters: left out here; service/tests/test_index_catalogue_params.py fuzzes the three
# against the document with Hypothesis
"query.ra" = ""
"query.dec" = ""
"query.radius" = ""
TOML

echo "fuzzing $service (seed $seed, at most ${max_time} s, $max_examples examples per operation; submissions into $FUZZ_CODE)"
set +e
"$venv/bin/schemathesis" --config-file "$work/schemathesis.toml" run "$service/api/v1/openapi.json" \
  --max-examples "$max_examples" --max-time "$max_time" --seed "$seed" \
  --no-color --report junit --report-junit-path "$work/junit.xml" >"$work/out.txt" 2>&1
rc=$?
set -e
cat "$work/out.txt"
python3 - "$work/junit.xml" <<'PY' || true
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
tests = sum(int(s.get("tests", 0)) for s in suites)
failures = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
print(f"fuzz: {tests} operations tested, {failures} with failures")
PY
generated=$(grep -oE '[0-9]+ generated' "$work/out.txt" | head -1 || true)
echo "fuzz: ${generated:-? generated} cases; schemathesis exit $rc"
exit "$rc"
