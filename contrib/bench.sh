#!/usr/bin/env bash
# Measures provhook on this machine, each figure against a limit measured in the same run:
#   - ingest: signed webhooks over HTTP into `provhook serve` on PostgreSQL with synchronous_commit=on, at
#     concurrency 1, 8 and 32, against pgbench running the same transaction (contrib/bench/ingest.pgbench) and a
#     one-row INSERT (contrib/bench/insert.pgbench) on the same cluster at the same concurrency;
#   - the HTTP floor: the same load against /healthz, which does no database work;
#   - delivery: the time to drain 2,000 registrations and 2,000 deregistrations through the stand-in with 50 ms
#     of added latency, against concurrency ÷ latency (× the list size for list calls);
#   - ingest with delivery running: the same at concurrency 32 with Snom MACs, so that each event is delivered;
#   - wake: BENCH_WAKE_EVENTS (50) webhooks one at a time at idle, from each answer to its call starting at the
#     stand-in (its call log), against 5 ms;
#   - memory: the peak RSS of serve while idle, during ingest and during delivery;
#   - PBX sync: `provhook source sync` of a Kazoo stand-in with BENCH_SYNC_DEVICES (20,000) devices and with a
#     tenth of them, whose peak RSS must not grow with the device count, then a second sync with nothing changed,
#     which must queue no call and write only its run row to the journal;
#   - an onboarded fleet: `provhook device import` of as many Snom devices to one shared URL, then drained by serve
#     in lists of 100; and BENCH_DRAIN_PER_MAC (100,000) to URLs with <mac>, drained one call each; each against
#     0.9 of concurrency ÷ latency (× the list size);
#   - the fleet: BENCH_FLEET (100,000) devices across BENCH_FLEET_TENANTS (200) tenants onboarded through the
#     listener; the claim query at 1,000 and at 100,000 applied devices, and with BENCH_CLAIM_WAITING (1,000,000)
#     devices waiting; re-pointing a tenant of a tenth of them with
#     and without <mac>; the first and the last page of devices; a reconcile of the whole fleet (calls per device);
#     `journal seal` and `journal verify` over BENCH_JOURNAL_ROWS (1,000,000) rows; and the growth from
#     BENCH_GROWTH_EVENTS / 10 events to BENCH_GROWTH_EVENTS (20,000), ingest and drain.
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
    fleet=${BENCH_FLEET:-3000} fleet_tenants=${BENCH_FLEET_TENANTS:-10} journal_rows=${BENCH_JOURNAL_ROWS:-30000}
    growth_events=${BENCH_GROWTH_EVENTS:-2000} drain_per_mac=${BENCH_DRAIN_PER_MAC:-300} claim_waiting=${BENCH_CLAIM_WAITING:-20000}
    wake_events=${BENCH_WAKE_EVENTS:-5}
    configuration=${BENCH_CONFIGURATION:-debug} output=${BENCH_OUTPUT:-bench-results.smoke.json}
else
    seconds=${BENCH_SECONDS:-5} warmup=1 devices=${BENCH_DEVICES:-2000} sync_devices=${BENCH_SYNC_DEVICES:-100000}
    fleet=${BENCH_FLEET:-100000} fleet_tenants=${BENCH_FLEET_TENANTS:-200} journal_rows=${BENCH_JOURNAL_ROWS:-1000000}
    growth_events=${BENCH_GROWTH_EVENTS:-20000} drain_per_mac=${BENCH_DRAIN_PER_MAC:-100000}
    claim_waiting=${BENCH_CLAIM_WAITING:-1000000} wake_events=${BENCH_WAKE_EVENTS:-50}
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

stand_in_pid=
start_stand_in() {  # start_stand_in NAME: a fresh stand-in with nothing registered, and provhook pointed at it
    "$bin/fake-redirect" --account "bench:$(cat "$root/stand-in.password"):Bench" --latency-ms "$latency_ms" \
        --call-log "$root/stand-in-$1.calls" --tls-ca-out "$root/stand-in-$1-ca.pem" --port-file "$root/stand-in-$1.port" >"$root/stand-in-$1.log" 2>&1 &
    stand_in_pid=$!
    children+=($stand_in_pid)
    for _ in $(seq 1 100); do [ -s "$root/stand-in-$1.port" ] && break; sleep 0.1; done
    [ -s "$root/stand-in-$1.port" ] || { cat "$root/stand-in-$1.log" >&2; echo "provhook: the stand-in did not start" >&2; exit 1; }
    export PROVHOOK_REDIRECT_URL="https://localhost:$(tr -d '\n' <"$root/stand-in-$1.port")/xmlrpc/"
    export PROVHOOK_REDIRECT_CA_FILE=$root/stand-in-$1-ca.pem
}
start_stand_in first

http_port=$(pg_free_port)
export PROVHOOK_LISTEN=127.0.0.1:$http_port PROVHOOK_ADMIN_LISTEN=127.0.0.1:$(pg_free_port) PROVHOOK_LOG_LEVEL=warning
export PROVHOOK_REDIRECT_USER=bench PROVHOOK_REDIRECT_PASSWORD_FILE=$root/stand-in.password
export PROVHOOK_REDIRECT_CONCURRENCY=$delivery_concurrency
# 589EC6 and 00ACDC are Gigaset ranges in the registry; the delivery-while-ingesting run and the growth runs send them
# as Snom's (Gigaset IP PRO phones are Snom-made, and both were Snom's by default before the vendor table), so that
# every one of their events is delivered to the stand-in.
export PROVHOOK_VENDOR_PREFIXES="snom:589EC6,00ACDC"
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
# One webhook at a time at idle (Snom MACs, a <mac> template): from its answer to its call starting at the stand-in.
echo "==> wake: $wake_events webhooks one at a time, answer to call"
record wake "$("$bin/provhook-bench" wake --url "$base" --tenant bench-delivery --secret-file "$root/delivery.secret" \
    --call-log "$root/stand-in-first.calls" --mac-prefix 589EC6 --count "$wake_events")"

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
# Snom MACs (589EC6, apart from the 000413 MACs of the delivery runs), so that every event is delivered to the stand-in while ingest is measured, as
# ../shared/peer/side_by_side.py measures it; the backlog left at the end is set aside so that the delivery runs
# below measure their own devices only.
echo "==> ingest with delivery running (Snom MACs), concurrency 32"
record ingest_delivering_c32 "$("$bin/provhook-bench" load --url "$base" --tenant bench-ingest --secret-file "$root/ingest.secret" \
    --mac-prefix 589EC6 --concurrency 32 --seconds "$seconds" --warmup "$warmup" --pid "$serve_pid")"
stop_serve
psql -qAt -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -c \
    "SELECT count(*) FROM devices WHERE tenant_id = 'bench-ingest' AND status = 'registered'" |
    sed 's/^/    devices registered during that run: /'
psql -q -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -c \
    "UPDATE devices SET status = 'skipped', skipped_because = 'vendor_not_allowed' WHERE tenant_id = 'bench-ingest' AND status = 'pending'"
if [ -n "${BENCH_PROFILE:-}" ]; then
    perf report -i "$root/perf.data" --stdio --no-children --sort symbol --percent-limit 0.7 2>/dev/null |
        grep -v '^$' | swift demangle --simplified >perf-ingest.txt
    perf report -i "$root/perf.data" --stdio --no-children -g none --sort dso 2>/dev/null | grep -v '^#' | sed -n '/%/p' >>perf-ingest.txt || true
    echo "    profile of serve during ingest at concurrency 32: perf-ingest.txt"
fi

pgbench_rate() {  # pgbench_rate SCRIPT CLIENTS: transactions per second, mean, p50 and p99 latency, as JSON
    local threads=$(($2 < 2 ? $2 : 2))
    local out logs=$root/pgbench-log
    rm -rf "$logs" && mkdir -p "$logs"
    # -l logs each transaction's latency (µs, the third field), for the percentiles that the mean hides.
    out=$(pgbench -n -M extended -h 127.0.0.1 -p "$pg_port" -U postgres -c "$2" -j "$threads" -T "$seconds" \
        -D credentials="$credentials_version" -l --log-prefix="$logs/tx" -f "$1" postgres 2>&1) ||
        { echo "$out" >&2; return 1; }
    local tps latency percentiles
    tps=$(echo "$out" | sed -n 's/^tps = \([0-9.]*\).*/\1/p' | head -1)
    latency=$(echo "$out" | sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' | head -1)
    percentiles=$(cat "$logs"/tx.* | awk '{ print $3 }' | sort -n |
        awk '{ l[NR] = $1 } END { if (NR) printf "\"p50_ms\":%.3f,\"p99_ms\":%.3f,", l[int(NR * 0.5) + 1] / 1000, l[int(NR * 0.99) + 1] / 1000 }')
    echo "{\"rate\":$tps,\"latency_avg_ms\":${latency:-null},${percentiles}\"concurrency\":$2}"
}
# What serve's cached credentials carry (contrib/bench/ingest-now.pgbench).
credentials_version=$(psql -Atq -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -c \
    "SELECT credentials_version FROM tenants WHERE id = 'bench-ingest'")
for c in 1 8 32; do
    echo "==> pgbench, concurrency $c"
    record "pgbench_ingest_c$c" "$(pgbench_rate contrib/bench/ingest.pgbench "$c")"
    record "pgbench_insert_c$c" "$(pgbench_rate contrib/bench/insert.pgbench "$c")"
    record "pgbench_ingest_now_c$c" "$(pgbench_rate contrib/bench/ingest-now.pgbench "$c")"
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

sync_run() {  # sync_run COUNT NAME FIRST_MAC [KIND]: a fresh Kazoo (or Wazo) stand-in with COUNT devices, and one sync of it
    local port_file=$root/pbx-$2.port kind=${4:-kazoo}
    if [ "$kind" = kazoo ]; then
        "$bin/fake-pbx" --port-file "$port_file" --kazoo-account "acct$2" --kazoo-api-key-file "$root/kazoo.key" \
            --kazoo-generated-devices "$1" --kazoo-first-mac "$3" >"$root/pbx-$2.log" 2>&1 &
    else
        "$bin/fake-pbx" --port-file "$port_file" --wazo-user provhook --wazo-password-file "$root/kazoo.key" \
            --wazo-generated-devices "$1" --wazo-first-mac "$3" >"$root/pbx-$2.log" 2>&1 &
    fi
    local pbx=$!
    children+=($pbx)
    for _ in $(seq 1 200); do [ -s "$port_file" ] && break; sleep 0.1; done
    "$bin/provhook" tenant add "sync-$2" --url-template 'https://prov.example.com/<mac>.xml' >/dev/null
    # The PBX stand-in is plain HTTP on loopback: the opt-in says so.
    local api="http://127.0.0.1:$(tr -d '\n' <"$port_file")"
    if [ "$kind" = kazoo ]; then
        PROVHOOK_PBX_ALLOW_HTTP=1 "$bin/provhook" source add "$kind-$2" --kind kazoo --tenant "sync-$2" --api-url "$api/v2" \
            --api-key-file "$root/kazoo.key" >/dev/null
    else
        PROVHOOK_PBX_ALLOW_HTTP=1 "$bin/provhook" source add "$kind-$2" --kind wazo --tenant "sync-$2" --api-url "$api" \
            --api-user provhook --api-password-file "$root/kazoo.key" >/dev/null
    fi
    "$bin/provhook" source sync "$kind-$2" --page-size 500 >"$root/sync-$2.out" 2>/dev/null &
    local sync=$!
    record "sync_$2" "$("$bin/provhook-bench" memory --pid "$sync" --until-exit --seconds 1800 | sed "s/}$/,\"devices\":$1}/")"
    wait "$sync"
    local before after queued
    before=$(psql -qAt -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -c 'SELECT count(*) FROM journal')
    "$bin/provhook" source sync "$kind-$2" --page-size 500 >/dev/null 2>&1
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
# Wazo's listing carries each device's model, so its sync reads no device one by one: recording alone.
echo "==> PBX sync: $sync_devices devices from a Wazo stand-in, synced twice"
sync_run "$sync_devices" wazo 000418000001 wazo

journal_max() { psql -qAt -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -c 'SELECT coalesce(max(id), 0) FROM journal'; }
import_csv() {  # import_csv TENANT COUNT PREFIX FIRST: COUNT Snom devices from MAC PREFIX+FIRST, as a CSV
    awk -v n="$2" -v prefix="$3" -v first="$4" -v tenant="$1" 'BEGIN { print "mac,device_id,extension,model"
        for (i = 0; i < n; i++) printf "%s%06X,%s-%d,%d,D785\n", prefix, first + i, tenant, i, 1000 + i }' >"$root/$1.csv"
}
# The synced devices have served their purpose; the import's are drained next, alone.
psql -q -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -c "DELETE FROM devices WHERE tenant_id IN ('sync-small', 'sync-large', 'sync-wazo')"

# Snom MACs, so that the import queues a registration for each, as an operator's fleet would; the tenant's URL is
# shared (`{mac}` is the phone's own placeholder), so that the drain below goes out in lists.
echo "==> CSV import: $sync_devices devices"
"$bin/provhook" tenant add bench-import --url-template 'https://prov.example.com/import/{mac}.xml' >/dev/null
import_csv bench-import "$sync_devices" 00087B $((0x100000))
"$bin/provhook" device import "$root/bench-import.csv" --tenant bench-import >"$root/import.out" 2>&1 &
import_pid=$!
record import "$("$bin/provhook-bench" memory --pid "$import_pid" --until-exit --seconds 1800 | sed "s/}$/,\"devices\":$sync_devices}/")"
wait "$import_pid"

drain_onboarded() {  # drain_onboarded NAME PREFIX COUNT: serve drains the COUNT onboarded devices under PREFIX
    local after
    after=$(journal_max)
    start_serve
    record "$1" "$("$bin/provhook-bench" drain --database-url "$PROVHOOK_DATABASE_URL" --tenant - --mac-prefix "$2" \
        --count "$3" --status registered --after-id "$after" --timeout 3600 --pid "$serve_pid")"
    stop_serve
}
echo "==> delivery of the import: $sync_devices registrations to one shared URL, in lists of up to 100"
drain_onboarded delivery_onboarded_shared_url 00087B "$sync_devices"
echo "==> delivery of $drain_per_mac imported devices whose URLs carry <mac>: one call each"
"$bin/provhook" tenant add bench-import-mac --url-template 'https://prov.example.com/import/<mac>.xml' >/dev/null
import_csv bench-import-mac "$drain_per_mac" 000413 $((0x400000))
"$bin/provhook" device import "$root/bench-import-mac.csv" --tenant bench-import-mac >"$root/import-mac.out" 2>&1
drain_onboarded delivery_onboarded_per_mac 000413 "$drain_per_mac"


# --- The fleet: BENCH_FLEET devices (100,000) across BENCH_FLEET_TENANTS tenants (200), onboarded through the
# webhook listener. The first tenant holds a tenth of them (10,000), for the re-point. Every template shares its URL
# across the tenant's devices ({mac} is the phone's own placeholder), as Snom's provisioning URLs usually do, so
# registrations go out as lists and reconcile can compare whole lists. The devices left by the runs above are not
# part of it: they are deleted first, with a fresh stand-in, so that what follows measures the fleet alone.
psql -q -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -c "DELETE FROM devices"
kill "$stand_in_pid"
start_stand_in fleet
fleet_big=$((fleet / 10))
mkdir -p "$root/fleet-secrets"
umask 077
for i in $(seq 0 $((fleet_tenants - 1))); do
    t=$(printf 'fleet-%03d' "$i")
    "$bin/provhook" tenant add "$t" --url-template "https://prov.example.com/$t/{mac}.xml" | grep -o 'whsec_[^ ]*' >"$root/fleet-secrets/$t"
done
umask 022
(umask 077 && od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$root/admin.token")
admin_port=$(pg_free_port)
export PROVHOOK_ADMIN_LISTEN=127.0.0.1:$admin_port PROVHOOK_ADMIN_TOKEN_FILE=$root/admin.token
seed() {  # seed NAME COUNT FIRST SHARE: onboard COUNT devices from counter FIRST, then wait until all are registered
    local after
    after=$(journal_max)
    record "$1_ingest" "$("$bin/provhook-bench" seed --url "$base" --secrets "$root/fleet-secrets" --devices "$2" \
        --first "$3" --first-share "$4" --mac-prefix 00087B)"
    record "$1_drain" "$("$bin/provhook-bench" drain --database-url "$PROVHOOK_DATABASE_URL" --tenant - --mac-prefix 00087B \
        --count $(($3 + $2)) --status registered --after-id "$after" --timeout 1800 --pid "$serve_pid")"
}
claim_time() {  # claim_time NAME [WAITING]: the claim query with WAITING (1,000) devices waiting in their own tenant, the worker stopped
    local waiting=${2:-1000}
    "$bin/provhook" tenant add "claim-$1" --url-template 'https://prov.example.com/claim/<mac>.xml' >/dev/null
    "$bin/provhook-bench" fill --database-url "$PROVHOOK_DATABASE_URL" --tenant "claim-$1" --mac-prefix 000413 --count 1000 >/dev/null
    if [ "$waiting" -gt 1000 ]; then  # the rest as copies of one queued row, with MACs of their own: a backlog's shape, fast
        psql -q -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -c \
            "INSERT INTO devices
             SELECT r.*
             FROM (SELECT * FROM devices WHERE tenant_id = 'claim-$1' LIMIT 1) d,
                  LATERAL (SELECT '000413' || lpad(upper(to_hex($((0x600000)) + g)), 6, '0') AS mac
                           FROM generate_series(1, $waiting - 1000) g) m,
                  -- In FROM, so that it runs once a row: (f(…)).* would run it once a column.
                  LATERAL jsonb_populate_record(NULL::devices, to_jsonb(d) || jsonb_build_object('mac', m.mac,
                      'url', 'https://prov.example.com/claim/' || m.mac || '.xml')) r"
    fi
    psql -q -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -c 'ANALYZE devices'
    record "$1" "$("$bin/provhook-bench" claim --database-url "$PROVHOOK_DATABASE_URL" --limit 64 --repeat 20 |
        sed "s/}$/,\"applied\":$(psql -qAt -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -c "SELECT count(*) FROM devices WHERE status = 'registered'"),\"waiting\":$waiting}/")"
    psql -q -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -c "DELETE FROM devices WHERE tenant_id = 'claim-$1'"
}

echo "==> fleet: $fleet devices across $fleet_tenants tenants ($fleet_big in the first)"
first_share=$((fleet_big < 1000 ? fleet_big : 1000))
start_serve
seed fleet_first 1000 0 "$first_share"
stop_serve
claim_time claim_1k
start_serve
seed fleet "$((fleet - 1000))" 1000 "$((fleet_big - first_share))"
stop_serve
claim_time claim_100k
echo "==> the claim query with $claim_waiting devices waiting"
claim_time claim_waiting "$claim_waiting"

echo "==> reconcile of the whole fleet (consistent), dry run"
"$bin/provhook" reconcile --dry-run >"$root/reconcile.out" 2>&1 &
reconcile=$!
record reconcile_fleet_memory "$("$bin/provhook-bench" memory --pid "$reconcile" --until-exit --seconds 1800)"
wait "$reconcile" || { cat "$root/reconcile.out" >&2; exit 1; }
record reconcile_fleet "$(psql -qAt -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -c \
    "SELECT json_build_object('devices', (detail->>'devices_checked')::int, 'calls', (detail->>'calls')::int,
            'findings', (detail->>'findings')::int)
     FROM journal WHERE action = 'reconcile.run' ORDER BY id DESC LIMIT 1")"

repoint() {  # repoint NAME TEMPLATE: re-point the first tenant, and time until every one of its devices is registered again
    local after started finished
    after=$(journal_max)
    started=$(date +%s.%N)
    "$bin/provhook" tenant update fleet-000 --url-template "$2" >/dev/null
    finished=$(date +%s.%N)
    record "$1" "$("$bin/provhook-bench" drain --database-url "$PROVHOOK_DATABASE_URL" --tenant - --mac-prefix 00087B \
        --count "$fleet" --status registered --after-id "$after" --timeout 1800 --pid "$serve_pid" |
        sed "s/}$/,\"update_seconds\":$(awk "BEGIN { print $finished - $started }"),\"tenant_devices\":$fleet_big}/")"
}
echo "==> re-point the first tenant ($fleet_big devices), without and with <mac> in the template"
start_serve
repoint repoint_shared_url 'https://prov2.example.com/fleet-000/{mac}.xml'
repoint repoint_per_mac 'https://prov3.example.com/fleet-000/<mac>.xml'

echo "==> pages at $fleet devices: the first and the last, by keyset"
last_mac=$(psql -qAt -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -c 'SELECT mac FROM devices ORDER BY mac DESC OFFSET 1000 LIMIT 1')
page_ms() {  # page_ms QUERY: the median of 5 admin API requests, in ms
    for _ in 1 2 3 4 5; do
        curl -fsS -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $(cat "$root/admin.token")" \
            "http://127.0.0.1:$admin_port/v1/devices?limit=1000$1"
    done | sort -n | sed -n 3p | awk '{printf "%.3f", $1 * 1000}'
}
cli_ms() {  # cli_ms ARGS…: one `provhook device list`, in ms
    local started finished
    started=$(date +%s%N)
    "$bin/provhook" device list --limit 1000 "$@" >/dev/null
    finished=$(date +%s%N)
    echo $(((finished - started) / 1000000))
}
record page_admin "{\"first_ms\":$(page_ms ''),\"last_ms\":$(page_ms "&after=$last_mac"),\"devices\":$fleet}"
record page_cli "{\"first_ms\":$(cli_ms),\"last_ms\":$(cli_ms --after "$last_mac"),\"devices\":$fleet}"
stop_serve

echo "==> growth: 2,000 events, then 20,000, each to a tenant of its own, ingest and drain"
growth() {  # growth NAME COUNT FIRST REGISTERED: COUNT devices from counter FIRST; REGISTERED in all once drained
    mkdir -p "$root/growth-$1"
    (umask 077 && "$bin/provhook" tenant add "growth-$1" --url-template "https://prov.example.com/growth-$1/{mac}.xml" |
        grep -o 'whsec_[^ ]*' >"$root/growth-$1/growth-$1")
    local after
    after=$(journal_max)
    record "growth_$1_ingest" "$("$bin/provhook-bench" seed --url "$base" --secrets "$root/growth-$1" --devices "$2" \
        --mac-prefix 00ACDC --first "$3")"
    record "growth_$1_drain" "$("$bin/provhook-bench" drain --database-url "$PROVHOOK_DATABASE_URL" --tenant - --mac-prefix 00ACDC \
        --count "$4" --status registered --after-id "$after" --timeout 1800)"
}
start_serve
growth small $((growth_events / 10)) 0 $((growth_events / 10))
growth large "$growth_events" $((0x800000)) $((growth_events / 10 + growth_events))
stop_serve


echo "==> journal: $journal_rows rows, sealed, then verified"
psql -q -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -c \
    "INSERT INTO journal (actor, action, outcome, detail)
     SELECT 'bench:filler', 'bench.filler', 'ok', jsonb_build_object('n', g)
     FROM generate_series(1, greatest(0, $journal_rows - (SELECT count(*) FROM journal))) g"
"$bin/provhook" journal seal >/dev/null &
seal=$!
record journal_seal "$("$bin/provhook-bench" memory --pid "$seal" --until-exit --seconds 1800 |
    sed "s/}$/,\"rows\":$(psql -qAt -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -c 'SELECT count(*) FROM journal')}/")"
wait "$seal"
"$bin/provhook" journal verify >"$root/verify.out" 2>&1 &
verify=$!
record journal_verify "$("$bin/provhook-bench" memory --pid "$verify" --until-exit --seconds 1800 |
    sed "s/}$/,\"rows\":$(psql -qAt -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -c 'SELECT count(*) FROM journal')}/")"
wait "$verify" || { cat "$root/verify.out" >&2; exit 1; }

echo
"$bin/provhook-bench" report --raw "$raw" --output "$output" --delivery-concurrency "$delivery_concurrency" --latency-ms "$latency_ms" \
    --context "provhook $(git rev-parse --short HEAD 2>/dev/null || echo unknown), $configuration build, $(nproc) cores, $(uname -sr), PostgreSQL $(postgres --version | awk '{print $3}'), ${seconds}s per load point$($smoke && echo ', smoke')"
