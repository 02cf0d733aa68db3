#!/usr/bin/env bash
# Sends one Standard Webhooks-signed event to provhook, signing with openssl (independently of provhook's code).
#
#   contrib/send-event.sh TENANT SECRET JSON [URL]
#   contrib/send-event.sh demo whsec_… '{"type":"device.added","mac":"00:04:13:61:0f:f5","device_id":"pbx-1"}'
#
# URL defaults to $PROVHOOK_URL or http://127.0.0.1:8080. Set WEBHOOK_ID to resend with a fixed id.
set -euo pipefail
if [ $# -lt 3 ]; then
    sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
fi
tenant=$1 secret=$2 body=$3
base=${4:-${PROVHOOK_URL:-http://127.0.0.1:8080}}
for tool in openssl curl base64 od; do
    command -v "$tool" >/dev/null || { echo "send-event: $tool is required (Debian/Ubuntu: apt-get install $tool)" >&2; exit 2; }
done
case "$secret" in whsec_*) ;; *) echo "send-event: the secret must start with whsec_" >&2; exit 2 ;; esac

id=${WEBHOOK_ID:-msg_$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')}
timestamp=$(date +%s)
key_hex=$(printf '%s' "${secret#whsec_}" | base64 -d | od -An -v -tx1 | tr -d ' \n')
signature=$(printf '%s.%s.%s' "$id" "$timestamp" "$body" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$key_hex" -binary | base64 | tr -d '\n')

curl --silent --show-error --write-out '\nHTTP %{http_code}\n' \
    -H 'Content-Type: application/json' \
    -H "webhook-id: $id" -H "webhook-timestamp: $timestamp" -H "webhook-signature: v1,$signature" \
    --data-binary "$body" "$base/v1/tenants/$tenant/events"
