#!/usr/bin/env bash
# make demo: the real binaries against localaws, no AWS account needed.
# 1. localaws starts on loopback with two seeded applications;
# 2. kdaguard scan reports their compliance from the live (emulated) APIs;
# 3. kdaguard scan --apply converges them: one merged UpdateApplication per
#    application, each fix verified by a re-read;
# 4. a second scan shows what is left (the findings with no safe fix).
set -euo pipefail
cd "$(dirname "$0")/../.."
port="${DEMO_PORT:-4566}"
bin/localaws --addr "127.0.0.1:${port}" --seed internal/demo/seed.json >/tmp/kdaguard-demo-localaws.log 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  curl -sf "http://127.0.0.1:${port}/_localaws/health" >/dev/null && break
  sleep 0.1
done
export AWS_ENDPOINT_URL="http://127.0.0.1:${port}" AWS_REGION=us-east-1 \
  AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo AWS_EC2_METADATA_DISABLED=true \
  AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
unset AWS_PROFILE KDAGUARD_MODE KDAGUARD_RULE_MODES

echo "== kdaguard scan (report only: nothing is changed)"
bin/kdaguard scan || true
echo
echo "== kdaguard scan --apply (audit log: /tmp/kdaguard-demo-audit.log)"
bin/kdaguard scan --apply 2>/tmp/kdaguard-demo-audit.log || true
echo
echo "== kdaguard scan --fail-on HIGH (after the fixes)"
bin/kdaguard scan --fail-on HIGH | grep -v -e '^  COMPLIANT' -e '^  NOT_APPLICABLE' || true
echo
echo "== API calls the demo made (localaws journal)"
curl -s "http://127.0.0.1:${port}/_localaws/journal" |
  python3 -c 'import json,sys,collections; j=json.load(sys.stdin); j=j if isinstance(j,list) else j.get("entries",[]); c=collections.Counter(e["service"]+":"+e["operation"] for e in j if not e["operation"].startswith(("Describe","List","Get"))); [print(f"  {n:3d}  {k}") for k,n in sorted(c.items())]' 2>/dev/null || true
