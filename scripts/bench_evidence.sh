#!/usr/bin/env bash
# Evidence files: upload (raw body and multipart form) and download of one file through the
# service vs `cp` of the same file on the same disk, and the service's peak RSS during each
# upload (VmHWM, reset before each one through /proc/PID/clear_refs), for several file sizes:
# the peak must stay flat while the file grows.
#
#   scripts/bench_evidence.sh                  # SIZES="50 200" (MiB), BIN=target/release/kaohe
#   BIN=target/debug/kaohe SIZES=50 scripts/bench_evidence.sh
#
# Needs curl, jq, python3. The service runs on SQLite with the local evidence store, both in a
# temporary directory under the repository (the same disk as the copy).
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=${SIZES:-"50 200"}
BIN=${BIN:-target/release/kaohe}
PORT=${PORT:-18282}
work=$(mktemp -d -p "$PWD" bench-evidence.XXXXXX)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
now() { date +%s%N; }
mibps() { python3 -c "import sys; print(f'{int(sys.argv[1]) / 1048576 / ((int(sys.argv[3]) - int(sys.argv[2])) / 1e9):.0f}')" "$@"; }
secs() { python3 -c "import sys; print(f'{(int(sys.argv[2]) - int(sys.argv[1])) / 1e9:.2f}')" "$@"; }
status_kib() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }

[ -x "$BIN" ] || cargo build --release --bin kaohe
max_mib=0
for s in $SIZES; do [ "$s" -gt "$max_mib" ] && max_mib=$s; done

mkdir -p "$work/service"
export KAOHE__DATABASE__URL="sqlite://$work/service/kaohe.db?mode=rwc" \
  KAOHE__EVIDENCE__LOCAL_DIR="$work/service/evidence" \
  KAOHE__EVIDENCE__MAX_BYTES=$(((max_mib + 1) * 1048576)) \
  KAOHE__BOOTSTRAP__ADMIN_PASSWORD=bench-admin-password \
  KAOHE__AUTH__HMAC_SECRET=bench-secret-bench-secret-bench-secret-42 \
  KAOHE__SERVER__PORT=$PORT KAOHE__LOG__LEVEL=warn KAOHE__AUTH__TOKEN_TTL_SECS=3600
(cd "$work/service" && exec "$OLDPWD/$BIN" serve >"$work/service.log" 2>&1) &
pid=$!
base="http://127.0.0.1:$PORT"
for _ in $(seq 1 60); do curl -fs "$base/readyz" >/dev/null 2>&1 && break; sleep 0.5; done
curl -fs "$base/readyz" >/dev/null || { cat "$work/service.log"; exit 1; }
token=$(curl -fs -X POST "$base/api/v1/auth/token" -H 'content-type: application/json' \
  -d '{"username":"admin","password":"bench-admin-password"}' | jq -r .access_token)
auth="authorization: Bearer $token"

echo "binary: $BIN; $(nproc) cores; service RSS after start: $(status_kib $pid VmRSS) KiB"
printf '%-6s %-22s %9s %10s %16s\n' "MiB" "what" "seconds" "MiB/s" "peak RSS (KiB)"
for mib in $SIZES; do
  file="$work/file-$mib.png"
  # A PNG signature, then random bytes: accepted as image/png, incompressible.
  python3 - "$file" "$mib" <<'EOF'
import os, sys
with open(sys.argv[1], "wb") as f:
    f.write(b"\x89PNG\r\n\x1a\n")
    left = int(sys.argv[2]) * 1048576 - 8
    while left > 0:
        n = min(left, 1 << 20)
        f.write(os.urandom(n))
        left -= n
EOF
  bytes=$(stat -c %s "$file")
  sha=$(sha256sum "$file" | cut -d' ' -f1)
  cat "$file" >/dev/null # in the page cache for every contender

  t0=$(now); cp "$file" "$work/copy-$mib.png"; t1=$(now)
  printf '%-6s %-22s %9s %10s %16s\n' "$mib" "cp" "$(secs $t0 $t1)" "$(mibps $bytes $t0 $t1)" "-"
  rm -f "$work/copy-$mib.png"

  # Raw body. Each upload is new bytes to the service: the form upload below sends another file.
  echo 5 >"/proc/$pid/clear_refs"
  t0=$(now)
  answer=$(curl -fsS -X POST "$base/api/v1/evidence?file_name=bench-$mib.png" -H "$auth" \
    -H 'content-type: image/png' --data-binary @"$file")
  t1=$(now)
  [ "$(jq -r .sha256 <<<"$answer")" = "$sha" ] || { echo "upload hash differs: $answer"; exit 1; }
  id=$(jq -r .id <<<"$answer")
  printf '%-6s %-22s %9s %10s %16s\n' "$mib" "upload (raw body)" "$(secs $t0 $t1)" "$(mibps $bytes $t0 $t1)" "$(status_kib $pid VmHWM)"

  form_file="$work/form-$mib.png"
  cp "$file" "$form_file" && printf 'x' >>"$form_file"
  echo 5 >"/proc/$pid/clear_refs"
  t0=$(now)
  curl -fsS -o /dev/null -X POST "$base/api/v1/evidence" -H "$auth" -F "file=@$form_file;filename=现场照片-$mib.png"
  t1=$(now)
  printf '%-6s %-22s %9s %10s %16s\n' "$mib" "upload (multipart form)" "$(secs $t0 $t1)" "$(mibps $bytes $t0 $t1)" "$(status_kib $pid VmHWM)"

  echo 5 >"/proc/$pid/clear_refs"
  t0=$(now)
  curl -fsS -o "$work/down-$mib.png" "$base/api/v1/evidence/$id/content" -H "$auth"
  t1=$(now)
  [ "$(sha256sum "$work/down-$mib.png" | cut -d' ' -f1)" = "$sha" ] || { echo "download differs"; exit 1; }
  printf '%-6s %-22s %9s %10s %16s\n' "$mib" "download" "$(secs $t0 $t1)" "$(mibps $bytes $t0 $t1)" "$(status_kib $pid VmHWM)"
  rm -f "$work/down-$mib.png" "$file" "$form_file"
done
