# Helpers to run a throwaway PostgreSQL cluster; sourced by the scripts in contrib/.
# Works as root (the cluster runs as the `postgres` user, since PostgreSQL refuses root) or as any other user.

# Puts initdb, pg_ctl and postgres on PATH; installs them with apt-get when possible, else says how, in one line.
pg_require_binaries() {
    if ! command -v initdb >/dev/null 2>&1; then
        for dir in /usr/lib/postgresql/*/bin; do
            [ -x "$dir/initdb" ] && PATH="$dir:$PATH"
        done
    fi
    command -v initdb >/dev/null 2>&1 && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "PostgreSQL is not installed; installing it with apt-get ..." >&2
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null &&
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql postgresql-client >/dev/null
        for dir in /usr/lib/postgresql/*/bin; do
            [ -x "$dir/initdb" ] && PATH="$dir:$PATH"
        done
    fi
    command -v initdb >/dev/null 2>&1 && return 0
    echo "provhook: PostgreSQL server binaries not found; install them (Debian/Ubuntu: sudo apt-get install postgresql) and retry" >&2
    return 1
}

# Runs a command as the cluster's owner.
pg_as_owner() {
    if [ "$(id -u)" = 0 ]; then
        id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/false postgres
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# Prints a TCP port on 127.0.0.1 that nothing listens on.
pg_free_port() {
    local port
    for _ in $(seq 1 200); do
        port=$((20000 + RANDOM % 20000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    echo "provhook: no free port found" >&2
    return 1
}

# pg_init DIR: creates a cluster in DIR (owned by the cluster's owner) with trust auth on loopback only.
pg_init() {
    local dir=$1
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir" && chmod 700 "$dir"
    pg_as_owner initdb -D "$dir" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$dir.initdb.log" 2>&1 || {
        cat "$dir.initdb.log" >&2
        return 1
    }
    rm -f "$dir.initdb.log"
}

# pg_start DIR PORT [postgres -c options...]: starts the cluster on 127.0.0.1:PORT and waits until it accepts.
# max_connections: the suite runs its tests in parallel, each with its own pools and provhook processes; a run here
# peaked at about 200 backends, which is where PostgreSQL's default-sized clusters refused connections (53300) in CI.
pg_start() {
    local dir=$1 port=$2
    shift 2
    local opts="-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=1000 $*"
    pg_as_owner pg_ctl -D "$dir" -o "$opts" -l "$dir/server.log" -w -t 60 start >/dev/null || {
        cat "$dir/server.log" >&2
        return 1
    }
}

# pg_stop DIR: stops the cluster fast, if it runs. A cluster whose server was killed (its pid file left behind) is
# not an error: callers run under `set -e`, cleanups included.
pg_stop() {
    local dir=$1
    if [ -f "$dir/postmaster.pid" ]; then
        pg_as_owner pg_ctl -D "$dir" -m fast -w -t 60 stop >/dev/null 2>&1 || true
    fi
    return 0
}

# pg_crash DIR: stops the cluster as a crash would (immediate mode): every backend exits at once and finishes nothing,
# where a fast stop ends them one at a time. Fails if the cluster does not stop: a test that needs the crash must know.
pg_crash() {
    pg_as_owner pg_ctl -D "$1" -m immediate -w -t 60 stop >/dev/null
}

# pg_throwaway NAME [postgres -c options...]: starts a cluster of the calling script's own, in a new temporary
# directory named after NAME, on a free loopback port; it is stopped and removed when the script ends. Sets pg_root
# (the directory; the cluster's data is in $pg_root/pg) and pg_port.
pg_throwaway() {
    local name=$1
    shift
    pg_root=$(mktemp -d "${TMPDIR:-/tmp}/$name.XXXXXX")
    chmod 755 "$pg_root"
    trap 'pg_stop "$pg_root/pg"; rm -rf "$pg_root"' EXIT INT TERM
    pg_init "$pg_root/pg"
    pg_port=$(pg_free_port)
    pg_start "$pg_root/pg" "$pg_port" "$@"
}
