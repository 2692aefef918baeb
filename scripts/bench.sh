#!/usr/bin/env bash
# Service benchmarks on a county-year: the demo county at --scale 5 (about 2,000 scored subjects)
# plus 200,000 findings uploaded through the bulk API, on PostgreSQL (and the upload on SQLite).
#
#   scripts/bench.sh            # needs: a release build, PostgreSQL on 127.0.0.1:5432, psql, wrk, jq
#
# Prints, side by side in one run: bulk upload vs `psql \copy` of the same rows; a cold full
# ranking vs PostgreSQL returning the same input rows; a warm ranking; wrk on the rankings
# endpoint vs /healthz. Results go to bench-results/ too.
set -euo pipefail
cd "$(dirname "$0")/.."
FINDINGS=${FINDINGS:-200000}
SCALE=${SCALE:-5}
PG=${PG:-postgres://postgres@127.0.0.1:5432}
DB=kaohe_bench
PORT=18181
BIN=${BIN:-target/release/kaohe}
case $BIN in /*) ;; *) BIN=$(pwd)/$BIN ;; esac
OUT=bench-results
mkdir -p $OUT
work=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
J='content-type: application/json'
ms() { python3 -c "import sys; print(round((int(sys.argv[2]) - int(sys.argv[1])) / 1e6))" "$1" "$2"; }
now() { date +%s%N; }

[ -x "$BIN" ] || cargo build --release --bin kaohe
psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB" -qc "CREATE DATABASE $DB"
export KAOHE__DATABASE__URL="$PG/$DB" KAOHE__BOOTSTRAP__ADMIN_PASSWORD=bench-admin-password \
  KAOHE__AUTH__HMAC_SECRET=bench-secret-bench-secret-bench-secret-42 KAOHE__SERVER__PORT=$PORT \
  KAOHE__LOG__LEVEL=warn KAOHE__AUTH__TOKEN_TTL_SECS=3600
$BIN demo --scale "$SCALE" | tail -4

start_service() {
  (exec $BIN serve >"$work/service.log" 2>&1) &
  pid=$!
  for _ in $(seq 1 60); do curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && return 0; sleep 0.5; done
  echo "service did not start"; cat "$work/service.log"; exit 1
}
# Logs in as the admin (TOKEN, AUTH) and saves the county-poverty scheme (its id in
# COUNTY_SCHEME) and all subjects, page by page, to $work/scheme$1.json and $work/subjects$1.json.
fetch_county() {
  TOKEN=$(curl -s -X POST $BASE/api/v1/auth/token -H "$J" -d '{"username":"admin","password":"bench-admin-password"}' | jq -r .access_token)
  AUTH="authorization: Bearer $TOKEN"
  COUNTY_SCHEME=$(curl -s "$BASE/api/v1/schemes?key=county-poverty" -H "$AUTH" | jq -r '.items[0].id')
  curl -s "$BASE/api/v1/schemes/$COUNTY_SCHEME" -H "$AUTH" > "$work/scheme$1.json"
  cursor=""; : > "$work/subjects$1.ndjson"
  while :; do
    page=$(curl -s "$BASE/api/v1/subjects?limit=1000${cursor:+&cursor=$cursor}" -H "$AUTH")
    echo "$page" | jq -c '.items[]' >> "$work/subjects$1.ndjson"
    cursor=$(echo "$page" | jq -r '.next_cursor // empty'); [ -z "$cursor" ] && break
  done
  jq -s . "$work/subjects$1.ndjson" > "$work/subjects$1.json"
}
start_service
BASE=http://127.0.0.1:$PORT
fetch_county ""
SCHEME=$COUNTY_SCHEME
ADMIN_ID=$(curl -s "$BASE/api/v1/users/me" -H "$AUTH" | jq -r .id)
SCORED=$(jq '[.[] | select(.subject_type != "village")] | length' "$work/subjects.json")
python3 scripts/bench_data.py "$work/subjects.json" "$work/scheme.json" "$FINDINGS" "$work/findings.ndjson" "$work/findings.csv" "$ADMIN_ID" > "$work/columns"
echo "county: $SCORED scored subjects (+ villages), uploading $FINDINGS findings"

# 1. Bulk upload vs psql \copy of the same rows into the same table.
t0=$(now)
curl -s -X POST "$BASE/api/v1/incidents:bulk" -H "$AUTH" -H 'content-type: application/x-ndjson' \
  --data-binary @"$work/findings.ndjson" > "$work/upload.json"
t1=$(now)
upload_ms=$(ms $t0 $t1)
jq -c '{rows, created}' "$work/upload.json"
rss_kb=$(grep VmHWM /proc/$pid/status | awk '{print $2}')
t0=$(now)
psql "$PG/$DB" -qc "\\copy incidents($(cat "$work/columns")) FROM '$work/findings.csv' WITH (FORMAT csv)"
t1=$(now)
copy_ms=$(ms $t0 $t1)
# Remove the \copy duplicates so the county has exactly $FINDINGS findings again.
psql "$PG/$DB" -qc "DELETE FROM incidents WHERE upload_id IS NULL AND recorded_by = '$ADMIN_ID'" -qc "VACUUM ANALYZE"

# 2. Cold full ranking vs PostgreSQL returning the same input rows.
pg_rows() {
  psql "$PG/$DB" -q \
    -c "\\copy (SELECT id, subject_type, name, township_id, village_id, dispatched_by, stationed_in FROM subjects WHERE active) TO '/dev/null'" \
    -c "\\copy (SELECT * FROM subject_attributes WHERE scheme_id = '$SCHEME') TO '/dev/null'" \
    -c "\\copy (SELECT id, subject_id, kind, item_code, rule_code, occurred_on, quantity, period, rate, sampled, correct, amount, points, event_key, note, created_at, revoked_at FROM incidents WHERE scheme_id = '$SCHEME') TO '/dev/null'" \
    -c "\\copy (SELECT * FROM scoresheets WHERE scheme_id = '$SCHEME') TO '/dev/null'" \
    -c "\\copy (SELECT i.scoresheet_id, i.item_code, i.score FROM scoresheet_items i WHERE i.scoresheet_id IN (SELECT id FROM scoresheets WHERE scheme_id = '$SCHEME')) TO '/dev/null'" \
    -c "\\copy (SELECT id, evaluation_id, subject_id, score, created_at, revoked_at FROM ballots WHERE scheme_id = '$SCHEME') TO '/dev/null'"
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for _ in 1 2 3 4 5; do t0=$(now); pg_rows; t1=$(now); ms $t0 $t1; done > "$work/pg.txt"
for i in 1 2 3 4 5; do
  as_of=$(date -u +%Y-%m-%dT%H:%M:%S.%6NZ)
  t0=$(now); curl -s -o /dev/null "$BASE/api/v1/rankings?scheme_id=$SCHEME&as_of=$as_of" -H "$AUTH"; t1=$(now); ms $t0 $t1
done > "$work/cold.txt"
curl -s -o /dev/null "$BASE/api/v1/rankings?scheme_id=$SCHEME" -H "$AUTH"
for _ in $(seq 1 20); do curl -s -o /dev/null -w '%{time_total}\n' "$BASE/api/v1/rankings?scheme_id=$SCHEME" -H "$AUTH"; done \
  | python3 -c "import sys; print(round(sorted(float(x) for x in sys.stdin)[10] * 1000, 1))" > "$work/warm.txt"
pg_ms=$(median < "$work/pg.txt"); cold_ms=$(median < "$work/cold.txt"); warm_ms=$(cat "$work/warm.txt")

# 3. Throughput: rankings vs /healthz, 64 connections.
wrk -t2 -c64 -d15s -H "$AUTH" "$BASE/api/v1/rankings?scheme_id=$SCHEME" > "$work/wrk-rankings.txt"
wrk -t2 -c64 -d15s -H "$AUTH" -H 'accept-encoding: gzip' "$BASE/api/v1/rankings?scheme_id=$SCHEME" > "$work/wrk-gzip.txt"
wrk -t2 -c64 -d15s -H "$AUTH" "$BASE/api/v1/rankings?scheme_id=$SCHEME&ranking=townships" > "$work/wrk-group.txt"
gzip_kb=$(curl -s -H 'accept-encoding: gzip' "$BASE/api/v1/rankings?scheme_id=$SCHEME" -H "$AUTH" | wc -c)
full_kb=$(curl -s "$BASE/api/v1/rankings?scheme_id=$SCHEME" -H "$AUTH" | wc -c)
group_kb=$(curl -s "$BASE/api/v1/rankings?scheme_id=$SCHEME&ranking=townships" -H "$AUTH" | wc -c)
wrk -t2 -c64 -d15s "$BASE/healthz" > "$work/wrk-healthz.txt"
rps() { awk '/Requests\/sec/ {print $2}' "$1"; }
errors() { grep -E "Non-2xx|Socket errors" "$1" || echo "none"; }

# 4. The same upload on SQLite.
kill $pid; wait $pid 2>/dev/null || true; pid=""
sqlite_dir=$(mktemp -d)
export KAOHE__DATABASE__URL="sqlite://$sqlite_dir/kaohe.db?mode=rwc"
(cd "$sqlite_dir" && "$BIN" demo --scale "$SCALE" >/dev/null)
start_service
fetch_county "-sqlite"
SCHEME_SQLITE=$COUNTY_SCHEME
python3 scripts/bench_data.py "$work/subjects-sqlite.json" "$work/scheme-sqlite.json" "$FINDINGS" "$work/f2.ndjson" "$work/f2.csv" "$ADMIN_ID" > /dev/null
t0=$(now)
curl -s -X POST "$BASE/api/v1/incidents:bulk" -H "$AUTH" -H 'content-type: application/x-ndjson' --data-binary @"$work/f2.ndjson" > "$work/upload-sqlite.json"
t1=$(now)
sqlite_upload_ms=$(ms $t0 $t1)
sqlite_rss_kb=$(grep VmHWM /proc/$pid/status | awk '{print $2}')
as_of=$(date -u +%Y-%m-%dT%H:%M:%S.%6NZ)
t0=$(now); curl -s -o /dev/null "$BASE/api/v1/rankings?scheme_id=$SCHEME_SQLITE&as_of=$as_of" -H "$AUTH"; t1=$(now)
sqlite_cold_ms=$(ms $t0 $t1)
rm -rf "$sqlite_dir"

report=$(cat <<EOF
county-year: $SCORED scored subjects, $FINDINGS findings (machine: $(nproc) cores)
bulk upload (NDJSON, curl)   PostgreSQL: ${upload_ms} ms  | psql \\copy same rows: ${copy_ms} ms  | ratio $(python3 -c "print(round($upload_ms/$copy_ms, 2))")  | service peak RSS $((rss_kb / 1024)) MiB
bulk upload (NDJSON, curl)   SQLite:     ${sqlite_upload_ms} ms  | service peak RSS $((sqlite_rss_kb / 1024)) MiB
full ranking, cold (median of 5): ${cold_ms} ms  | PostgreSQL returning the same input rows: ${pg_ms} ms  | ratio $(python3 -c "print(round($cold_ms/$pg_ms, 2))")
full ranking, cold on SQLite: ${sqlite_cold_ms} ms
full ranking, warm (median of 20, client-side): ${warm_ms} ms
wrk -c64 15s  /healthz: $(rps "$work/wrk-healthz.txt") req/s (errors: $(errors "$work/wrk-healthz.txt"))
wrk -c64 15s  /api/v1/rankings, all groups ($((full_kb / 1024)) KiB): $(rps "$work/wrk-rankings.txt") req/s (errors: $(errors "$work/wrk-rankings.txt"))  | ratio to /healthz $(python3 -c "print(round($(rps "$work/wrk-rankings.txt")/$(rps "$work/wrk-healthz.txt"), 2))")
wrk -c64 15s  /api/v1/rankings, all groups, accept-encoding: gzip ($((gzip_kb / 1024)) KiB): $(rps "$work/wrk-gzip.txt") req/s (errors: $(errors "$work/wrk-gzip.txt"))  | ratio to /healthz $(python3 -c "print(round($(rps "$work/wrk-gzip.txt")/$(rps "$work/wrk-healthz.txt"), 2))")
wrk -c64 15s  /api/v1/rankings?ranking=townships ($((group_kb / 1024)) KiB): $(rps "$work/wrk-group.txt") req/s (errors: $(errors "$work/wrk-group.txt"))  | ratio to /healthz $(python3 -c "print(round($(rps "$work/wrk-group.txt")/$(rps "$work/wrk-healthz.txt"), 2))")
EOF
)
echo "$report" | tee "$OUT/service-bench.txt"
