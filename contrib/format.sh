#!/usr/bin/env bash
# Formats the Swift sources with the toolchain's swift-format and the repository's .swift-format; with --check, changes
# nothing and fails if a file is not formatted (CI runs it so).
set -euo pipefail
cd "$(dirname "$0")/.."
paths=(Package.swift Plugins Sources Tests fuzz)
command -v swift >/dev/null || { echo "provhook: swift is not on the PATH; install the Swift toolchain (swift.org/install)" >&2; exit 1; }
if [ "${1:-}" = "--check" ]; then
    swift format lint --strict --recursive --parallel "${paths[@]}"
    echo "formatting: ok"
else
    swift format --in-place --recursive --parallel "${paths[@]}"
fi
