#!/usr/bin/env bash
# Unit tests of the alerting rules: promtool test rules. promtool comes with Debian's prometheus package.
set -euo pipefail
cd "$(dirname "$0")"
. ../lib/promtool.sh
promtool_require
promtool check rules provhook-rules.yml
promtool test rules provhook-rules.test.yml
