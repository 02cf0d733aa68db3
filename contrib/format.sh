#!/usr/bin/env bash
# Formats the Swift sources with the toolchain's swift-format and the repository's .swift-format; with --check, changes
# nothing and fails if a file is not formatted, or if a Swift file is longer than 420 lines (CI runs it so): a file
# that long holds more than one thing, and a reader should find each by its file's name.
set -euo pipefail
cd "$(dirname "$0")/.."
paths=(Package.swift Plugins Sources Tests fuzz)
command -v swift >/dev/null || { echo "provhook: swift is not on the PATH; install the Swift toolchain (swift.org/install)" >&2; exit 1; }
if [ "${1:-}" = "--check" ]; then
    swift format lint --strict --recursive --parallel "${paths[@]}"
    long=$(find "${paths[@]}" -name '*.swift' -exec awk 'END { if (NR > 420) print FILENAME ": " NR " lines" }' {} \;)
    [ -z "$long" ] || { echo "provhook: Swift files over 420 lines (split them by what they hold):" >&2; echo "$long" >&2; exit 1; }
    echo "formatting: ok"
else
    swift format --in-place --recursive --parallel "${paths[@]}"
fi
