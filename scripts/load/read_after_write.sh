#!/usr/bin/env bash
# A read right after a single finding write, ROUNDS times, on the benchmark county (run
# scripts/bench.sh first): the distribution of the read's time on loopback.
#   scripts/load/read_after_write.sh   # PG=postgres://postgres@127.0.0.1:5432 DB=kaohe_bench ROUNDS=200 BIN=target/release/kaohe
set -euo pipefail
ROUNDS=${ROUNDS:-200}
PORT=18384
. "$(dirname "$0")/serve.sh"
SUBJECT=$(curl -s "$BASE/api/v1/subjects?subject_type=township&limit=1" -H "authorization: Bearer $TOKEN" | jq -r '.items[0].id')
echo "binary: $BIN"
python3 scripts/load/read_after_write.py "$BASE" "$TOKEN" "$SCHEME" "$SUBJECT" "$ROUNDS"
