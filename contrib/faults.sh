#!/usr/bin/env bash
# The fault suite: provhook under SIGKILL, a database restart, two instances and hostile input, on loopback only.
# Each scenario is bounded in time, cleans up after itself, and the suite ends in an "N passed, N failed" line.
#
#   contrib/faults.sh                 every scenario, release build
#   contrib/faults.sh --quick         the bounded subset CI runs: crash, outage, database restart, fuzzing, both
#                                     partitions, the synchronous failover, the full disk and the clock step,
#                                     debug build
#   contrib/faults.sh crash fuzz      the named scenarios only
#
# Scenarios:
#   crash        kill -9 serve during a burst of 2,000 signed webhooks from 16 PBX-like senders, restart it
#   outage       during a burst, the stand-in refuses connections for 10 s, answers 503 for 10 s, then holds calls
#                past provhook's timeout for 10 s; checks recovery, no hot loop, and the outage in /readyz and /metrics
#   db-restart   stop PostgreSQL for a few seconds during a burst, start it again; serve is not restarted
#   two          two serve processes on one database, each taking half of the burst; no MAC in two calls at once,
#                by the journal and by the stand-in's call log
#   fuzz         hostile webhooks against a live serve, then libFuzzer on the XML-RPC decoder, the MAC parser and
#                the webhook signature verifier (fuzz/run.sh)
#   abuse        1,000 idle connections and 50 slowloris clients while a normal client sends signed webhooks
#   partition    during a burst, every packet between serve and PostgreSQL is dropped for 30 s (iptables DROP: no
#                reset, no refusal), then let through again; every webhook must be answered (2xx after commit, or 503
#                with Retry-After) within the database deadline plus 5 s, /readyz must say so within 5 s, and
#                recording and delivery must resume by themselves; the time to recover is reported
#   failover     PostgreSQL as a primary with a synchronous streaming standby, serve connected through a TCP proxy
#                (contrib/lib/switch-proxy.py); during a burst the primary is killed (SIGKILL), the standby promoted
#                and the proxy switched to it: every acknowledged event must be on the new primary, every device in
#                its desired state, the journal verified, every webhook answered within the deadline plus 5 s
#   failover-async  the same with asynchronous replication: reports what was acknowledged and lost (not asserted:
#                the design promises nothing lost only with synchronous replication)
#   disk-full    PostgreSQL's data directory (its WAL with it) on a tmpfs that is filled during a burst for 15 s, then
#                freed: webhooks get 503 with Retry-After, never 2xx without a commit; serve stays up; everything
#                acknowledged is kept, and recording resumes by itself once there is space (PostgreSQL is started
#                again only if it stopped itself)
#   clock-step   serve's wall clock steps back by a minute during a burst (contrib/lib/clock-shift.c preloaded, its
#                monotonic clock left alone): nothing lost, no call made twice with success for one generation, none out of generation
#                order; a webhook 4 min 30 s ahead of the senders' clock is then refused as 5 min 30 s ahead
#   service-partition  the same between serve and the redirection service: webhooks are still recorded, calls time
#                out and are retried, and after the heal every device reaches its desired state with no call made
#                twice with success for one generation of a device
# After each burst, `provhook-faults check` asserts: every acknowledged event is in the database; the journal has
# exactly one accepted row per acknowledged event; every device reaches its desired state at the stand-in.
set -euo pipefail
cd "$(dirname "$0")/.."
. contrib/lib/postgres.sh
. contrib/lib/build.sh

quick=false
scenarios=()
for arg in "$@"; do
    case $arg in
    --quick) quick=true ;;
    crash | outage | db-restart | two | fuzz | abuse | partition | service-partition | failover | failover-async | disk-full | clock-step)
        scenarios+=("$arg")
        ;;
    *)
        echo "usage: contrib/faults.sh [--quick] [crash] [outage] [db-restart] [two] [fuzz] [abuse] [partition] [service-partition] [failover] [failover-async] [disk-full] [clock-step]" >&2
        exit 2
        ;;
    esac
done
if [ ${#scenarios[@]} = 0 ]; then
    scenarios=(crash outage db-restart two fuzz abuse partition service-partition failover failover-async disk-full clock-step)
    $quick && scenarios=(crash outage db-restart fuzz partition service-partition failover disk-full clock-step)
fi
if $quick; then
    configuration=${FAULTS_CONFIGURATION:-debug} events=${FAULTS_EVENTS:-600} fuzz_seconds=${FAULTS_FUZZ_SECONDS:-15} abuse_seconds=10
else
    configuration=${FAULTS_CONFIGURATION:-release} events=${FAULTS_EVENTS:-2000} fuzz_seconds=${FAULTS_FUZZ_SECONDS:-60} abuse_seconds=30
fi

pg_require_binaries
# The partition scenario drops packets with iptables (root only; installed from Debian's archive when missing).
# need TOOL PACKAGE SCENARIO: installs PACKAGE from Debian's archive when TOOL is missing (root only), else says how.
need() {
    command -v "$1" >/dev/null && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "installing $2 for the $3 scenario ..." >&2
        apt-get -o DPkg::Lock::Timeout=300 install -y -q "$2" >/dev/null && return 0
    fi
    echo "provhook: the $3 scenario needs $1 (Debian/Ubuntu: sudo apt-get install $2)" >&2
    exit 1
}
[[ " ${scenarios[*]} " == *"partition "* ]] && need iptables iptables partition
[[ " ${scenarios[*]} " == *" clock-step "* ]] && need cc gcc clock-step
swift_build_quietly "$configuration"

root=$(mktemp -d "${TMPDIR:-/tmp}/provhook-faults.XXXXXX")
chmod 755 "$root"
# Every background process is listed in $root/pids, so that one cleanup finds them all, whichever subshell
# started them.
track() { echo "$1" >>"$root/pids"; }
stop_all() {
    heal_partition
    [ -f "$root/pids" ] && while read -r pid; do kill -9 "$pid" 2>/dev/null || true; done <"$root/pids"
    for dir in "$root"/*/pg "$root"/*/standby; do [ -d "$dir" ] && pg_stop "$dir"; done
    if [ -f "$root/mounts" ]; then
        while read -r dir; do umount "$dir" 2>/dev/null || umount -l "$dir" 2>/dev/null || true; done <"$root/mounts"
        rm -f "$root/mounts"
    fi
    return 0
}
cleanup() {
    trap '' INT TERM
    stop_all
    if [ "${failed:-0}" != 0 ]; then
        local kept
        kept=$(mktemp -d "${TMPDIR:-/tmp}/provhook-faults-logs.XXXXXX")
        (cd "$root" && find . -name '*.log' -o -name '*.json' -o -name '*.jsonl' -o -name 'acked-*' | while read -r f; do mkdir -p "$kept/$(dirname "$f")"; cp "$f" "$kept/$f"; done) || true
        echo "logs of the failed scenarios: $kept"
    fi
    rm -rf "$root"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# partition PORT: every packet to or from PORT on loopback vanishes (no reset, no refusal), as in a network path
# that silently drops; the rules are listed in $root/iptables so that heal_partition (and any cleanup) removes them.
partition() {
    local rule
    for rule in "INPUT -i lo -p tcp --dport $1 -j DROP" "INPUT -i lo -p tcp --sport $1 -j DROP"; do
        echo "$rule" >>"$root/iptables"
        # shellcheck disable=SC2086
        iptables -I $rule
    done
}
heal_partition() {
    [ -f "$root/iptables" ] || return 0
    local rule
    # shellcheck disable=SC2086
    while read -r rule; do iptables -D $rule 2>/dev/null || true; done <"$root/iptables"
    rm -f "$root/iptables"
}

passed=0 failed=0
verdict() {  # verdict NAME STATUS
    if [ "$2" = 0 ]; then passed=$((passed + 1)); echo "PASS $1"; else failed=$((failed + 1)); echo "FAIL $1"; fi
}

# setup DIR: a cluster, the schema, a tenant, the stand-in over HTTPS; exports the PROVHOOK_* settings.
setup() {
    local dir=$1
    mkdir -p "$dir"
    chmod 755 "$dir"
    pg_init "$dir/pg"
    pg_port=$(pg_free_port)
    pg_start "$dir/pg" "$pg_port"
    export PROVHOOK_DATABASE_URL="postgres://postgres@127.0.0.1:$pg_port/postgres"
    (umask 077 && head -c 32 /dev/urandom | base64 >"$dir/secret.key")
    export PROVHOOK_SECRET_KEY_FILE=$dir/secret.key
    "$bin/provhook" migrate >/dev/null
    (umask 077 && "$bin/provhook" tenant add pbx --url-template 'https://prov.example.com/<mac>.xml' | grep -o 'whsec_[^ ]*' >"$dir/secret")
    (umask 077 && od -An -N12 -tx1 /dev/urandom | tr -d ' \n' >"$dir/stand-in.password")
    "$bin/fake-redirect" --account "pbx:$(cat "$dir/stand-in.password"):PBX" --latency-ms 5 --outage-seconds 10 \
        --tls-ca-out "$dir/ca.pem" --port-file "$dir/stand-in.port" --call-log "$dir/calls.jsonl" >"$dir/stand-in.log" 2>&1 &
    standin_pid=$!
    track $!
    for _ in $(seq 1 100); do [ -s "$dir/stand-in.port" ] && break; sleep 0.1; done
    [ -s "$dir/stand-in.port" ] || { cat "$dir/stand-in.log" >&2; return 1; }
    export PROVHOOK_REDIRECT_URL="https://localhost:$(tr -d '\n' <"$dir/stand-in.port")/xmlrpc/"
    export PROVHOOK_REDIRECT_USER=pbx PROVHOOK_REDIRECT_PASSWORD_FILE=$dir/stand-in.password PROVHOOK_REDIRECT_CA_FILE=$dir/ca.pem
}

# start_serve DIR PORT [INSTANCE]: starts serve in the background, its admin listener on the port in DIR/admin-PORT
# (chosen once, kept across restarts); sets serve_pid once /healthz answers.
start_serve() {
    local dir=$1 port=$2
    [ -s "$dir/admin-$port" ] || pg_free_port >"$dir/admin-$port"
    PROVHOOK_LISTEN=127.0.0.1:$port PROVHOOK_ADMIN_LISTEN=127.0.0.1:$(cat "$dir/admin-$port") PROVHOOK_INSTANCE=${3:-one} \
        "$bin/provhook" serve >>"$dir/serve-$port.log" 2>&1 &
    serve_pid=$!
    track "$serve_pid"
    for _ in $(seq 1 200); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return 0; sleep 0.05; done
    cat "$dir/serve-$port.log" >&2
    return 1
}

# burst DIR PORT [COUNT]: a PBX-like burst in the background; sets burst_pid.
burst() {
    "$bin/provhook-faults" burst --url "http://127.0.0.1:$2" --tenant pbx --secret-file "$1/secret" --count "${3:-$events}" \
        --concurrency 16 --acked "$1/acked-$2" >"$1/burst-$2.json" 2>"$1/burst-$2.log" &
    burst_pid=$!
    track "$burst_pid"
}

# wait_acked FILE N: waits until N events are acknowledged (at most 60 s).
wait_acked() {
    for _ in $(seq 1 1200); do
        [ -f "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ] && return 0
        sleep 0.05
    done
    return 1
}

# serve_under_load DIR SHARE: serve on a free port (sets port and admin) with a burst of events running against it,
# once one event in SHARE is acknowledged.
serve_under_load() {
    port=$(pg_free_port)
    start_serve "$1" "$port"
    admin=$(cat "$1/admin-$port")
    burst "$1" "$port"
    wait_acked "$1/acked-$port" $((events / $2))
}

check() {  # check ACKED
    "$bin/provhook-faults" check --database-url "$PROVHOOK_DATABASE_URL" --tenant pbx --acked "$1"
}

scenario_crash() {
    local dir=$root/crash port admin
    setup "$dir"
    serve_under_load "$dir" 3
    kill -9 "$serve_pid"
    echo "    killed serve (kill -9) after $(wc -l <"$dir/acked-$port") acknowledged events"
    sleep 1
    start_serve "$dir" "$port"
    wait "$burst_pid"
    echo "    burst: $(cat "$dir/burst-$port.json")"
    check "$dir/acked-$port"
}

scenario_db_restart() {
    local dir=$root/db-restart port admin
    setup "$dir"
    serve_under_load "$dir" 3
    pg_stop "$dir/pg"
    echo "    stopped PostgreSQL after $(wc -l <"$dir/acked-$port") acknowledged events"
    local before=$(wc -l <"$dir/acked-$port")
    sleep 3
    local during=$(($(wc -l <"$dir/acked-$port") - before))
    pg_start "$dir/pg" "$pg_port"
    echo "    started it again; events acknowledged while it was down: $during"
    wait "$burst_pid"
    echo "    burst: $(cat "$dir/burst-$port.json")"
    check "$dir/acked-$port" && [ "$during" -le 16 ]  # at most the requests already committing when it stopped
}

scenario_two() {
    local dir=$root/two one two pid_one
    setup "$dir"
    one=$(pg_free_port)
    two=$(pg_free_port)
    start_serve "$dir" "$one" one
    pid_one=$serve_pid
    start_serve "$dir" "$two" two
    "$bin/provhook-faults" burst --url "http://127.0.0.1:$one" --tenant pbx --secret-file "$dir/secret" --count $((events / 2)) \
        --concurrency 16 --acked "$dir/acked-$one" --mac-prefix 000413 >/dev/null &
    local first=$!
    "$bin/provhook-faults" burst --url "http://127.0.0.1:$two" --tenant pbx --secret-file "$dir/secret" --count $((events / 2)) \
        --concurrency 16 --acked "$dir/acked-$two" --mac-prefix 00087B >/dev/null &
    local second=$!
    track "$first"
    track "$second"
    wait "$first" "$second"
    "$bin/provhook-faults" check --database-url "$PROVHOOK_DATABASE_URL" --tenant pbx --acked "$dir/acked-$one" --mac-prefix 000413 || return 1
    "$bin/provhook-faults" check --database-url "$PROVHOOK_DATABASE_URL" --tenant pbx --acked "$dir/acked-$two" --mac-prefix 00087B || return 1
    # No device was worked by both instances at once: per MAC, the calls' intervals (from the journal) never overlap.
    local overlaps
    overlaps=$(psql -At -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -c "
        WITH calls AS (
            SELECT mac, actor, at - make_interval(secs => (detail->>'latency_ms')::float8 / 1000) AS started, at AS ended
            FROM journal WHERE action LIKE 'redirect.%')
        SELECT count(*) FROM calls a JOIN calls b ON a.mac = b.mac AND a.actor < b.actor
        WHERE a.started < b.ended AND b.started < a.ended")
    local workers
    workers=$(psql -At -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -c "SELECT string_agg(DISTINCT actor, ',') FROM journal WHERE action LIKE 'redirect.%'")
    echo "    workers: $workers; overlapping calls on one MAC, by the journal: $overlaps"
    # The same, by the stand-in's clock: its call log has every HTTP call it received.
    local standin
    standin=$("$bin/provhook-faults" calls --call-log "$dir/calls.jsonl") || { echo "    stand-in call log: $standin"; return 1; }
    echo "    stand-in call log: $standin"
    [ "$overlaps" = 0 ] && [ "$workers" = "worker:one,worker:two" ]
}

scenario_outage() {
    local dir=$root/outage port admin
    setup "$dir"
    export PROVHOOK_REDIRECT_TIMEOUT_SECONDS=5
    serve_under_load "$dir" 5
    local started
    started=$(psql -At -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -c "SELECT now()")
    kill -USR1 "$standin_pid"  # refused for 10 s, then 503 for 10 s, then calls held past the 5 s timeout for 10 s
    echo "    outage started after $(wc -l <"$dir/acked-$port") acknowledged events"
    sleep 12  # a second burst, while the stand-in answers 503
    "$bin/provhook-faults" burst --url "http://127.0.0.1:$port" --tenant pbx --secret-file "$dir/secret" --count $((events / 2)) \
        --concurrency 16 --acked "$dir/acked-second" --mac-prefix 00087B >"$dir/burst-second.json" 2>&1 &
    local second=$!
    track "$second"
    local saw_ready=false saw_metric=false
    for _ in $(seq 1 50); do
        sleep 0.5
        curl -s "http://127.0.0.1:$(cat "$dir/admin-$port")/readyz" | grep -q '"redirect_service":"failing since' && saw_ready=true
        curl -s "http://127.0.0.1:$(cat "$dir/admin-$port")/metrics" | grep -Eq 'provhook_redirect_calls_total\{.*outcome="transient' && saw_metric=true
        $saw_ready && $saw_metric && break
    done
    sleep 20  # until the outage is over
    local ended
    ended=$(psql -At -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -c "SELECT now()")
    wait "$burst_pid" "$second"
    echo "    bursts: $(cat "$dir/burst-$port.json") $(cat "$dir/burst-second.json")"
    echo "    /readyz showed the outage: $saw_ready; /metrics showed failed calls: $saw_metric"
    check "$dir/acked-$port" || return 1
    "$bin/provhook-faults" check --database-url "$PROVHOOK_DATABASE_URL" --tenant pbx --acked "$dir/acked-second" --mac-prefix 00087B || return 1
    # No hot loop: with 1 s, 2 s, 4 s … (±20 %) between tries, a device is tried at most 6 times in 30 s.
    local tries devices
    read -r tries devices < <(psql -At -F ' ' -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -c "
        SELECT count(*), count(DISTINCT mac) FROM journal
        WHERE action LIKE 'redirect.%' AND outcome <> 'ok' AND at BETWEEN '$started' AND '$ended'")
    echo "    failed tries during the outage: $tries, over $devices devices (at most $((devices * 6)) allowed)"
    $saw_ready && $saw_metric && [ "$tries" -le $((devices * 6)) ]
}

# since START: seconds elapsed since START (date +%s.%N), to a tenth.
since() { echo "$(date +%s.%N) $1" | awk '{ printf "%.1f", $1 - $2 }'; }

# readyz_is ADMIN_PORT STATUS: whether serve's /readyz answers STATUS now.
readyz_is() { [ "$(curl -s -o /dev/null -m 4 -w '%{http_code}' "http://127.0.0.1:$1/readyz")" = "$2" ]; }

# answered_in_time SUMMARY DEADLINE_MS: prints a burst's summary; true if every webhook was answered within the
# database deadline plus 5 s, none went without an answer, and every 503 carried Retry-After.
answered_in_time() {
    local summary slowest unanswered bare
    summary=$(cat "$1")
    echo "    burst: $summary"
    read -r slowest unanswered bare < <(python3 -c 'import json, sys; s = json.load(sys.stdin)
print(*(int(s[k]) for k in ("slowest_answer_ms", "unanswered", "unavailable_without_retry_after")))' <<<"$summary")
    [ "$slowest" -le $(($2 + 5000)) ] && [ "$unanswered" = 0 ] && [ "$bare" = 0 ]
}

# await_recovery ADMIN_PORT ACKED COUNT SINCE: waits (60 s at most) until /readyz says ready and ACKED has more than
# COUNT lines; sets ready and resumed to the seconds each took since SINCE (empty if it never came).
await_recovery() {
    ready="" resumed=""
    for _ in $(seq 1 600); do
        [ -z "$ready" ] && readyz_is "$1" 200 && ready=$(since "$4")
        [ -z "$resumed" ] && [ "$(wc -l <"$2")" -gt "$3" ] && resumed=$(since "$4")
        [ -n "$ready" ] && [ -n "$resumed" ] && return 0
        sleep 0.1
    done
}

scenario_partition() {
    local dir=$root/partition port admin cut healed before during unready="" ready="" resumed="" deadline_ms=5000
    setup "$dir"
    export PROVHOOK_DATABASE_TIMEOUT_MS=$deadline_ms
    serve_under_load "$dir" 4
    partition "$pg_port"
    cut=$(date +%s.%N)
    before=$(wc -l <"$dir/acked-$port")
    echo "    dropping every packet between serve and PostgreSQL, after $before acknowledged events"
    while awk -v t="$(since "$cut")" 'BEGIN { exit !(t < 30) }'; do
        [ -z "$unready" ] && readyz_is "$admin" 503 && unready=$(since "$cut")
        sleep 0.2
    done
    during=$(($(wc -l <"$dir/acked-$port") - before))
    heal_partition
    healed=$(date +%s.%N)
    echo "    healed after 30 s; /readyz said not ready ${unready:-never} s into it; events acknowledged during it: $during"
    await_recovery "$admin" "$dir/acked-$port" $((before + during)) "$healed"
    echo "    after the heal: /readyz ready again in ${ready:-never} s, the first event acknowledged in ${resumed:-never} s"
    wait "$burst_pid"
    local in_time=0
    answered_in_time "$dir/burst-$port.json" "$deadline_ms" || in_time=$?
    check "$dir/acked-$port" || return 1
    # Every webhook answered within the deadline plus 5 s, each 503 with Retry-After; /readyz told the truth within
    # 5 s of each change; at most the events already committing when the packets stopped were acknowledged during it.
    [ -n "$unready" ] && awk -v t="$unready" 'BEGIN { exit !(t <= 5) }' &&
        [ -n "$ready" ] && awk -v t="$ready" 'BEGIN { exit !(t <= 5) }' && [ -n "$resumed" ] &&
        [ "$in_time" = 0 ] && [ "$during" -le 16 ]
}

scenario_service_partition() {
    local dir=$root/service-partition port admin cut healed before during failing="" recovered doubled
    setup "$dir"
    export PROVHOOK_REDIRECT_TIMEOUT_SECONDS=5
    serve_under_load "$dir" 4
    partition "$(tr -d '\n' <"$dir/stand-in.port")"
    cut=$(date +%s.%N)
    before=$(wc -l <"$dir/acked-$port")
    echo "    dropping every packet between serve and the redirection service, after $before acknowledged events"
    while awk -v t="$(since "$cut")" 'BEGIN { exit !(t < 30) }'; do
        [ -z "$failing" ] && curl -s -m 4 "http://127.0.0.1:$admin/readyz" | grep -q '"redirect_service":"failing since' &&
            failing=$(since "$cut")
        sleep 0.2
    done
    during=$(($(wc -l <"$dir/acked-$port") - before))
    heal_partition
    healed=$(date +%s.%N)
    echo "    healed after 30 s; /readyz named the failing service ${failing:-never} s into it; events acknowledged during it: $during"
    wait "$burst_pid"
    local in_time=0
    answered_in_time "$dir/burst-$port.json" 5000 || in_time=$?
    check "$dir/acked-$port" || return 1
    recovered=$(since "$healed")
    # A call is made again only when its answer was lost: never two successful calls for one generation of a device.
    doubled=$(psql -At -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -c "
        SELECT count(*) FROM (
            SELECT mac FROM journal WHERE action LIKE 'redirect.%' AND outcome = 'ok'
            GROUP BY mac, action, detail->>'generation' HAVING count(*) > 1) doubled")
    echo "    every device in its desired state ${recovered} s after the heal; generations called twice with success: $doubled"
    [ -n "$failing" ] && [ "$during" -gt 0 ] && [ "$in_time" = 0 ] && [ "$doubled" = 0 ]
}

# failover DIR sync|async: the failover scenario; prints what check found, and fails only where the mode promises.
failover() {
    local dir=$1 mode=$2 standby_port proxy_port killed pid kids unready="" ready="" resumed="" before deadline_ms=5000
    setup "$dir"
    export PROVHOOK_DATABASE_TIMEOUT_MS=$deadline_ms
    # The standby: a base backup of the migrated primary, streaming from it.
    mkdir -p "$dir/standby"
    chown postgres: "$dir/standby" 2>/dev/null || true
    chmod 700 "$dir/standby"
    pg_as_owner pg_basebackup -h 127.0.0.1 -p "$pg_port" -U postgres -D "$dir/standby" -R -X stream >"$dir/basebackup.log" 2>&1
    standby_port=$(pg_free_port)
    pg_start "$dir/standby" "$standby_port"
    if [ "$mode" = sync ]; then
        psql -q -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres \
            -c "ALTER SYSTEM SET synchronous_standby_names = '*'" -c "ALTER SYSTEM SET synchronous_commit = on" -c "SELECT pg_reload_conf()" >/dev/null
    fi
    for _ in $(seq 1 100); do
        [ "$(psql -At -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -c "SELECT sync_state FROM pg_stat_replication")" = "$mode" ] && break
        sleep 0.1
    done
    echo "    primary on $pg_port, $mode standby on $standby_port: $(psql -At -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -c "SELECT sync_state FROM pg_stat_replication")"
    echo "$pg_port" >"$dir/proxy.target"
    python3 contrib/lib/switch-proxy.py "$dir/proxy.port" "$dir/proxy.target" >"$dir/proxy.log" 2>&1 &
    local proxy_pid=$!
    track "$proxy_pid"
    for _ in $(seq 1 100); do [ -s "$dir/proxy.port" ] && break; sleep 0.05; done
    proxy_port=$(cat "$dir/proxy.port")
    export PROVHOOK_DATABASE_URL="postgres://postgres@127.0.0.1:$proxy_port/postgres"
    local port admin
    serve_under_load "$dir" 3
    # The primary dies at once, its backends with it: nothing is closed gracefully.
    pid=$(head -n 1 "$dir/pg/postmaster.pid")
    kids=$(pgrep -P "$pid" || true)
    # shellcheck disable=SC2086
    kill -9 "$pid" $kids
    killed=$(date +%s.%N)
    before=$(wc -l <"$dir/acked-$port")
    echo "    killed the primary (SIGKILL) after $before acknowledged events"
    for _ in $(seq 1 20); do
        [ -z "$unready" ] && readyz_is "$admin" 503 && unready=$(since "$killed")
        sleep 0.1
    done
    pg_as_owner pg_ctl -D "$dir/standby" -w -t 60 promote >/dev/null
    echo "$standby_port" >"$dir/proxy.target"
    kill -USR1 "$proxy_pid"
    echo "    promoted the standby and switched the proxy $(since "$killed") s after the kill; /readyz said not ready ${unready:-never} s after it"
    await_recovery "$admin" "$dir/acked-$port" "$before" "$killed"
    echo "    ready again ${ready:-never} s after the kill; the first event acknowledged by the new primary ${resumed:-never} s after it"
    wait "$burst_pid"
    local result missing in_time=0
    answered_in_time "$dir/burst-$port.json" "$deadline_ms" || in_time=$?
    local status=0
    result=$("$bin/provhook-faults" check --database-url "$PROVHOOK_DATABASE_URL" --tenant pbx --acked "$dir/acked-$port") || status=$?
    echo "$result"
    missing=$(python3 -c 'import json, sys; print(int(json.load(sys.stdin)["missing_in_database"]))' <<<"$result")
    echo "    acknowledged: $(wc -l <"$dir/acked-$port"); acknowledged but lost in the failover: $missing"
    "$bin/provhook" journal verify >"$dir/verify.log" 2>&1 || { cat "$dir/verify.log"; [ "$mode" = sync ] && return 1; }
    [ "$mode" = async ] && return 0
    [ "$status" = 0 ] && [ "$missing" = 0 ] && [ -n "$unready" ] && [ -n "$ready" ] && [ -n "$resumed" ] &&
        [ "$in_time" = 0 ]
}
scenario_failover() { failover "$root/failover" sync; }
scenario_failover_async() { failover "$root/failover-async" async; }

scenario_disk_full() {
    local dir=$root/disk-full port admin filled freed before during unready="" ready="" resumed="" restarted=no deadline_ms=5000
    # The cluster's whole data directory on a tmpfs of its own, so that filling it fills nothing else.
    mkdir -p "$dir/pg"
    mount -t tmpfs -o size=512m tmpfs "$dir/pg" || { echo "    cannot mount a tmpfs (root is needed)" >&2; return 1; }
    echo "$dir/pg" >>"$root/mounts"
    setup "$dir"
    export PROVHOOK_DATABASE_TIMEOUT_MS=$deadline_ms
    serve_under_load "$dir" 4
    dd if=/dev/zero of="$dir/pg/filler" bs=1M status=none 2>/dev/null || true
    filled=$(date +%s.%N)
    before=$(wc -l <"$dir/acked-$port")
    echo "    filled the data directory's file system ($(df -h --output=avail "$dir/pg" | tail -n 1 | tr -d ' ') left) after $before acknowledged events"
    while awk -v t="$(since "$filled")" 'BEGIN { exit !(t < 15) }'; do
        [ -z "$unready" ] && readyz_is "$admin" 503 && unready=$(since "$filled")
        sleep 0.2
    done
    during=$(($(wc -l <"$dir/acked-$port") - before))
    rm -f "$dir/pg/filler"
    freed=$(date +%s.%N)
    if ! pg_as_owner pg_ctl -D "$dir/pg" status >/dev/null 2>&1; then
        restarted=yes
        pg_start "$dir/pg" "$pg_port"
    fi
    echo "    freed the space after 15 s; /readyz said not ready ${unready:-never} s into it; events acknowledged while full: $during; PostgreSQL restarted: $restarted"
    grep -m 3 -E 'No space left|PANIC' "$dir/pg/server.log" | sed 's/^/    server log: /' || true
    await_recovery "$admin" "$dir/acked-$port" $((before + during)) "$freed"
    echo "    after freeing: /readyz ready again in ${ready:-never} s, the first event acknowledged in ${resumed:-never} s"
    kill -0 "$serve_pid" || { echo "    serve did not stay up" >&2; return 1; }
    wait "$burst_pid"
    local in_time=0
    answered_in_time "$dir/burst-$port.json" "$deadline_ms" || in_time=$?
    check "$dir/acked-$port" || return 1
    [ -n "$unready" ] && [ -n "$ready" ] && [ -n "$resumed" ] && [ "$in_time" = 0 ]
}

scenario_clock_step() {
    local dir=$root/clock-step port admin before doubled reordered probe
    setup "$dir"
    cc -shared -fPIC -O2 -o "$dir/clock-shift.so" contrib/lib/clock-shift.c -ldl
    port=$(pg_free_port)
    echo 0 >"$dir/clock"
    # Only serve's wall clock is moved; its monotonic clock is left alone, as a clock step (NTP, `date -s`) leaves it.
    LD_PRELOAD=$dir/clock-shift.so CLOCK_SHIFT_FILE=$dir/clock start_serve "$dir" "$port"
    admin=$(cat "$dir/admin-$port")
    burst "$dir" "$port"
    wait_acked "$dir/acked-$port" $((events / 3))
    echo "-60" >"$dir/clock"
    before=$(wc -l <"$dir/acked-$port")
    echo "    stepped serve's wall clock back by 60 s after $before acknowledged events"
    wait "$burst_pid"
    echo "    burst: $(cat "$dir/burst-$port.json")"
    check "$dir/acked-$port" || return 1
    read -r doubled reordered < <(psql -At -F ' ' -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -c "
        WITH calls AS (
            SELECT mac, action, (detail->>'generation')::bigint AS generation,
                   lag((detail->>'generation')::bigint) OVER (PARTITION BY mac ORDER BY id) AS previous
            FROM journal WHERE action LIKE 'redirect.%' AND outcome = 'ok')
        SELECT (SELECT count(*) FROM (SELECT 1 FROM calls GROUP BY mac, action, generation HAVING count(*) > 1) d),
               (SELECT count(*) FROM calls WHERE generation < previous)")
    echo "    generations called twice with success: $doubled; calls out of generation order: $reordered"
    # The step took: a webhook signed 4 min 30 s ahead of the senders' clock is 5 min 30 s ahead of serve's.
    echo 270 >"$dir/ahead"
    probe=$(LD_PRELOAD=$dir/clock-shift.so CLOCK_SHIFT_FILE=$dir/ahead contrib/send-event.sh pbx "$(cat "$dir/secret")" '{"type":"device.added","mac":"000413FFFFFE"}' \
        "http://127.0.0.1:$port" 2>&1 || true)
    echo "    a webhook 270 s ahead: $(tr '\n' ' ' <<<"$probe" | cut -c1-200)"
    [ "$doubled" = 0 ] && [ "$reordered" = 0 ] && grep -q 'HTTP 401' <<<"$probe" && grep -Eq '3[23][0-9] s' <<<"$probe"
}

scenario_abuse() {
    local dir=$root/abuse port
    setup "$dir"
    port=$(pg_free_port)
    start_serve "$dir" "$port"
    "$bin/provhook-faults" abuse --port "$port" --tenant pbx --secret-file "$dir/secret" --idle 1000 --slow 50 \
        --seconds "$abuse_seconds" --pid "$serve_pid"
}

scenario_fuzz() {
    local dir=$root/fuzz port
    setup "$dir"
    port=$(pg_free_port)
    start_serve "$dir" "$port"
    "$bin/provhook-faults" hostile --url "http://127.0.0.1:$port" --tenant pbx --secret-file "$dir/secret" --count 3000 || return 1
    fuzz/run.sh "$fuzz_seconds"
}

# run_bounded SECONDS FUNCTION: runs a scenario in a shell of its own, stopped if it runs past SECONDS; its
# processes and cluster are stopped when it ends, either way.
export PROVHOOK_LOG_LEVEL=${FAULTS_LOG_LEVEL:-warning}
export -f track setup start_serve burst wait_acked serve_under_load check scenario_crash scenario_db_restart scenario_two scenario_fuzz scenario_abuse scenario_outage \
    scenario_partition scenario_service_partition partition heal_partition stop_all since \
    failover scenario_failover scenario_failover_async scenario_disk_full scenario_clock_step \
    readyz_is answered_in_time await_recovery \
    pg_require_binaries pg_as_owner pg_free_port pg_init pg_start pg_stop
export root bin events fuzz_seconds abuse_seconds configuration
run_bounded() {
    local status=0
    timeout -k 10 "$1" bash -c "set -euo pipefail; $2" || status=$?
    [ "$status" = 124 ] && echo "    $2: still running after $1 s; stopped" >&2
    stop_all
    return $status
}

for scenario in "${scenarios[@]}"; do
    echo "==> $scenario"
    status=0
    run_bounded 900 "scenario_${scenario//-/_}" || status=$?
    verdict "$scenario" "$status"
done
echo "faults: $passed passed, $failed failed"
[ "$failed" = 0 ]
