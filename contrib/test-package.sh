#!/usr/bin/env bash
# The Debian package, end to end, on this machine (as root, as CI runs it):
#   - builds it (contrib/package-deb.sh: a release build of the provhook product) and fails on any lintian error;
#   - installs it with dpkg -i: no Swift runtime among the binary's libraries, `provhook --version` runs with an empty
#     library path, the unit verifies and is enabled, the files have their owners and modes, a reinstall keeps the key;
#   - as the provhook user, with the unit's environment and the packaged provhook.env: serve refuses in one line while
#     unconfigured; then, provhook.env edited for a throwaway PostgreSQL, migrate (as the owner role), serve, a
#     tenant, one signed event answered 2xx and its device in the database;
#   - purges the package: everything it installed is gone but /etc/provhook/secret.key, which this test then removes
#     with the provhook user and group (if it made them), and the machine's files are as they were.
#
#   contrib/test-package.sh [--skip-build]      (--skip-build: package the release build already made)
set -euo pipefail
cd "$(dirname "$0")/.."
. contrib/lib/postgres.sh

fail() { echo "package test: FAILED: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "provhook: the package test installs a package; run it as root (CI does)" >&2; exit 1; }
# It installs, purges and cleans up after itself: on a machine that has provhook already, it would take its place.
! dpkg -s provhook >/dev/null 2>&1 || { echo "provhook: the provhook package is installed here; the test would purge it" >&2; exit 1; }
[ ! -e /etc/provhook ] || { echo "provhook: /etc/provhook exists (a key of an earlier install?); the test would remove it" >&2; exit 1; }
pg_require_binaries
for tool in curl openssl psql setpriv systemd-analyze; do
    command -v "$tool" >/dev/null || { echo "provhook: $tool is required" >&2; exit 1; }
done
missing=()
command -v lintian >/dev/null || missing+=(lintian)
command -v dpkg-shlibdeps >/dev/null || missing+=(dpkg-dev)
if [ ${#missing[@]} -gt 0 ]; then
    echo "==> installing ${missing[*]}"
    { DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; } >/dev/null 2>&1 ||
        { echo "provhook: ${missing[*]} missing and apt-get cannot install it; install it (apt-get install ${missing[*]}) and retry" >&2; exit 1; }
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/provhook-package.XXXXXX")
chmod 755 "$work"
had_user=false had_group=false serve_pid=""
getent passwd provhook >/dev/null && had_user=true
getent group provhook >/dev/null && had_group=true
# Leaves the machine as it found it, whether the test passed or not.
cleanup() {
    local status=$?
    trap '' INT TERM
    set +e
    [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
    dpkg -s provhook >/dev/null 2>&1 && { dpkg --purge provhook >/dev/null 2>&1 || true; }
    rm -f /etc/provhook/secret.key
    [ -d /etc/provhook ] && rmdir /etc/provhook 2>/dev/null
    $had_user || ! getent passwd provhook >/dev/null || userdel provhook
    $had_group || ! getent group provhook >/dev/null || groupdel provhook
    pg_stop "$work/pg"
    [ "$status" = 0 ] || { echo "serve's log:" >&2; cat "$work/serve.log" >&2 2>/dev/null || true; }
    rm -rf "$work"
    return "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

contrib/package-deb.sh "$@" | tee "$work/package.log"
deb=$(tail -n 1 "$work/package.log")
[ -f "$deb" ] || fail "contrib/package-deb.sh made no package"
echo "==> $(du -h "$deb" | cut -f1) package; binary $(dpkg-deb --fsys-tarfile "$deb" | tar -tvf - ./usr/bin/provhook | awk '{ print $3 }') bytes"

# Swift's runtime is linked in; what remains is the C and C++ runtime, libxml2 (FoundationXML's XMLParser, which the
# XML-RPC decoder uses) and zlib (which swift-nio-extras links).
depends=$(dpkg-deb -f "$deb" Depends)
echo "    Depends: $depends"
extra=$(tr ',' '\n' <<<"$depends" | awk 'NF { print $1 }' | grep -vxE 'libc6|libgcc-s1|libstdc\+\+6|libxml2|zlib1g' || true)
[ -z "$extra" ] || fail "the package depends on $(echo $extra) besides libc, libgcc, libstdc++, libxml2 and zlib"

echo "==> lintian"
lintian --tag-display-limit 0 --show-overrides "$deb" >"$work/lintian.log" 2>&1 || true
sed 's/^/    /' "$work/lintian.log"
! grep -q '^E:' "$work/lintian.log" || fail "lintian reports errors"
echo "    $(grep -c "^E:" "$work/lintian.log" || true) errors, $(grep -c "^W:" "$work/lintian.log" || true) warnings, $(grep -c "^O:" "$work/lintian.log" || true) overridden (contrib/debian/lintian-overrides says why)"

# The cluster before the snapshot: its owner account, if made now, is not the package's doing.
pg_init "$work/pg"
pg_port=$(pg_free_port)
pg_start "$work/pg" "$pg_port"
# What the package may touch, to compare after the purge; the shadow tools' backups (passwd- …) are left out.
snapshot() {
    find /etc /usr /var/lib/systemd -xdev 2>/dev/null | grep -Ev '^/etc/(passwd|group|shadow|gshadow)-$|^/etc/\.pwd\.lock$' | LC_ALL=C sort
    getent passwd provhook || true
    getent group provhook || true
}
snapshot >"$work/before"

echo "==> dpkg -i"
dpkg -i "$deb" | sed 's/^/    /'
version=$(dpkg-query -W -f '${Version}' provhook)

echo "==> the binary, without Swift's runtime"
ldd /usr/bin/provhook | sed 's/^/    /'
! ldd /usr/bin/provhook | grep -Eiq 'libswift|libFoundation|lib_Foundation|libdispatch|libBlocksRuntime' ||
    fail "/usr/bin/provhook links a Swift runtime library"
reported=$(env -i LD_LIBRARY_PATH= /usr/bin/provhook --version) || fail "provhook --version failed"
echo "    $reported"
[[ $reported =~ ^provhook\ $version\ \(commit\ ([0-9a-f]{40,64}|unknown)\)$ ]] ||
    fail "provhook --version does not say version $version and a commit"
# "unknown" only outside a git checkout (a source archive); in one, the commit checked out, not an older build's.
head=$(git rev-parse HEAD 2>/dev/null || true)
[ -z "$head" ] || [[ $reported == *"(commit $head)" ]] || fail "provhook --version does not name this checkout's commit, $head"

echo "==> the installed files"
systemd-analyze verify /usr/lib/systemd/system/provhook.service || fail "systemd-analyze verify"
[ -L /etc/systemd/system/multi-user.target.wants/provhook.service ] || fail "the unit is not enabled"
grep -qx 'ExecStart=/usr/bin/provhook serve' /usr/lib/systemd/system/provhook.service || fail "the unit's ExecStart"
# Enabled before it is configured: a boot then starts it once, and serve's refusal (exit 2, below) must not restart.
grep -qx 'RestartPreventExitStatus=2' /usr/lib/systemd/system/provhook.service || fail "the unit restarts on exit 2"
mode() { stat -c '%a %U:%G' "$1"; }
[ "$(mode /etc/provhook)" = "750 root:provhook" ] || fail "/etc/provhook is $(mode /etc/provhook)"
[ "$(mode /etc/provhook/provhook.env)" = "640 root:provhook" ] || fail "provhook.env is $(mode /etc/provhook/provhook.env)"
[ "$(mode /etc/provhook/secret.key)" = "640 root:provhook" ] || fail "secret.key is $(mode /etc/provhook/secret.key)"
[ "$(base64 -d /etc/provhook/secret.key | wc -c)" = 32 ] || fail "secret.key is not 32 bytes in base64"
[ "$(dpkg-query -W -f '${Conffiles}' provhook | awk 'NF { print $1 }')" = /etc/provhook/provhook.env ] || fail "conffiles"
for file in README.md roles.sql copyright changelog.gz examples/provhook.env examples/grafana/provhook.json; do
    [ -f "/usr/share/doc/provhook/$file" ] || fail "/usr/share/doc/provhook/$file is missing"
done
key=$(md5sum </etc/provhook/secret.key)
dpkg -i "$deb" >/dev/null
[ "$(md5sum </etc/provhook/secret.key)" = "$key" ] || fail "a reinstall replaced the secret key"

# As systemd runs the unit: as the provhook user, with its Environment= lines, then provhook.env (which wins), and
# nothing else. Read again at each call, since the test edits provhook.env.
service_environment() {
    mapfile -t environment < <(sed -n 's/^Environment=//p' /usr/lib/systemd/system/provhook.service
        grep -E '^[A-Z_]+=' /etc/provhook/provhook.env)
}
as_provhook() {
    service_environment
    setpriv --reuid=provhook --regid=provhook --init-groups -- env -i PATH=/usr/bin:/bin "${environment[@]}" "$@"
}

echo "==> serve, unconfigured, refuses in one line"
status=0
as_provhook /usr/bin/provhook serve >"$work/refusal.log" 2>&1 || status=$?
sed 's/^/    /' "$work/refusal.log"
[ "$status" = 2 ] || fail "unconfigured serve exited $status, not 2 (the unit's RestartPreventExitStatus)"
[ "$(wc -l <"$work/refusal.log")" = 1 ] && grep -q PROVHOOK_DATABASE_URL "$work/refusal.log" ||
    fail "unconfigured serve did not say in one line that PROVHOOK_DATABASE_URL is missing"

echo "==> the database roles, as README.md says, and migrate as the owner"
superuser="postgres://postgres@127.0.0.1:$pg_port"
psql "$superuser/postgres" -qAt -v ON_ERROR_STOP=1 -c "CREATE ROLE provhook_owner LOGIN" \
    -c "CREATE DATABASE provhook OWNER provhook_owner" >/dev/null
as_provhook env PROVHOOK_DATABASE_URL="postgres://provhook_owner@127.0.0.1:$pg_port/provhook" /usr/bin/provhook migrate |
    tail -n 1 | sed 's/^/    /'
psql "$superuser/provhook" -q -v ON_ERROR_STOP=1 -f /usr/share/doc/provhook/roles.sql \
    -c "CREATE ROLE provhook LOGIN IN ROLE provhook_app" >/dev/null

echo "==> serve, with provhook.env edited"
listen=$(pg_free_port)
admin=$(pg_free_port)
# Dry run: no redirection service here; the event is recorded all the same.
sed -i -e "s|^#PROVHOOK_DATABASE_URL=.*|PROVHOOK_DATABASE_URL=postgres://provhook@127.0.0.1:$pg_port/provhook|" \
    -e "s|^PROVHOOK_LISTEN=.*|PROVHOOK_LISTEN=127.0.0.1:$listen|" \
    -e "s|^PROVHOOK_ADMIN_LISTEN=.*|PROVHOOK_ADMIN_LISTEN=127.0.0.1:$admin|" \
    -e "s|^#PROVHOOK_DRY_RUN=1|PROVHOOK_DRY_RUN=1|" /etc/provhook/provhook.env
[ "$(grep -cE "^PROVHOOK_(DATABASE_URL=.*:$pg_port/|LISTEN=.*:$listen\$|ADMIN_LISTEN=.*:$admin\$|DRY_RUN=1\$)" /etc/provhook/provhook.env)" = 4 ] ||
    fail "the packaged provhook.env no longer has the lines this test edits"
# Not through the function, whose background subshell would get the signal instead of serve.
service_environment
setpriv --reuid=provhook --regid=provhook --init-groups -- env -i PATH=/usr/bin:/bin "${environment[@]}" \
    /usr/bin/provhook serve >"$work/serve.log" 2>&1 &
serve_pid=$!
for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$listen/healthz" >/dev/null 2>&1 && break
    kill -0 "$serve_pid" 2>/dev/null || fail "serve exited"
    sleep 0.2
done
curl -fs "http://127.0.0.1:$listen/healthz" >/dev/null || fail "serve did not answer /healthz"
[ "$(stat -c %U "/proc/$serve_pid")" = provhook ] || fail "serve does not run as the provhook user"
echo "    serve is up, as the provhook user"

echo "==> one signed event"
secret=$(as_provhook /usr/bin/provhook tenant add pkgtest --url-template 'https://prov.example.com/<mac>.xml' |
    grep -o 'whsec_[^ ]*') || fail "tenant add"
answer=$(contrib/send-event.sh pkgtest "$secret" '{"type":"device.added","mac":"00:04:13:61:0f:f5","device_id":"pkg-1"}' \
    "http://127.0.0.1:$listen")
sed 's/^/    /' <<<"$answer"
grep -q '^HTTP 2' <<<"$answer" || fail "the event was not answered 2xx"
[ "$(psql "$superuser/provhook" -qAt -c "SELECT count(*) FROM devices WHERE tenant_id = 'pkgtest' AND device_id = 'pkg-1'")" = 1 ] ||
    fail "the event's device is not in the database"
# Read whole, then searched: `curl | grep -q` under pipefail fails when grep stops reading before curl has written a
# body larger than the pipe's buffer (curl then dies of SIGPIPE).
for _ in 1 2 3; do
    metrics=$(curl -sS -w '\nHTTP %{http_code}' "http://127.0.0.1:$admin/metrics" 2>&1) || true
    grep -q '^provhook_' <<<"$metrics" && break
    sleep 1
done
grep -q '^provhook_' <<<"$metrics" || fail "no provhook_ metrics on the admin listener ($(tail -n 1 <<<"$metrics"))"
echo "    recorded; /metrics answers"
kill -TERM "$serve_pid"
status=0
wait "$serve_pid" || status=$?
serve_pid=""
[ "$status" = 0 ] || fail "serve exited $status on SIGTERM"

echo "==> dpkg --purge"
dpkg --purge provhook 2>&1 | sed 's/^/    /'
for path in /usr/bin/provhook /usr/lib/systemd/system/provhook.service /usr/lib/sysusers.d/provhook.conf \
    /etc/provhook/provhook.env /usr/share/doc/provhook /etc/systemd/system/multi-user.target.wants/provhook.service; do
    [ ! -e "$path" ] && [ ! -L "$path" ] || fail "$path is still there after the purge"
done
[ -f /etc/provhook/secret.key ] || fail "the purge deleted the secret key"
# The key and the user are the administrator's to delete; this test made them, so it deletes them.
rm /etc/provhook/secret.key
rmdir /etc/provhook
$had_user || userdel provhook
$had_group || ! getent group provhook >/dev/null || groupdel provhook
snapshot >"$work/after"
diff -u "$work/before" "$work/after" || fail "the machine differs from before the install (above)"
echo "package test: passed ($deb)"
