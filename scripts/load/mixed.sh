#!/usr/bin/env bash
# Mixed load: 64 connections for DURATION seconds, 80 % reads of results/rankings and 20 % finding
# writes, against the benchmark county (run scripts/bench.sh first, or any database with the demo
# county). Then checks that every acknowledged write is in the database.
#   scripts/load/mixed.sh            # PG=postgres://postgres@127.0.0.1:5432 DB=kaohe_bench DURATION=60
set -euo pipefail
DURATION=${DURATION:-60}
PORT=18383
. "$(dirname "$0")/serve.sh"
SUBJECTS=$(curl -s "$BASE/api/v1/subjects?subject_type=township&limit=1000" -H "authorization: Bearer $TOKEN" | jq -r '[.items[].id] | join(",")')
ACKED_IDS="$work/acked.txt" TOKEN=$TOKEN SCHEME=$SCHEME SUBJECTS=$SUBJECTS \
  wrk -t2 -c64 -d"${DURATION}s" --timeout 30s -s scripts/load/mixed.lua "$BASE" | tee "$work/wrk.txt"
acked=$(wc -l < "$work/acked.txt")
# Every acknowledged finding, by id, must be in the database.
found=$(psql "$PG/$DB" -Atq -c "CREATE TEMP TABLE acked(id uuid)" -c "\copy acked FROM '$work/acked.txt'" \
  -c "SELECT count(*) FROM acked JOIN incidents USING (id)")
echo "acknowledged writes: $acked, found in the database: $found"
[ "$acked" -gt 0 ] && [ "$acked" = "$found" ] || { echo "FAIL: acknowledged writes missing from the database"; exit 1; }
grep -q "^failed_responses 0$" "$work/wrk.txt" || { echo "FAIL: some requests failed"; exit 1; }
grep -q "^socket_errors 0$" "$work/wrk.txt" || { echo "FAIL: socket errors"; exit 1; }
echo "mixed load: OK"
