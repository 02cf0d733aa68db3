#!/usr/bin/env bash
# Unit tests of the alerting rules: promtool test rules. promtool comes with Debian's prometheus package.
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v promtool >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "==> installing promtool (Debian package prometheus)"
        (apt-get install -y --no-install-recommends prometheus >/dev/null 2>&1 \
            || { apt-get update >/dev/null 2>&1 && apt-get install -y --no-install-recommends prometheus >/dev/null 2>&1; }) \
            || { echo "contrib/prometheus/test-rules.sh: could not install promtool; install the prometheus package (apt-get install prometheus)" >&2; exit 1; }
    else
        echo "contrib/prometheus/test-rules.sh: promtool not found; install it (Debian: apt-get install prometheus)" >&2
        exit 1
    fi
fi
promtool check rules provhook-rules.yml
promtool test rules provhook-rules.test.yml
