#!/usr/bin/env bash
# Starts provhook locally, in the foreground:
#   - a PostgreSQL cluster whose data is kept between runs (in .local/, or /var/tmp when the postgres user
#     cannot reach this checkout), on a free loopback port;
#   - the migrations;
#   - the strict stand-in of the Snom service over HTTPS with a private CA, unless PROVHOOK_REDIRECT_USER and
#     PROVHOOK_REDIRECT_PASSWORD(_FILE) are set, in which case the real service is used;
#   - the strict stand-in of Snom SRAPS over HTTPS (fake-sraps), with an account of kind snom-sraps for it and a
#     tenant demo-sraps that uses it (its webhook secret in .local/demo-sraps-secret);
#   - the strict stand-in of Yealink RPS over HTTPS (fake-yealink-rps), with an account of kind yealink-rps for it
#     that the demo tenant's Yealink phones use;
#   - the strict stand-in of Poly ZTP over HTTPS (fake-poly-ztp), with an account of kind poly-ztp for it that the
#     demo tenant's Poly phones use;
#   - the stand-ins of the Kazoo crossbar and Wazo auth/confd APIs (fake-pbx), with one phone each;
#   - a demo tenant, whose webhook secret is kept in .local/demo-secret, with a Kazoo and a Wazo source whose
#     tokens are kept in .local/demo-kazoo-token and .local/demo-wazo-token, both looking devices up in the stand-ins;
#   - provhook serve on PROVHOOK_LISTEN (default 127.0.0.1:8080).
# Ctrl-C stops everything. Extra arguments go to `provhook serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
. contrib/lib/postgres.sh
pg_require_binaries
command -v psql >/dev/null || { echo "provhook: psql not found; install the PostgreSQL client (Debian/Ubuntu: sudo apt-get install postgresql-client)" >&2; exit 1; }

state=$PWD/.local
mkdir -p "$state"
data=$state/pg
if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$state" 2>/dev/null; then
    data=/var/tmp/provhook-local-$(printf '%s' "$PWD" | cksum | cut -d' ' -f1)/pg
    mkdir -p "$(dirname "$data")"
    chmod 755 "$(dirname "$data")"
fi

. contrib/lib/build.sh
echo "==> building provhook (debug; the first build takes several minutes, with a progress line every 10 s)"
for product in provhook fake-redirect fake-sraps fake-yealink-rps fake-poly-ztp fake-pbx; do quietly swift build --product "$product"; done
bin=$(swift build --show-bin-path)

children=()
cleanup() {
    trap '' INT TERM  # A second Ctrl-C or SIGTERM must not cut the cleanup short.
    for pid in "${children[@]:-}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    pg_stop "$data"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -f "$data/PG_VERSION" ] || { echo "==> creating a PostgreSQL cluster in $data"; pg_init "$data"; }
pg_stop "$data"
pg_port=$(pg_free_port)
pg_start "$data" "$pg_port"
echo "==> PostgreSQL on 127.0.0.1:$pg_port"
# Deployed as docs/operating.md says: the database belongs to provhook_owner, which migrates; sql/roles.sql grants; provhook
# itself runs as the login `provhook` in provhook_app, which cannot disable the journal's triggers.
superuser="postgres://postgres@127.0.0.1:$pg_port"
psql "$superuser/postgres" -qAt -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'provhook_owner') THEN CREATE ROLE provhook_owner LOGIN; END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'provhook_app') THEN CREATE ROLE provhook_app NOLOGIN; END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'provhook') THEN CREATE ROLE provhook LOGIN IN ROLE provhook_app; END IF;
END;
$$;
SELECT 'CREATE DATABASE provhook OWNER provhook_owner'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'provhook')
\gexec
SQL
# The key that encrypts the tenants' webhook secrets, made once and kept with the cluster's data.
if [ -z "${PROVHOOK_SECRET_KEY_FILE:-}" ]; then
    [ -s "$state/secret.key" ] || (umask 077 && head -c 32 /dev/urandom | base64 >"$state/secret.key")
    export PROVHOOK_SECRET_KEY_FILE=$state/secret.key
fi
PROVHOOK_DATABASE_URL="postgres://provhook_owner@127.0.0.1:$pg_port/provhook" "$bin/provhook" migrate
psql "$superuser/provhook" -q -v ON_ERROR_STOP=1 -f sql/roles.sql >/dev/null
export PROVHOOK_DATABASE_URL="postgres://provhook@127.0.0.1:$pg_port/provhook"

if [ -n "${PROVHOOK_REDIRECT_USER:-}" ] && { [ -n "${PROVHOOK_REDIRECT_PASSWORD:-}" ] || [ -n "${PROVHOOK_REDIRECT_PASSWORD_FILE:-}" ]; }; then
    echo "==> using the redirection service at ${PROVHOOK_REDIRECT_URL:-https://secure-provisioning.snom.com:8083/xmlrpc/}"
else
    password=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
    rm -f "$state/stand-in.port"
    "$bin/fake-redirect" --account "demo:$password:Demo Company" --tls-ca-out "$state/stand-in-ca.pem" \
        --port-file "$state/stand-in.port" >"$state/stand-in.log" 2>&1 &
    children+=($!)
    for _ in $(seq 1 100); do [ -s "$state/stand-in.port" ] && break; sleep 0.1; done
    [ -s "$state/stand-in.port" ] || { cat "$state/stand-in.log" >&2; echo "provhook: the stand-in did not start" >&2; exit 1; }
    export PROVHOOK_REDIRECT_URL="https://localhost:$(tr -d '\n' <"$state/stand-in.port")/xmlrpc/"
    export PROVHOOK_REDIRECT_USER=demo PROVHOOK_REDIRECT_PASSWORD=$password
    export PROVHOOK_REDIRECT_CA_FILE=$state/stand-in-ca.pem
    unset PROVHOOK_REDIRECT_PASSWORD_FILE
    echo "==> stand-in Snom service at $PROVHOOK_REDIRECT_URL (log: .local/stand-in.log)"
fi

# The SRAPS stand-in, with a fresh API key each run; the account demo-sraps is added once and given the new key.
(umask 077 && od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$state/sraps-key-secret")
rm -f "$state/fake-sraps.port"
"$bin/fake-sraps" --key "demo-key:$(cat "$state/sraps-key-secret"):Demo Company" --tls-ca-out "$state/sraps-ca.pem" \
    --port-file "$state/fake-sraps.port" >"$state/fake-sraps.log" 2>&1 &
children+=($!)
for _ in $(seq 1 100); do [ -s "$state/fake-sraps.port" ] && break; sleep 0.1; done
[ -s "$state/fake-sraps.port" ] || { cat "$state/fake-sraps.log" >&2; echo "provhook: the SRAPS stand-in did not start" >&2; exit 1; }
sraps="https://localhost:$(tr -d '\n' <"$state/fake-sraps.port")/api/v1/"
if ! "$bin/provhook" account list | awk 'NR > 1 { print $1 }' | grep -qx demo-sraps; then
    "$bin/provhook" account add demo-sraps --kind snom-sraps --key-id demo-key \
        --key-secret-file "$state/sraps-key-secret" --url "$sraps" --ca-file "$state/sraps-ca.pem" >/dev/null
else
    "$bin/provhook" account update demo-sraps --key-secret-file "$state/sraps-key-secret" --url "$sraps" \
        --ca-file "$state/sraps-ca.pem" >/dev/null
fi
echo "==> stand-in Snom SRAPS at $sraps, account demo-sraps (log: .local/fake-sraps.log)"

if ! "$bin/provhook" tenant list | awk 'NR > 1 { print $1 }' | grep -qx demo-sraps; then
    "$bin/provhook" tenant add demo-sraps --name "Demo PBX on SRAPS" --account demo-sraps \
        --url-template 'https://pbx.example.com/provisioning/<mac>.xml' | grep -o 'whsec_[^ ]*' >"$state/demo-sraps-secret"
elif [ ! -s "$state/demo-sraps-secret" ]; then
    "$bin/provhook" tenant update demo-sraps --rotate-secret | grep -o 'whsec_[^ ]*' >"$state/demo-sraps-secret"
fi
chmod 600 "$state/demo-sraps-secret"

if ! "$bin/provhook" tenant list | awk 'NR > 1 { print $1 }' | grep -qx demo; then
    "$bin/provhook" tenant add demo --name "Demo PBX" --url-template 'https://pbx.example.com/provisioning/<mac>.xml' |
        grep -o 'whsec_[^ ]*' >"$state/demo-secret"
elif [ ! -s "$state/demo-secret" ]; then
    "$bin/provhook" tenant update demo --rotate-secret | grep -o 'whsec_[^ ]*' >"$state/demo-secret"
fi
chmod 600 "$state/demo-secret"

# The Yealink RPS stand-in, with a fresh password each run; the account demo-yealink is added once and given it, and
# the demo tenant's Yealink phones use it, with a template of their own.
(umask 077 && od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$state/rps-password")
rm -f "$state/fake-yealink-rps.port"
"$bin/fake-yealink-rps" --account "demo-rps:$(cat "$state/rps-password")" --tls-ca-out "$state/rps-ca.pem" \
    --port-file "$state/fake-yealink-rps.port" >"$state/fake-yealink-rps.log" 2>&1 &
children+=($!)
for _ in $(seq 1 100); do [ -s "$state/fake-yealink-rps.port" ] && break; sleep 0.1; done
[ -s "$state/fake-yealink-rps.port" ] || { cat "$state/fake-yealink-rps.log" >&2; echo "provhook: the Yealink RPS stand-in did not start" >&2; exit 1; }
rps="https://localhost:$(tr -d '\n' <"$state/fake-yealink-rps.port")/xmlrpc"
if ! "$bin/provhook" account list | awk 'NR > 1 { print $1 }' | grep -qx demo-yealink; then
    "$bin/provhook" account add demo-yealink --kind yealink-rps --user demo-rps --password-file "$state/rps-password" \
        --url "$rps" --ca-file "$state/rps-ca.pem" >/dev/null
else
    "$bin/provhook" account update demo-yealink --password-file "$state/rps-password" --url "$rps" \
        --ca-file "$state/rps-ca.pem" >/dev/null
fi
"$bin/provhook" tenant update demo --account demo-yealink \
    --url-template 'yealink=https://pbx.example.com/provisioning/<mac>.cfg' >/dev/null
echo "==> stand-in Yealink RPS at $rps, account demo-yealink for the demo tenant's Yealink phones (log: .local/fake-yealink-rps.log)"

# The Poly ZTP stand-in, with a fresh API key each run (read from a file, never on a command line); the account
# demo-poly is added once and given it, and the demo tenant's Poly phones use it, with their provisioning server as
# their template (a Poly phone asks that server for its own <MAC>.cfg).
(umask 077 && od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$state/ztp-api-key")
rm -f "$state/fake-poly-ztp.port"
"$bin/fake-poly-ztp" --key-file "demo-org:$state/ztp-api-key" --tls-ca-out "$state/ztp-ca.pem" \
    --port-file "$state/fake-poly-ztp.port" >"$state/fake-poly-ztp.log" 2>&1 &
children+=($!)
for _ in $(seq 1 100); do [ -s "$state/fake-poly-ztp.port" ] && break; sleep 0.1; done
[ -s "$state/fake-poly-ztp.port" ] || { cat "$state/fake-poly-ztp.log" >&2; echo "provhook: the Poly ZTP stand-in did not start" >&2; exit 1; }
ztp="https://localhost:$(tr -d '\n' <"$state/fake-poly-ztp.port")/v1"
if ! "$bin/provhook" account list | awk 'NR > 1 { print $1 }' | grep -qx demo-poly; then
    "$bin/provhook" account add demo-poly --kind poly-ztp --api-key-file "$state/ztp-api-key" \
        --url "$ztp" --ca-file "$state/ztp-ca.pem" >/dev/null
else
    "$bin/provhook" account update demo-poly --api-key-file "$state/ztp-api-key" --url "$ztp" \
        --ca-file "$state/ztp-ca.pem" >/dev/null
fi
"$bin/provhook" tenant update demo --account demo-poly \
    --url-template 'poly=https://pbx.example.com/provisioning/poly/' >/dev/null
echo "==> stand-in Poly ZTP at $ztp, account demo-poly for the demo tenant's Poly phones (log: .local/fake-poly-ztp.log)"
# The PBX APIs' stand-ins: a Kazoo account with the phone kz-dev-2, and a Wazo user with the phone wz-dev-1.
(umask 077
    [ -s "$state/kazoo-api-key" ] || od -An -N32 -tx1 /dev/urandom | tr -d ' \n' >"$state/kazoo-api-key"
    [ -s "$state/wazo-password" ] || od -An -N12 -tx1 /dev/urandom | tr -d ' \n' >"$state/wazo-password")
rm -f "$state/fake-pbx.port"
"$bin/fake-pbx" --port-file "$state/fake-pbx.port" --kazoo-account kz-acct --kazoo-api-key-file "$state/kazoo-api-key" \
    --kazoo-device kz-dev-2=000413610ff7 --wazo-user provhook --wazo-password-file "$state/wazo-password" \
    --wazo-tenant demo-tenant --wazo-device wz-dev-1=00:04:13:61:0f:f8 >"$state/fake-pbx.log" 2>&1 &
children+=($!)
for _ in $(seq 1 100); do [ -s "$state/fake-pbx.port" ] && break; sleep 0.1; done
[ -s "$state/fake-pbx.port" ] || { cat "$state/fake-pbx.log" >&2; echo "provhook: the PBX stand-ins did not start" >&2; exit 1; }
pbx="http://127.0.0.1:$(tr -d '\n' <"$state/fake-pbx.port")"
echo "==> stand-ins of Kazoo crossbar at $pbx/v2 and Wazo at $pbx/api (log: .local/fake-pbx.log)"

# A Kazoo and a Wazo source for the demo tenant, each with its token kept in .local/ and its API set to this run's
# stand-ins.
token_of() { sed -n 's/.*"token" *: *"\([^"]*\)".*/\1/p'; }
for kind in kazoo wazo; do
    if ! "$bin/provhook" source list | awk 'NR > 1 { print $1 }' | grep -qx "demo-$kind"; then
        "$bin/provhook" source add "demo-$kind" --kind "$kind" --tenant demo --json | token_of >"$state/demo-$kind-token"
    elif [ ! -s "$state/demo-$kind-token" ]; then
        "$bin/provhook" source rotate-token "demo-$kind" --json | token_of >"$state/demo-$kind-token"
    fi
    chmod 600 "$state/demo-$kind-token"
done
# The PBX stand-ins are plain HTTP on loopback: PROVHOOK_PBX_ALLOW_HTTP is the explicit opt-in for that.
PROVHOOK_PBX_ALLOW_HTTP=1 "$bin/provhook" source update demo-kazoo --api-url "$pbx/v2" \
    --api-key-file "$state/kazoo-api-key" >/dev/null
PROVHOOK_PBX_ALLOW_HTTP=1 "$bin/provhook" source update demo-wazo --api-url "$pbx" --api-user provhook \
    --api-password-file "$state/wazo-password" \
    --api-tenant demo-tenant >/dev/null

listen=${PROVHOOK_LISTEN:-127.0.0.1:8080}
admin_listen=${PROVHOOK_ADMIN_LISTEN:-127.0.0.1:9090}
export PROVHOOK_LISTEN=$listen PROVHOOK_ADMIN_LISTEN=$admin_listen
# This session's settings, for running other provhook commands against it: `. .local/env`.
umask 077
{
    echo "export PROVHOOK_DATABASE_URL='$PROVHOOK_DATABASE_URL'"
    echo "export PROVHOOK_URL='http://$listen'"
    echo "export PROVHOOK_ADMIN_URL='http://$admin_listen'"
    echo "export PROVHOOK_SECRET_KEY_FILE='$PROVHOOK_SECRET_KEY_FILE'"
    for name in PROVHOOK_REDIRECT_URL PROVHOOK_REDIRECT_USER PROVHOOK_REDIRECT_PASSWORD PROVHOOK_REDIRECT_PASSWORD_FILE PROVHOOK_REDIRECT_CA_FILE; do
        [ -n "${!name:-}" ] && echo "export $name='${!name}'"
    done
    echo "export PATH='$bin':\"\$PATH\""
} >"$state/env"
umask 022
cat <<EOT

provhook is starting with a demo tenant: webhooks on http://$listen, and /metrics, /readyz and (with
PROVHOOK_ADMIN_TOKEN set) the admin API on http://$admin_listen. In another shell, send a signed event:

  contrib/send-event.sh demo \$(cat .local/demo-secret) '{"type":"device.added","mac":"00:04:13:61:0f:f5","device_id":"pbx-1"}'
  contrib/send-event.sh demo \$(cat .local/demo-secret) '{"type":"device.removed","device_id":"pbx-1"}'

or a Yealink phone, which the demo tenant registers with the Yealink RPS stand-in:

  contrib/send-event.sh demo \$(cat .local/demo-secret) '{"type":"device.added","mac":"00:15:65:12:34:56","device_id":"pbx-2"}'

or a Poly phone, which the demo tenant assigns to its profile at the Poly ZTP stand-in:

  contrib/send-event.sh demo \$(cat .local/demo-secret) '{"type":"device.added","mac":"00:04:f2:12:34:56","device_id":"pbx-3"}'

or register a phone with the SRAPS stand-in, through the tenant that uses the SRAPS account:

  contrib/send-event.sh demo-sraps \$(cat .local/demo-sraps-secret) '{"type":"device.added","mac":"00:04:13:61:0f:f9"}'

or send what a Kazoo object hook sends (form-encoded, v1, with mac_address), then its id-only deletion:

  curl -s "http://$listen/v1/sources/demo-kazoo/events?token=\$(cat .local/demo-kazoo-token)" \\
    -d 'id=kz-dev-1&account_id=kz-acct&action=doc_created&type=device&mac_address=000413610ff6'
  curl -s "http://$listen/v1/sources/demo-kazoo/events?token=\$(cat .local/demo-kazoo-token)" \\
    -d 'id=kz-dev-1&account_id=kz-acct&action=doc_deleted&type=device'

or a Kazoo event without the MAC, which provhook looks up in the crossbar stand-in:

  curl -s "http://$listen/v1/sources/demo-kazoo/events?token=\$(cat .local/demo-kazoo-token)" \\
    -d 'id=kz-dev-2&account_id=kz-acct&action=doc_created&type=device'

or what a Wazo webhookd subscription sends (only the device id; the MAC comes from the confd stand-in):

  curl -s "http://$listen/v1/sources/demo-wazo/events?event=device_created&token=\$(cat .local/demo-wazo-token)" \\
    -H 'Content-Type: application/json' -d '{"id": "wz-dev-1"}'
  curl -s "http://$listen/v1/sources/demo-wazo/events?event=device_deleted&token=\$(cat .local/demo-wazo-token)" \\
    -H 'Content-Type: application/json' -d '{"id": "wz-dev-1"}'

and look at the result, with this session's settings loaded from .local/env:

  . .local/env
  provhook device list
  provhook journal
  provhook reconcile --dry-run

EOT
"$bin/provhook" serve "$@" &
children+=($!)
wait "${children[-1]}"
