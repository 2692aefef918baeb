# Sourced by the load scripts (after setting PORT): moves to the repository, starts the service on
# the benchmark county's database and signs in. Sets PG, DB, BIN, work (a temporary folder,
# removed on exit with the service), BASE, TOKEN and SCHEME (the county-poverty scheme).
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
PG=${PG:-postgres://postgres@127.0.0.1:5432}
DB=${DB:-kaohe_bench}
BIN=${BIN:-target/release/kaohe}
work=$(mktemp -d); pid=""
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$work"' EXIT
export KAOHE__DATABASE__URL="$PG/$DB" KAOHE__SERVER__PORT=$PORT KAOHE__LOG__LEVEL=warn \
  KAOHE__AUTH__HMAC_SECRET=bench-secret-bench-secret-bench-secret-42 KAOHE__AUTH__TOKEN_TTL_SECS=3600
(exec $BIN serve >"$work/service.log" 2>&1) & pid=$!
for _ in $(seq 1 60); do curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break; sleep 0.5; done
BASE=http://127.0.0.1:$PORT
TOKEN=$(curl -s -X POST $BASE/api/v1/auth/token -H 'content-type: application/json' \
  -d '{"username":"demo-county-assessor","password":"demo-password-2023"}' | jq -r .access_token)
SCHEME=$(curl -s "$BASE/api/v1/schemes?key=county-poverty" -H "authorization: Bearer $TOKEN" | jq -r '.items[0].id')
