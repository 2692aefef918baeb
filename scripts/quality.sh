#!/usr/bin/env bash
# Quality gates: Redocly and Spectral lint of the committed OpenAPI document, a TypeScript and a
# Python client generated from it (type-checked or installed, then the same smoke flow against the
# service with each: log in, list subjects, record a finding, read the result that explains it,
# download a ranking as CSV), and Schemathesis against the running service on SQLite and on
# PostgreSQL, as a county admin and as a township viewer.
#
#   scripts/quality.sh                      every gate
#   scripts/quality.sh lint client          some: lint, client, python-client, fuzz-sqlite, fuzz-postgres
#
# Tools are pinned and installed on first use under $KAOHE_QUALITY_CACHE (default
# ~/.cache/kaohe-quality). Schemathesis reports land in ${CARGO_TARGET_DIR:-target}/quality/.
# Knobs: KAOHE_QUALITY_FUZZ_SECS (time budget of one Schemathesis run, default 100),
# KAOHE_QUALITY_MAX_EXAMPLES (examples per operation and fuzzing cycle, default 30),
# KAOHE_QUALITY_POSTGRES_URL (server for fuzz-postgres, default postgres://postgres@127.0.0.1:5432),
# KAOHE_QUALITY_PREBUILT=1 (use target/debug/kaohe as built, without `cargo build`).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

SCHEMATHESIS_VERSION=4.32.5
REDOCLY_VERSION=2.77.0
SPECTRAL_VERSION=6.16.3
OPENAPI_PYTHON_CLIENT_VERSION=0.29.1

cache="${KAOHE_QUALITY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kaohe-quality}"
fuzz_secs="${KAOHE_QUALITY_FUZZ_SECS:-100}"
max_examples="${KAOHE_QUALITY_MAX_EXAMPLES:-30}"
pg_server="${KAOHE_QUALITY_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}"
target="${CARGO_TARGET_DIR:-target}"
[[ "$target" = /* ]] || target="$repo/$target"
bin="$target/debug/kaohe"
reports="$target/quality"

admin_password=quality-admin-password
viewer_password=quality-viewer-password
demo_password=demo-password-2023

if (($# == 0)); then
  set -- lint client python-client fuzz-sqlite fuzz-postgres
fi
for gate in "$@"; do
  case "$gate" in
    lint | client | python-client | fuzz-sqlite | fuzz-postgres) ;;
    *) echo "quality: unknown gate '$gate' (lint, client, python-client, fuzz-sqlite, fuzz-postgres)" >&2; exit 2 ;;
  esac
done

work=$(mktemp -d)
server_pids=()
pg_databases=()
cleanup() {
  local pid db
  for pid in "${server_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${server_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  for db in "${pg_databases[@]}"; do
    psql "$pg_server/postgres" -qAtc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n==> %s\n' "$*"; }
fail() { echo "quality: FAILED: $*" >&2; exit 1; }
summary=()

# --- tools -----------------------------------------------------------------------------------

# A Python tool in a venv of its own in the cache, installed on first use: prints its executable.
pip_tool() { # package version executable
  local venv="$cache/$1-$2"
  if [[ ! -x "$venv/bin/$3" ]]; then
    echo "quality: installing $1 $2 into $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q "$1==$2" >&2
  fi
  echo "$venv/bin/$3"
}

# An npm tool in a folder of its own in the cache, installed on first use: sets `tool` to its
# executable.
npm_tool() { # package version folder executable
  local dir="$cache/$3-$2"
  if [[ ! -x "$dir/node_modules/.bin/$4" ]]; then
    echo "quality: installing $1 $2 into $dir" >&2
    mkdir -p "$dir"
    (cd "$dir" && npm install --silent --no-save --no-package-lock --no-audit --no-fund "$1@$2" >&2)
  fi
  tool="$dir/node_modules/.bin/$4"
}

# The Schemathesis executable (`timeout` needs a file, not a function).
schemathesis_bin() { pip_tool schemathesis "$SCHEMATHESIS_VERSION" st; }

redocly() {
  local tool
  npm_tool @redocly/cli "$REDOCLY_VERSION" redocly-cli redocly
  REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true "$tool" "$@"
}

spectral() {
  local tool
  npm_tool @stoplight/spectral-cli "$SPECTRAL_VERSION" spectral-cli spectral
  "$tool" "$@"
}

# The openapi-python-client executable, in a venv of its own.
python_client_generator() { pip_tool openapi-python-client "$OPENAPI_PYTHON_CLIENT_VERSION" openapi-python-client; }

# KAOHE_QUALITY_PREBUILT=1 uses the debug binary as it is (CI: `cargo test` has just built it).
built="${KAOHE_QUALITY_PREBUILT:-}"
build_service() {
  if [[ -z "$built" ]]; then
    step "cargo build --bin kaohe"
    cargo build -q --bin kaohe
    built=1
  fi
}

# --- the service -----------------------------------------------------------------------------

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# start_service NAME DATABASE_URL: loads the demo county, starts the service; sets $base and $dir.
start_service() {
  local name=$1 database=$2 port
  dir="$work/$name"
  mkdir -p "$dir"
  port=$(free_port)
  base="http://127.0.0.1:$port"
  export KAOHE__SERVER__PORT="$port" KAOHE__SERVER__PUBLIC_URL="$base" \
    KAOHE__DATABASE__URL="$database" \
    KAOHE__BOOTSTRAP__ADMIN_PASSWORD="$admin_password" \
    KAOHE__AUTH__HMAC_SECRET="quality-gate-signing-secret-of-at-least-32-bytes" \
    KAOHE__AUTH__TOKEN_TTL_SECS=3600 \
    KAOHE__AUTH__LOGIN_MAX_FAILURES=1000000 \
    KAOHE__LOG__LEVEL=warn KAOHE__LOG__FORMAT=json
  # The fuzzer logs in with made-up credentials thousands of times: with the default limit every
  # later attempt would answer 429 and the token endpoint would go untested.
  (cd "$dir" && "$bin" demo >"$dir/demo.log" 2>&1) || { cat "$dir/demo.log"; fail "kaohe demo ($name)"; }
  (cd "$dir" && exec "$bin" serve >"$dir/service.log" 2>&1) &
  server_pid=$!
  server_pids+=("$server_pid")
  for _ in $(seq 1 60); do
    curl -fs "$base/readyz" >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  tail -20 "$dir/service.log"
  fail "the service ($name) did not become ready"
}

stop_service() { kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; }

# api METHOD PATH [TOKEN] [JSON]: the JSON answer; fails on any status >= 300.
api() {
  local method=$1 path=$2 token=${3:-} body=${4:-} args=() out status
  [[ -n "$token" ]] && args+=(-H "authorization: Bearer $token")
  [[ -n "$body" ]] && args+=(-H 'content-type: application/json' --data-binary "$body")
  out=$(curl -s -X "$method" "$base$path" "${args[@]}" -w '\n%{http_code}')
  status=${out##*$'\n'}
  if ((status >= 300)); then
    fail "$method $path answered $status: ${out%$'\n'*}"
  fi
  printf '%s' "${out%$'\n'*}"
}

token() { api POST /api/v1/auth/token "" "{\"username\":\"$1\",\"password\":\"$2\"}" | jq -er .access_token; }

# The callers and objects the fuzzer works with: the county admin, a township viewer of 童市镇 (the
# demo has none), a publication, an appeal and a service account, and ids of every kind.
seed() {
  admin_token=$(token admin "$admin_password")
  local town village_unit scheme_a scheme_b village incident
  town=$(api GET '/api/v1/org-units?kind=township&limit=1000' "$admin_token" |
    jq -er '.items[] | select(.name == "童市镇") | .id')
  api POST /api/v1/users "$admin_token" "{\"username\":\"quality-town-viewer\",\"display_name\":\"童市镇 viewer\",
    \"password\":\"$viewer_password\",\"org_unit_id\":\"$town\",\"role\":\"viewer\"}" >/dev/null
  viewer_token=$(token quality-town-viewer "$viewer_password")
  scheme_a=$(api GET '/api/v1/schemes?key=tongshi-2023-village' "$admin_token" | jq -er '.items[0].id')
  scheme_b=$(api GET '/api/v1/schemes?key=county-poverty' "$admin_token" | jq -er '.items[0].id')
  village_unit=$(api GET "/api/v1/org-units?kind=village&parent_id=$town&limit=1" "$admin_token" | jq -er '.items[0].id')
  village=$(api GET "/api/v1/subjects?subject_type=village&township_id=$town&limit=1" "$admin_token" | jq -er '.items[0].id')
  incident=$(api GET "/api/v1/incidents?subject_id=$village&limit=1" "$admin_token" | jq -er '.items[0].id')
  api POST /api/v1/publications "$admin_token" "{\"scheme_id\":\"$scheme_a\",\"kind\":\"monthly\",\"month\":3}" >/dev/null
  api POST "/api/v1/incidents/$incident/appeals" "$(token demo-village-viewer "$demo_password")" \
    '{"reason":"quality gate: an appeal to fuzz"}' >/dev/null
  api POST /api/v1/service-accounts "$admin_token" '{"name":"quality gate"}' >/dev/null

  ids() { api GET "$1" "$admin_token" | jq -c '[(.items? // .)[].id]'; }
  local subjects schemes incidents evaluations users org_units rubrics publications appeals accounts
  subjects=$(api GET "/api/v1/subjects?township_id=$town&limit=20" "$admin_token" |
    jq -c --arg v "$village" '[$v] + [.items[].id] | unique')
  schemes="[\"$scheme_a\",\"$scheme_b\"]"
  incidents=$(ids "/api/v1/incidents?township_id=$town&limit=20")
  evaluations=$(ids "/api/v1/evaluations?limit=20")
  users=$(ids "/api/v1/users?limit=20")
  org_units=$(jq -nc --arg t "$town" --arg v "$village_unit" '[$t, $v]')
  rubrics=$(ids "/api/v1/rubrics?scheme_id=$scheme_a")
  publications=$(ids /api/v1/publications)
  appeals=$(ids /api/v1/appeals)
  accounts=$(ids /api/v1/service-accounts)

  # Known ids most of the time, generated ones otherwise, so both real objects and 404s are tried.
  local p=0.8
  cat >"$dir/schemathesis.toml" <<EOF
hooks = "$repo/scripts/schemathesis_hooks.py"

[cache]
# Failures of earlier runs are replayed first; kept beside the reports, out of the source tree.
directory = "$reports/cache"

[checks.positive_data_acceptance]
# Schema-valid requests the API refuses by its documented rules, which a JSON schema cannot state:
# 422 a rule of the domain (a rule code not of the item, an id unknown or out of scope, a date
# outside the scheme year), 412 a stale version, 428 neither If-Match nor a version field; an
# evidence upload whose bytes are no accepted media type (415) or over the size limit (413), and a
# range beyond a file's end (416).
expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "412", "413", "415", "416", "422", "428", "429", "5xx"]

[dictionaries]
subjects = { values = $subjects }
schemes = { values = $schemes }
incidents = { values = $incidents }
evaluations = { values = $evaluations }
users = { values = $users }
org_units = { values = $org_units }
rubrics = { values = $rubrics }
publications = { values = $publications }
appeals = { values = $appeals }
service_accounts = { values = $accounts }
towns = { values = ["$town"] }
built_ins = { values = ["tongshi-2023-village", "county-poverty"] }

[parameters]
"query.scheme_id" = { dictionary = "schemes", probability = $p }
"query.subject_id" = { dictionary = "subjects", probability = $p }
"query.incident_id" = { dictionary = "incidents", probability = $p }
"query.evaluation_id" = { dictionary = "evaluations", probability = $p }
"query.township_id" = { dictionary = "towns", probability = $p }
"query.org_unit_id" = { dictionary = "org_units", probability = $p }
"query.parent_id" = { dictionary = "org_units", probability = $p }
"body.scheme_id" = { dictionary = "schemes", probability = $p }
"body.subject_id" = { dictionary = "subjects", probability = $p }
"body.evaluation_id" = { dictionary = "evaluations", probability = $p }
"body.org_unit_id" = { dictionary = "org_units", probability = $p }
"body.parent_id" = { dictionary = "org_units", probability = $p }
"body.township_id" = { dictionary = "towns", probability = $p }
"body.stationed_in" = { dictionary = "subjects", probability = $p }
EOF
  local prefix dictionary
  for binding in subjects:subjects schemes:schemes incidents:incidents evaluations:evaluations \
    users:users org-units:org_units rubrics:rubrics publications:publications appeals:appeals \
    service-accounts:service_accounts built-in-schemes:built_ins; do
    prefix=${binding%%:*}
    dictionary=${binding#*:}
    local name=id
    [[ "$prefix" == built-in-schemes ]] && name=key
    cat >>"$dir/schemathesis.toml" <<EOF

[[operations]]
include-path-regex = "^/api/v1/$prefix/\\\\{$name\\\\}"
parameters = { "path.$name" = { dictionary = "$dictionary", probability = $p }, "path.scheme_id" = { dictionary = "schemes", probability = $p } }
EOF
  done
}

# The service's error events. actix-http logs a request it cannot parse (the fuzzer's headers with
# bytes HTTP forbids) at ERROR and answers 400 itself before any of our code runs: not ours.
service_errors() { grep '"level":"ERROR"' "$1" | grep -v 'request parse error' || true; }

# fuzz NAME TOKEN: one Schemathesis run with every phase and every check.
fuzz() {
  local name=$1 token=$2 started log st
  log="$reports/$name.log"
  st=$(schemathesis_bin)
  started=$SECONDS
  # max-time bounds the run (fuzzing and stateful cycles repeat until it is spent); timeout is the
  # backstop should a request hang. One worker: with two threads Hypothesis's lambda descriptions
  # call ast.parse concurrently, which CPython 3.11 does not survive ("AST constructor recursion
  # depth mismatch", or a KeyError in its AST cache): a Schemathesis run error before any request.
  local rc=0
  timeout $((fuzz_secs + 180)) "$st" --config-file "$dir/schemathesis.toml" \
    run "$repo/openapi/openapi.json" --url "$base" \
    --header "Authorization: Bearer $token" \
    --phases examples,coverage,fuzzing,stateful --checks all \
    --max-examples "$max_examples" --max-time "$fuzz_secs" --workers 1 \
    --request-timeout 30 --seed "${KAOHE_QUALITY_SEED:-$RANDOM}" \
    --generation-database none --no-color --continue-on-failure \
    --report junit,ndjson --report-dir "$reports/$name" >"$log" 2>&1 || rc=$?
  if ((rc != 0)); then
    # What failed: the failures, else Schemathesis's own errors, else the end of its output (a
    # run stopped by the timeout has neither section).
    if grep -q '= FAILURES =' "$log"; then
      sed -n '/= FAILURES =/,$p' "$log" | head -300
    elif grep -q '= ERRORS =' "$log"; then
      sed -n '/= ERRORS =/,$p' "$log" | head -300
    else
      tail -60 "$log"
    fi
    ((rc == 124)) && echo "quality: schemathesis $name was stopped after $((fuzz_secs + 180)) s"
    service_errors "$dir/service.log" | head -20 || true
    fail "schemathesis $name exited with $rc (full log: $log)"
  fi
  if service_errors "$dir/service.log" | grep -q .; then
    service_errors "$dir/service.log" | head -20
    fail "the service logged errors during schemathesis $name"
  fi
  summary+=("schemathesis $name: $(grep -Eo '[0-9]+ generated' "$log" | tail -1) cases, passed, $((SECONDS - started)) s")
  sed -n '/= SUMMARY =/,$p' "$log" | grep -E 'Tested|generated|passed|failures|Seed' || true
}

gate_fuzz() {
  local database=$1 url started=$SECONDS
  build_service
  mkdir -p "$reports"
  case "$database" in
    sqlite) url="sqlite://data/kaohe.db?mode=rwc" ;;
    postgres)
      pg_isready -h 127.0.0.1 -p 5432 -q || fail "PostgreSQL is not running at $pg_server"
      local db="kaohe_quality_$$_$RANDOM"
      psql "$pg_server/postgres" -qAtc "CREATE DATABASE \"$db\"" >/dev/null
      pg_databases+=("$db")
      url="$pg_server/$db"
      ;;
  esac
  step "schemathesis $SCHEMATHESIS_VERSION on $database (${fuzz_secs}s per caller)"
  start_service "fuzz-$database" "$url"
  seed
  fuzz "$database-county-admin" "$admin_token"
  fuzz "$database-township-viewer" "$viewer_token"
  stop_service
  echo "quality: schemathesis on $database passed in $((SECONDS - started)) s"
}

# --- the gates -------------------------------------------------------------------------------

gate_lint() {
  local started=$SECONDS out
  step "redocly lint openapi/openapi.json (@redocly/cli $REDOCLY_VERSION, redocly.yaml)"
  # Accepted warnings are listed with their reason in .redocly.lint-ignore.yaml; any other error
  # or warning fails the gate.
  out=$(redocly lint openapi/openapi.json --format=stylish 2>&1) || { echo "$out"; fail "redocly lint"; }
  if grep -Eq '^\s+[0-9]+:[0-9]+\s+(error|warning)' <<<"$out"; then
    echo "$out"
    fail "redocly lint reported problems"
  fi
  grep -E 'valid|ignored' <<<"$out" || true
  summary+=("redocly lint: no errors, no warnings, $((SECONDS - started)) s")

  step "spectral lint openapi/openapi.json (@stoplight/spectral-cli $SPECTRAL_VERSION, spectral:oas)"
  printf 'extends: ["spectral:oas"]\n' >"$work/spectral.yaml"
  out=$(spectral lint --ruleset "$work/spectral.yaml" --format text --fail-severity hint openapi/openapi.json 2>&1) ||
    { echo "$out"; fail "spectral lint reported problems"; }
  echo "${out:-no problems}"
  summary+=("spectral lint (spectral:oas): 0 problems")
}

gate_client() {
  local started=$SECONDS
  step "TypeScript client: openapi-typescript, tsc --strict, smoke test"
  (
    cd clients/typescript
    npm ci --silent --no-audit --no-fund
    npx --no-install openapi-typescript ../../openapi/openapi.json --output src/kaohe.ts --silent
    npx --no-install tsc --noEmit --strict -p .
    npx --no-install tsc --strict -p . # emits dist/ (Node 20 cannot run TypeScript itself)
  ) || fail "generating or type-checking the TypeScript client"
  build_service
  start_service client "sqlite://data/kaohe.db?mode=rwc"
  (cd clients/typescript && KAOHE_BASE="$base" node dist/smoke.js) ||
    fail "the TypeScript client's smoke test"
  stop_service
  summary+=("TypeScript client: generated, type-checked, smoke test passed, $((SECONDS - started)) s")
}

gate_python_client() {
  local started=$SECONDS generator out venv log
  step "Python client: openapi-python-client $OPENAPI_PYTHON_CLIENT_VERSION, pip install, smoke test"
  generator=$(python_client_generator)
  out="$work/python-client"
  log="$work/python-client.log"
  # clients/python/templates fixes the generator's choice among several request bodies (the bulk
  # uploads' JSON array, CSV and NDJSON; see clients/python/config.yaml).
  "$generator" generate --path openapi/openapi.json --config clients/python/config.yaml \
    --custom-template-path clients/python/templates \
    --meta setup --output-path "$out" >"$log" 2>&1 || { cat "$log"; fail "generating the Python client"; }
  # Any warning (an unparseable schema, an unsupported content type, an operation or response left
  # out) or error fails the gate: the document must generate cleanly.
  local warnings
  warnings=$(grep -c '^WARNING' "$log" || true)
  if ((warnings > 0)) || grep -Eq '^(Warning|Unable|Cannot|Could not|Error)' "$log"; then
    cat "$log"
    fail "openapi-python-client reported ${warnings} warning(s)"
  fi
  echo "openapi-python-client: generated, 0 warnings"
  venv="$work/python-client-venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "$out" || fail "installing the generated Python client"
  build_service
  start_service python-client "sqlite://data/kaohe.db?mode=rwc"
  KAOHE_BASE="$base" "$venv/bin/python" clients/python/smoke.py || fail "the Python client's smoke test"
  stop_service
  summary+=("Python client: generated with 0 warnings, installed, smoke test passed, $((SECONDS - started)) s")
}

total=$SECONDS
for gate in "$@"; do
  case "$gate" in
    lint) gate_lint ;;
    client) gate_client ;;
    python-client) gate_python_client ;;
    fuzz-sqlite) gate_fuzz sqlite ;;
    fuzz-postgres) gate_fuzz postgres ;;
  esac
done

echo
printf 'quality: %s\n' "${summary[@]}"
echo "quality: all gates passed in $((SECONDS - total)) s"
