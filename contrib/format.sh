#!/usr/bin/env bash
# Formats the Swift sources with the toolchain's swift-format and the repository's .swift-format; with --check, changes
# nothing and fails if a file is not formatted, or if a Swift file is longer than 420 lines (CI runs it so): a file
# that long holds more than one thing, and a reader should find each by its file's name.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v swift >/dev/null || { echo "provhook: swift is not on the PATH; install the Swift toolchain (swift.org/install)" >&2; exit 1; }
# The project's own Swift files: not the dependencies' checkouts in a build folder (the fuzz targets build in fuzz/).
mapfile -t files < <(find Package.swift Plugins Sources Tests fuzz -name '.build*' -prune -o -name '*.swift' -print)
if [ "${1:-}" = "--check" ]; then
    swift format lint --strict --parallel "${files[@]}"
    long=$(awk 'FNR == 1 && NR > 1 && lines > 420 { print name ": " lines " lines" } { name = FILENAME; lines = FNR }
        END { if (lines > 420) print name ": " lines " lines" }' "${files[@]}")
    [ -z "$long" ] || { echo "provhook: Swift files over 420 lines (split them by what they hold):" >&2; echo "$long" >&2; exit 1; }
    echo "formatting: ok"
else
    swift format --in-place --parallel "${files[@]}"
fi
