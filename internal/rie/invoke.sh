#!/usr/bin/env bash
# make invoke FN=<function> EVENT=<file> [SEED=file] [FAULTS=file] [LOGS=1]
#
# Runs bin/functions/$FN under the Lambda Runtime Interface Emulator against a
# fresh bin/localaws, all on free loopback ports, posts the event and prints
# the response and the time it took. The function sees a clean environment
# pointed at localaws, plus the caller's KDAGUARD_* variables. Exits 1 when
# the function returned an error.
set -euo pipefail

free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  echo "invoke: no free port" >&2
  return 1
}

wait_port() { # port, name
  for _ in $(seq 1 300); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.02
  done
  echo "invoke: nothing listening on 127.0.0.1:$1 ($2)" >&2
  return 1
}

tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "${LOGS:-}" ]; then
    echo "--- localaws"; cat "$tmp/localaws.log"
    echo "--- function (RIE)"; cat "$tmp/rie.log"
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

lport=$(free_port)
largs=(--addr "127.0.0.1:$lport")
[ -n "${SEED:-}" ] && largs+=(--seed "$SEED")
[ -n "${FAULTS:-}" ] && largs+=(--faults "$FAULTS")
bin/localaws "${largs[@]}" >"$tmp/localaws.log" 2>&1 &
pids+=($!)
wait_port "$lport" localaws || { cat "$tmp/localaws.log"; exit 1; }

eport=$(free_port)
aport=$(free_port)
while [ "$aport" = "$eport" ] || [ "$aport" = "$lport" ] || [ "$eport" = "$lport" ]; do
  eport=$(free_port)
  aport=$(free_port)
done

# A clean environment: the RIE forwards its own to the function, and the
# caller's AWS credentials must not reach it.
mapfile -t kenv < <(env | grep -E '^KDAGUARD_[A-Z_]+=' || true)
env -i PATH="$PATH" HOME="$HOME" \
  AWS_ENDPOINT_URL="http://127.0.0.1:$lport" AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 \
  AWS_ACCESS_KEY_ID=AKIALOCALAWSINVOKE01 AWS_SECRET_ACCESS_KEY=localaws-invoke-secret \
  AWS_S3_USE_PATH_STYLE=true AWS_EC2_METADATA_DISABLED=true \
  AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
  AWS_LAMBDA_FUNCTION_NAME="kdaguard-$FN" AWS_LAMBDA_FUNCTION_TIMEOUT=300 \
  "${kenv[@]}" \
  bin/aws-lambda-rie --log-level error \
    --runtime-interface-emulator-address "127.0.0.1:$eport" \
    --runtime-api-address "127.0.0.1:$aport" \
    "$PWD/bin/functions/$FN" >"$tmp/rie.log" 2>&1 &
pids+=($!)
wait_port "$eport" aws-lambda-rie || { cat "$tmp/rie.log"; exit 1; }

start=$(date +%s%N)
status=$(curl -sS -o "$tmp/response" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
  --data-binary "@$EVENT" "http://127.0.0.1:$eport/2015-03-31/functions/function/invocations")
end=$(date +%s%N)
cat "$tmp/response"
echo
echo "invoke: $FN $EVENT: HTTP $status, $(((end - start) / 1000000)) ms (cold start included)" >&2
# A function error comes back as {"errorType": ...}; a function that did not
# start (invalid settings) as an empty body.
if [ "$status" != 200 ] || [ ! -s "$tmp/response" ] || grep -q '"errorType"' "$tmp/response"; then
  [ -n "${LOGS:-}" ] || echo "invoke: the function failed (LOGS=1 shows its log)" >&2
  exit 1
fi
