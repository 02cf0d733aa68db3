#!/usr/bin/env bash
# Measures what slow senders cost `provhook serve` and checks that the body timeout ends them: a throwaway cluster, a
# tenant, serve in dry run on loopback, then contrib/slow-senders.py (1,000 connections, each trickling a body byte
# every 5 s) reading serve's RSS before, while they are held, and after they are closed.
#
#   contrib/slow-senders.sh                      debug build, 1,000 connections
#   SLOW_CONFIGURATION=release contrib/slow-senders.sh --connections 2000
#
# Extra arguments go to contrib/slow-senders.py; PROVHOOK_BODY_TIMEOUT_SECONDS and PROVHOOK_MAX_CONNECTIONS are
# passed to serve as set.
set -euo pipefail
cd "$(dirname "$0")/.."
. contrib/lib/postgres.sh
. contrib/lib/build.sh

pg_require_binaries
swift_build_quietly "${SLOW_CONFIGURATION:-debug}" --product provhook

root=$(mktemp -d "${TMPDIR:-/tmp}/provhook-slow.XXXXXX")
chmod 755 "$root"
serve_pid=
cleanup() {
    [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
    pg_stop "$root/pg"
    rm -rf "$root"
}
trap cleanup EXIT INT TERM

pg_init "$root/pg"
pg_port=$(pg_free_port)
pg_start "$root/pg" "$pg_port" -c fsync=off
export PROVHOOK_DATABASE_URL="postgres://postgres@127.0.0.1:$pg_port/postgres"
(umask 077 && head -c 32 /dev/urandom | base64 >"$root/secret.key")
export PROVHOOK_SECRET_KEY_FILE=$root/secret.key PROVHOOK_DRY_RUN=1 PROVHOOK_LOG_LEVEL=${PROVHOOK_LOG_LEVEL:-notice}
"$bin/provhook" migrate >/dev/null
"$bin/provhook" tenant add pbx --url-template 'https://prov.example.com/<mac>.xml' >/dev/null

port=$(pg_free_port)
admin_port=$(pg_free_port)
PROVHOOK_LISTEN=127.0.0.1:$port PROVHOOK_ADMIN_LISTEN=127.0.0.1:$admin_port "$bin/provhook" serve >"$root/serve.log" 2>&1 &
serve_pid=$!
for _ in $(seq 1 200); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.05; done
curl -fs "http://127.0.0.1:$port/healthz" >/dev/null || { cat "$root/serve.log" >&2; exit 1; }

echo "==> slow senders against serve (pid $serve_pid, ${SLOW_CONFIGURATION:-debug} build)"
status=0
python3 contrib/slow-senders.py --port "$port" --pid "$serve_pid" --tenant pbx "$@" || status=$?
echo "==> body timeouts logged: $(grep -c 'body timeout' "$root/serve.log" || true)"
echo "==> provhook_webhook_rejections_total: $(curl -fs "http://127.0.0.1:$admin_port/metrics" | grep rejections_total | tr '\n' ' ')"
exit "$status"
