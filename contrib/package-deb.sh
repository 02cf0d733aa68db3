#!/usr/bin/env bash
# Builds the Debian package, for `apt install ./provhook_VERSION_ARCH.deb` on a host without Swift:
#
#   contrib/package-deb.sh [--skip-build] [--output DIR]      (default DIR: .build/deb; the last line is its path)
#
# The release binary of the provhook product alone, with Swift's runtime linked in (--static-swift-stdlib), so that it
# needs only libc, libgcc, libstdc++, libxml2 (FoundationXML's parser, which the XML-RPC decoder uses) and zlib (which
# swift-nio-extras links); its Depends come from dpkg-shlibdeps, which fails on any library no Debian package
# provides. Then the unit, enabled but not started; the provhook user through sysusers.d; provhook.env as a conffile;
# the secret key made by postinst (contrib/debian/); sql/roles.sql, the docs and the examples under
# /usr/share/doc/provhook; a manual page. Its version is the one `provhook --version` prints
# (Sources/provhook/Version.swift).
set -euo pipefail
cd "$(dirname "$0")/.."
. contrib/lib/build.sh

build=true
out=.build/deb
while [ $# -gt 0 ]; do
    case $1 in
    --skip-build) build=false ;;
    --output) out=$2; shift ;;
    *) echo "usage: contrib/package-deb.sh [--skip-build] [--output DIR]" >&2; exit 2 ;;
    esac
    shift
done
for tool in dpkg-deb dpkg-shlibdeps strip gzip; do
    command -v "$tool" >/dev/null || { echo "provhook: $tool is required (Debian/Ubuntu: apt-get install dpkg-dev binutils)" >&2; exit 1; }
done

options=(-c release --product provhook --static-swift-stdlib)
if $build; then
    echo "==> building provhook (release, static Swift runtime; a first build takes a while)"
    quietly swift build "${options[@]}"
fi
bin=$(swift build "${options[@]}" --show-bin-path)
[ -x "$bin/provhook" ] || { echo "provhook: no release build in $bin; run without --skip-build" >&2; exit 1; }

# "provhook 0.1.0 (commit …)": the package takes the version the binary reports, so the two cannot disagree.
version=$("$bin/provhook" --version | awk '{ print $2 }')
[[ $version =~ ^[0-9][0-9A-Za-z.+~]*$ ]] || { echo "provhook: unexpected version '$version' from provhook --version" >&2; exit 1; }
commit=$("$bin/provhook" --version | sed -n 's/.*(commit \(.*\))$/\1/p')
arch=$(dpkg --print-architecture)
maintainer=${DEB_MAINTAINER:-provhook maintainers <maintainers@users.noreply.r-seed-16d1416d.example>}
# Timestamps of the last commit, so that two builds of one commit make the same package.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}

stage=$(mktemp -d "${TMPDIR:-/tmp}/provhook-deb.XXXXXX")
trap 'rm -rf "$stage"' EXIT
root=$stage/root

install -D -m 0755 "$bin/provhook" "$root/usr/bin/provhook"
# As dh_strip does: symbols are for debuggers, not for hosts (the binary shrinks several-fold).
strip --remove-section=.comment --remove-section=.note --strip-unneeded "$root/usr/bin/provhook"
install -D -m 0644 contrib/provhook.service "$root/usr/lib/systemd/system/provhook.service"
install -D -m 0644 contrib/debian/provhook.sysusers "$root/usr/lib/sysusers.d/provhook.conf"
install -D -m 0644 contrib/debian/lintian-overrides "$root/usr/share/lintian/overrides/provhook"
install -d "$root/usr/share/man/man1"
gzip -9n <contrib/debian/provhook.1 >"$root/usr/share/man/man1/provhook.1.gz"
# 0640 in the package already; postinst gives it (and /etc/provhook) to the provhook group, which does not exist yet.
install -D -m 0640 contrib/provhook.env.example "$root/etc/provhook/provhook.env"

doc=$root/usr/share/doc/provhook
install -D -m 0644 README.md "$doc/README.md"
install -m 0644 sql/roles.sql contrib/debian/copyright "$doc/"
install -D -m 0644 -t "$doc/docs" docs/*.md
install -D -m 0644 contrib/provhook.env.example "$doc/examples/provhook.env"
install -D -m 0644 -t "$doc/examples/prometheus" contrib/prometheus/provhook-rules.yml
install -D -m 0644 -t "$doc/examples/grafana" contrib/grafana/provhook.json contrib/grafana/README.md
{
    echo "provhook ($version) unstable; urgency=medium"
    echo
    echo "  * Built from commit $commit."
    echo
    echo " -- $maintainer  $(date -u -R -d "@$SOURCE_DATE_EPOCH")"
} | gzip -9n >"$doc/changelog.gz"
find "$root" -exec touch --no-dereference --date="@$SOURCE_DATE_EPOCH" {} +

# dpkg-shlibdeps wants a debian/control beside it; the package's own is written below.
mkdir -p "$stage/debian"
printf 'Source: provhook\n\nPackage: provhook\nArchitecture: any\n' >"$stage/debian/control"
depends=$(cd "$stage" && dpkg-shlibdeps -O -e root/usr/bin/provhook 2>"$stage/shlibdeps.log" | sed -n 's/^shlibs:Depends=//p') || {
    cat "$stage/shlibdeps.log" >&2
    echo "provhook: dpkg-shlibdeps failed: the binary needs a library no installed Debian package provides (a Swift runtime?)" >&2
    exit 1
}
[ -n "$depends" ] || { cat "$stage/shlibdeps.log" >&2; echo "provhook: dpkg-shlibdeps found no dependencies" >&2; exit 1; }

mkdir -p "$root/DEBIAN"
install -m 0755 contrib/debian/postinst contrib/debian/prerm contrib/debian/postrm "$root/DEBIAN/"
echo /etc/provhook/provhook.env >"$root/DEBIAN/conffiles"
(cd "$root" && find usr -type f -print0 | LC_ALL=C sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"
cat >"$root/DEBIAN/control" <<EOT
Package: provhook
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)
Depends: $depends
Suggests: postgresql
Section: net
Priority: optional
Description: zero-touch provisioning of IP phones from PBX webhooks
 When a hosted PBX adds, changes or removes a phone, it sends a webhook;
 provhook records the device in PostgreSQL and points the phone's MAC at the
 tenant's provisioning URL through its vendor's redirection service (Snom,
 Yealink, Poly, Gigaset, Fanvil, Panasonic, Htek, Akuvox), journaling every
 event and call in an append-only, hash-chained table.
 .
 The package installs the provhook command and its systemd unit, enabled but
 not started: set the database in /etc/provhook/provhook.env first.
EOT

mkdir -p "$out"
deb=$out/provhook_${version}_${arch}.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "==> Depends: $depends"
echo "$deb"
