#!/usr/bin/env bash
# Measures provhook on this machine, each figure against a limit measured in the same run:
#   - ingest: signed webhooks over HTTP into `provhook serve` on PostgreSQL with synchronous_commit=on, at
#     concurrency 1, 8 and 32, against pgbench running the same transaction (contrib/bench/ingest.pgbench) and a
#     one-row INSERT (contrib/bench/insert.pgbench) on the same cluster at the same concurrency;
#   - the HTTP floor: the same load against /healthz, which does no database work;
#   - delivery: the time to drain 2,000 registrations and 2,000 deregistrations through the stand-in with 50 ms
#     of added latency, against concurrency ÷ latency (× the list size for list calls);
#   - ingest with delivery running: the same at concurrency 32 with Snom MACs, so that each event is delivered;
#   - memory: the peak RSS of serve while idle, during ingest and during delivery;
#   - PBX sync: `provhook source sync` of a Kazoo stand-in with BENCH_SYNC_DEVICES (20,000) devices and with a
#     tenth of them, whose peak RSS must not grow with the device count, then a second sync with nothing changed,
#     which must queue no call and write only its run row to the journal.
# It prints a table and writes bench-results.json (figure, limit and ratio for each measurement).
#
#   contrib/bench.sh            the full run, release build (about 3 minutes after the build)
#   contrib/bench.sh --smoke    a few seconds, debug build, fewer devices: proves it works; CI runs this
#
# Settings: BENCH_SECONDS (per load point), BENCH_DEVICES, BENCH_DELIVERY_CONCURRENCY (default 8, provhook's
# default), BENCH_LATENCY_MS (default 50), BENCH_CONFIGURATION (release or debug), BENCH_OUTPUT.
set -euo pipefail
cd "$(dirname "$0")/.."
. contrib/lib/postgres.sh
. contrib/lib/build.sh

smoke=false
[ "${1:-}" = --smoke ] && smoke=true
if $smoke; then
    seconds=${BENCH_SECONDS:-1} warmup=0 devices=${BENCH_DEVICES:-100} sync_devices=${BENCH_SYNC_DEVICES:-1000}
    configuration=${BENCH_CONFIGURATION:-debug} output=${BENCH_OUTPUT:-bench-results.smoke.json}
else
    seconds=${BENCH_SECONDS:-5} warmup=1 devices=${BENCH_DEVICES:-2000} sync_devices=${BENCH_SYNC_DEVICES:-20000}
    configuration=${BENCH_CONFIGURATION:-release} output=${BENCH_OUTPUT:-bench-results.json}
fi
delivery_concurrency=${BENCH_DELIVERY_CONCURRENCY:-8}
latency_ms=${BENCH_LATENCY_MS:-50}

pg_require_binaries
command -v pgbench >/dev/null || { echo "provhook: pgbench not found; install it (Debian/Ubuntu: sudo apt-get install postgresql-contrib postgresql-client)" >&2; exit 1; }
command -v psql >/dev/null || { echo "provhook: psql not found; install it (Debian/Ubuntu: sudo apt-get install postgresql-client)" >&2; exit 1; }

swift_build_quietly "$configuration"

root=$(mktemp -d "${TMPDIR:-/tmp}/provhook-bench.XXXXXX")
chmod 755 "$root"
children=()
serve_pid=
cleanup() {
    trap '' INT TERM
    for pid in $serve_pid "${children[@]:-}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    pg_stop "$root/pg"
    rm -rf "$root"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A cluster with PostgreSQL's durable defaults: synchronous_commit=on, fsync=on.
pg_init "$root/pg"
pg_port=$(pg_free_port)
pg_start "$root/pg" "$pg_port" -c synchronous_commit=on
export PROVHOOK_DATABASE_URL="postgres://postgres@127.0.0.1:$pg_port/postgres"
(umask 077 && head -c 32 /dev/urandom | base64 >"$root/secret.key")
export PROVHOOK_SECRET_KEY_FILE=$root/secret.key
"$bin/provhook" migrate >/dev/null
psql -q -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -c 'CREATE TABLE bench_one_row (id bigserial PRIMARY KEY, v bigint NOT NULL)'
umask 077
"$bin/provhook" tenant add bench-ingest --url-template 'https://prov.example.com/<mac>.xml' | grep -o 'whsec_[^ ]*' >"$root/ingest.secret"
"$bin/provhook" tenant add bench-delivery --url-template 'https://prov.example.com/<mac>.xml' | grep -o 'whsec_[^ ]*' >"$root/delivery.secret"
od -An -N12 -tx1 /dev/urandom | tr -d ' \n' >"$root/stand-in.password"
umask 022

"$bin/fake-redirect" --account "bench:$(cat "$root/stand-in.password"):Bench" --latency-ms "$latency_ms" \
    --tls-ca-out "$root/stand-in-ca.pem" --port-file "$root/stand-in.port" >"$root/stand-in.log" 2>&1 &
children+=($!)
for _ in $(seq 1 100); do [ -s "$root/stand-in.port" ] && break; sleep 0.1; done
[ -s "$root/stand-in.port" ] || { cat "$root/stand-in.log" >&2; echo "provhook: the stand-in did not start" >&2; exit 1; }

http_port=$(pg_free_port)
export PROVHOOK_LISTEN=127.0.0.1:$http_port PROVHOOK_ADMIN_LISTEN=127.0.0.1:$(pg_free_port) PROVHOOK_LOG_LEVEL=warning
export PROVHOOK_REDIRECT_URL="https://localhost:$(tr -d '\n' <"$root/stand-in.port")/xmlrpc/"
export PROVHOOK_REDIRECT_USER=bench PROVHOOK_REDIRECT_PASSWORD_FILE=$root/stand-in.password
export PROVHOOK_REDIRECT_CA_FILE=$root/stand-in-ca.pem PROVHOOK_REDIRECT_CONCURRENCY=$delivery_concurrency
base=http://127.0.0.1:$http_port

start_serve() {
    "$bin/provhook" serve >>"$root/serve.log" 2>&1 &
    serve_pid=$!
    for _ in $(seq 1 200); do curl -fs "$base/healthz" >/dev/null 2>&1 && return 0; sleep 0.05; done
    cat "$root/serve.log" >&2
    echo "provhook: serve did not start" >&2
    exit 1
}
stop_serve() {
    kill -TERM "$serve_pid"
    wait "$serve_pid" || true
    serve_pid=
}
raw=$root/raw.jsonl
record() { echo "{\"name\":\"$1\",\"data\":$2}" >>"$raw"; echo "    $1: $2"; }

echo "==> serve idle"
start_serve
sleep 1
record rss_idle "$("$bin/provhook-bench" memory --pid "$serve_pid" --seconds 2)"

for c in 1 8 32; do
    echo "==> /healthz, concurrency $c"
    record "healthz_c$c" "$("$bin/provhook-bench" load --url "$base" --concurrency "$c" --seconds "$seconds" --warmup "$warmup" --pid "$serve_pid")"
done
if [ -n "${BENCH_PROFILE:-}" ]; then  # a CPU profile of serve during ingest at concurrency 32, for finding the cost
    command -v perf >/dev/null || { echo "provhook: BENCH_PROFILE needs perf (Debian: sudo apt-get install linux-perf)" >&2; exit 1; }
    (sleep "$warmup"; perf record -q -F 499 -g -p "$serve_pid" -o "$root/perf.data" -- sleep "$seconds" >/dev/null 2>&1) &
    profiler=$!
fi
for c in 32 1 8; do
    [ "$c" = 1 ] && [ -n "${BENCH_PROFILE:-}" ] && wait "$profiler"
    echo "==> ingest, concurrency $c"
    record "ingest_c$c" "$("$bin/provhook-bench" load --url "$base" --tenant bench-ingest --secret-file "$root/ingest.secret" \
        --concurrency "$c" --seconds "$seconds" --warmup "$warmup" --pid "$serve_pid")"
done
# Snom MACs (000413), so that every event is delivered to the stand-in while ingest is measured, as
# ../shared/peer/side_by_side.py measures it; the backlog left at the end is set aside so that the delivery runs
# below measure their own devices only.
echo "==> ingest with delivery running (Snom MACs), concurrency 32"
record ingest_delivering_c32 "$("$bin/provhook-bench" load --url "$base" --tenant bench-ingest --secret-file "$root/ingest.secret" \
    --mac-prefix 000413 --concurrency 32 --seconds "$seconds" --warmup "$warmup" --pid "$serve_pid")"
stop_serve
psql -qAt -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -c \
    "SELECT count(*) FROM devices WHERE tenant_id = 'bench-ingest' AND status = 'registered'" |
    sed 's/^/    devices registered during that run: /'
psql -q -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -c \
    "UPDATE devices SET status = 'skipped' WHERE tenant_id = 'bench-ingest' AND status = 'pending'"
if [ -n "${BENCH_PROFILE:-}" ]; then
    perf report -i "$root/perf.data" --stdio --no-children --sort symbol --percent-limit 0.7 2>/dev/null |
        grep -v '^$' | swift demangle --simplified >perf-ingest.txt
    perf report -i "$root/perf.data" --stdio --no-children -g none --sort dso 2>/dev/null | grep -v '^#' | sed -n '/%/p' >>perf-ingest.txt || true
    echo "    profile of serve during ingest at concurrency 32: perf-ingest.txt"
fi

pgbench_rate() {  # pgbench_rate SCRIPT CLIENTS: transactions per second, as JSON
    local threads=$(($2 < 2 ? $2 : 2))
    local out
    out=$(pgbench -n -M extended -h 127.0.0.1 -p "$pg_port" -U postgres -c "$2" -j "$threads" -T "$seconds" -f "$1" postgres 2>&1) ||
        { echo "$out" >&2; return 1; }
    local tps latency
    tps=$(echo "$out" | sed -n 's/^tps = \([0-9.]*\).*/\1/p' | head -1)
    latency=$(echo "$out" | sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' | head -1)
    echo "{\"rate\":$tps,\"latency_avg_ms\":${latency:-null},\"concurrency\":$2}"
}
for c in 1 8 32; do
    echo "==> pgbench, concurrency $c"
    record "pgbench_ingest_c$c" "$(pgbench_rate contrib/bench/ingest.pgbench "$c")"
    record "pgbench_insert_c$c" "$(pgbench_rate contrib/bench/insert.pgbench "$c")"
done

drain() {  # drain EVENT STATUS NAME
    local filled after
    filled=$("$bin/provhook-bench" fill --database-url "$PROVHOOK_DATABASE_URL" --tenant bench-delivery --count "$devices" --event "$1")
    after=$(echo "$filled" | sed -n 's/.*"journal_id":\([0-9]*\).*/\1/p')
    start_serve
    record "$3" "$("$bin/provhook-bench" drain --database-url "$PROVHOOK_DATABASE_URL" --tenant bench-delivery --count "$devices" \
        --status "$2" --after-id "$after" --pid "$serve_pid")"
    stop_serve
}
echo "==> delivery: $devices registrations, then $devices deregistrations; concurrency $delivery_concurrency, $latency_ms ms per call"
drain added registered delivery_register
drain removed deregistered delivery_deregister_list

sync_run() {  # sync_run COUNT NAME FIRST_MAC: a fresh Kazoo stand-in with COUNT devices, and one sync of it
    local port_file=$root/pbx-$2.port
    "$bin/fake-pbx" --port-file "$port_file" --kazoo-account "acct$2" --kazoo-api-key-file "$root/kazoo.key" \
        --kazoo-generated-devices "$1" --kazoo-first-mac "$3" >"$root/pbx-$2.log" 2>&1 &
    local pbx=$!
    children+=($pbx)
    for _ in $(seq 1 200); do [ -s "$port_file" ] && break; sleep 0.1; done
    "$bin/provhook" tenant add "sync-$2" --url-template 'https://prov.example.com/<mac>.xml' >/dev/null
    "$bin/provhook" source add "kazoo-$2" --kind kazoo --tenant "sync-$2" --api-url "http://127.0.0.1:$(tr -d '\n' <"$port_file")/v2" \
        --api-key-file "$root/kazoo.key" >/dev/null
    "$bin/provhook" source sync "kazoo-$2" --page-size 500 >"$root/sync-$2.out" 2>/dev/null &
    local sync=$!
    record "sync_$2" "$("$bin/provhook-bench" memory --pid "$sync" --until-exit --seconds 1800 | sed "s/}$/,\"devices\":$1}/")"
    wait "$sync"
    local before after queued
    before=$(psql -qAt -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -c 'SELECT count(*) FROM journal')
    "$bin/provhook" source sync "kazoo-$2" --page-size 500 >/dev/null 2>&1
    after=$(psql -qAt -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -c 'SELECT count(*) FROM journal')
    queued=$(psql -qAt -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -c \
        "SELECT count(*) FROM devices WHERE tenant_id = 'sync-$2' AND generation > 1")
    record "sync_again_$2" "{\"journal_rows\":$((after - before)),\"changed_devices\":$queued,\"devices\":$1}"
    kill "$pbx" 2>/dev/null || true
}
(umask 077 && od -An -N32 -tx1 /dev/urandom | tr -d ' \n' >"$root/kazoo.key")
echo "==> PBX sync: $((sync_devices / 10)) and $sync_devices devices from a Kazoo stand-in, each synced twice"
sync_run $((sync_devices / 10)) small 000414000001
sync_run "$sync_devices" large 000415000001

echo
"$bin/provhook-bench" report --raw "$raw" --output "$output" --delivery-concurrency "$delivery_concurrency" --latency-ms "$latency_ms" \
    --context "provhook $(git rev-parse --short HEAD 2>/dev/null || echo unknown), $configuration build, $(nproc) cores, $(uname -sr), PostgreSQL $(postgres --version | awk '{print $3}'), ${seconds}s per load point$($smoke && echo ', smoke')"
