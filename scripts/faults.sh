#!/usr/bin/env bash
# Fault tests (issue 8). Needs root on a machine whose PostgreSQL this script may stop and start,
# a release build, psql, jq and python3.
#
#   scripts/faults.sh
#
# 1. PostgreSQL stopped for 10 s while writes and reads go on: requests answer 503 problems
#    within 2 s, /readyz reports it, the service recovers by itself within 5 s of the database's
#    return, and no acknowledged write is lost.
# 2. The service killed with SIGKILL during a bulk upload: after restart the upload is either
#    fully present or absent, and the audit chain still verifies.
set -euo pipefail
cd "$(dirname "$0")/.."
PG=${PG:-postgres://postgres@127.0.0.1:5432}
DB=kaohe_faults
PORT=18484
BIN=${BIN:-target/release/kaohe}
CLUSTER=$(ls /etc/postgresql | sort -V | tail -n 1)
work=$(mktemp -d); pid=""; writer=""
cleanup() {
  [ -n "$writer" ] && kill "$writer" 2>/dev/null || true
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  pg_ctlcluster --skip-systemctl-redirect "$CLUSTER" main start 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
J='content-type: application/json'
now_ms() { date +%s%3N; }
fail() { echo "FAIL: $*"; exit 1; }

psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB" -qc "CREATE DATABASE $DB"
export KAOHE__DATABASE__URL="$PG/$DB" KAOHE__SERVER__PORT=$PORT KAOHE__LOG__LEVEL=warn \
  KAOHE__AUTH__HMAC_SECRET=fault-secret-fault-secret-fault-secret-42 KAOHE__BOOTSTRAP__ADMIN_PASSWORD=fault-admin-password
$BIN demo >/dev/null
start() {
  (exec $BIN serve >>"$work/service.log" 2>&1) & pid=$!
  for _ in $(seq 1 60); do curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && return 0; sleep 0.5; done
  fail "the service did not start"
}
start
BASE=http://127.0.0.1:$PORT
TOKEN=$(curl -s -X POST $BASE/api/v1/auth/token -H "$J" -d '{"username":"admin","password":"fault-admin-password"}' | jq -r .access_token)
AUTH="authorization: Bearer $TOKEN"
SCHEME=$(curl -s "$BASE/api/v1/schemes?key=county-poverty" -H "$AUTH" | jq -r '.items[0].id')
TOWNSHIP=$(curl -s "$BASE/api/v1/subjects?subject_type=township&limit=1" -H "$AUTH" | jq -r '.items[0].id')

echo "== 1. PostgreSQL stopped for 10 s during load"
# A writer records the id of every acknowledged finding; every status goes to a log.
(
  i=0
  while [ ! -e "$work/stop" ]; do
    i=$((i + 1))
    out=$(curl -s -m 10 -w '\n%{http_code}' -X POST $BASE/api/v1/incidents -H "$AUTH" -H "$J" \
      -d "{\"subject_id\":\"$TOWNSHIP\",\"item_code\":\"5\",\"rule_code\":\"bonus\",\"points\":\"0.5\",\"note\":\"fault test $i\",\"occurred_on\":\"2023-06-01\"}" || true)
    code=${out##*$'\n'}
    echo "$code" >> "$work/statuses"
    [ "$code" = 201 ] && echo "${out%$'\n'*}" | jq -r .id >> "$work/acked"
    curl -s -m 10 -o /dev/null "$BASE/api/v1/rankings?scheme_id=$SCHEME" -H "$AUTH" || true
  done
) & writer=$!
sleep 3
pg_ctlcluster --skip-systemctl-redirect "$CLUSTER" main stop -m fast
stopped_at=$(now_ms)
sleep 1
slowest=0
for _ in $(seq 1 8); do
  t0=$(now_ms)
  code=$(curl -s -m 10 -o "$work/problem.json" -w '%{http_code}' "$BASE/api/v1/subjects?limit=1" -H "$AUTH")
  took=$(( $(now_ms) - t0 ))
  [ "$code" = 503 ] || fail "with the database down a request answered $code, not 503"
  jq -e '.code == "database.unavailable"' "$work/problem.json" >/dev/null || fail "not a problem document: $(cat "$work/problem.json")"
  [ "$took" -le 2000 ] || fail "a request took $took ms with the database down"
  [ "$took" -gt "$slowest" ] && slowest=$took
  ready=$(curl -s -m 10 -o /dev/null -w '%{http_code}' "$BASE/readyz")
  [ "$ready" = 503 ] || fail "/readyz answered $ready with the database down"
  sleep 0.5
done
sleep $(( 10 - ($(now_ms) - stopped_at) / 1000 > 0 ? 10 - ($(now_ms) - stopped_at) / 1000 : 0 ))
pg_ctlcluster --skip-systemctl-redirect "$CLUSTER" main start
back_at=$(now_ms)
until curl -fs -m 2 "$BASE/readyz" >/dev/null 2>&1; do
  [ $(( $(now_ms) - back_at )) -le 5000 ] || fail "the service did not recover within 5 s of the database's return"
  sleep 0.1
done
recovered=$(( $(now_ms) - back_at ))
sleep 2
# Let the writer finish the request in flight: killing it could leave a child that appends an
# acknowledged id after the count below.
touch "$work/stop"; wait "$writer" || true; writer=""
acked=$(wc -l < "$work/acked")
found=$(psql "$PG/$DB" -Atq -c "CREATE TEMP TABLE acked(id uuid)" -c "\\copy acked FROM '$work/acked'" -c "SELECT count(*) FROM acked JOIN incidents USING (id)")
[ "$acked" = "$found" ] || fail "$acked writes were acknowledged but only $found are stored"
others=$(grep -cvE '^(201|503)$' "$work/statuses" || true)
[ "$others" = 0 ] || fail "writes answered other statuses than 201 and 503: $(sort "$work/statuses" | uniq -c | tr '\n' ' ')"
echo "   503 problems with the database down (slowest ${slowest} ms); ready again ${recovered} ms after its return"
echo "   writes: $(sort "$work/statuses" | uniq -c | tr '\n' ' '); all $acked acknowledged writes stored"

echo "== 2. SIGKILL during a bulk upload"
before=$(psql "$PG/$DB" -Atc "SELECT count(*) FROM incidents")
python3 - "$TOWNSHIP" "$SCHEME" > "$work/upload.ndjson" <<'PY'
import json, sys
township, scheme = sys.argv[1], sys.argv[2]
for i in range(200000):
    print(json.dumps({"subject_id": township, "scheme_id": scheme, "item_code": "5", "rule_code": "bonus",
                      "points": "0.5", "note": f"killed upload {i}", "occurred_on": "2023-07-01"}))
PY
rows=$(wc -l < "$work/upload.ndjson")
curl -s -o /dev/null -X POST "$BASE/api/v1/incidents:bulk" -H "$AUTH" -H 'content-type: application/x-ndjson' --data-binary @"$work/upload.ndjson" &
upload=$!
sleep 2.5
kill -9 $pid; pid=""
wait $upload 2>/dev/null || true
start
after=$(psql "$PG/$DB" -Atc "SELECT count(*) FROM incidents")
added=$((after - before))
[ "$added" = 0 ] || [ "$added" = "$rows" ] || fail "after the kill $added of $rows rows are stored"
echo "   killed mid-upload: $added of $rows rows stored (all or nothing)"
$BIN audit verify | tail -1
echo "faults: OK"
