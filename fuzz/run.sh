#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer) of the XML-RPC decoder and the MAC parser, built straight from their sources
# with `swiftc -sanitize=fuzzer,address`. Seeds are in fuzz/corpus/; crashes found so far are kept there as inputs.
#   fuzz/run.sh [SECONDS]     (default 60 per target)
# FoundationXML leaks a little per failed parse (see README), so leak detection is off and RSS is capped instead.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
out=$(mktemp -d "${TMPDIR:-/tmp}/provhook-fuzz.XXXXXX")
trap 'rm -rf "$out"' EXIT
swiftc -sanitize=fuzzer,address -parse-as-library -O Sources/XMLRPC/*.swift fuzz/XMLRPCDecoderFuzz.swift -o "$out/fuzz-xmlrpc"
swiftc -sanitize=fuzzer,address -parse-as-library -O Sources/SnomRedirect/MACAddress.swift fuzz/MACAddressFuzz.swift -o "$out/fuzz-mac"
status=0
for target in xmlrpc mac; do
    mkdir -p "$out/corpus-$target"
    cp fuzz/corpus/$target/* "$out/corpus-$target/"
    echo "fuzzing $target for ${seconds}s"
    if ! (cd "$out" && ASAN_OPTIONS=detect_leaks=0 SWIFT_BACKTRACE=enable=no "./fuzz-$target" -detect_leaks=0 -max_total_time="$seconds" -max_len=4096 \
        -timeout=5 -rss_limit_mb=4096 "corpus-$target" >"$out/$target.log" 2>&1); then
        grep -E "ERROR|SUMMARY|Test unit written" "$out/$target.log" >&2 || tail -20 "$out/$target.log" >&2
        cp "$out"/crash-* "$out"/timeout-* fuzz/ 2>/dev/null || true
        status=1
    fi
    grep -E "^Done" "$out/$target.log" || true
done
[ $status = 0 ] && echo "fuzzing: 2 passed, 0 failed" || echo "fuzzing: failures written to fuzz/"
exit $status
