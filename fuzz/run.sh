#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer, with AddressSanitizer) of the XML-RPC decoder, the MAC parser and the webhook
# signature verifier. Seeds are in fuzz/corpus/TARGET/; crashes found so far are kept there as inputs.
#   fuzz/run.sh [SECONDS]     (default 60 per target)
# The decoder and the MAC parser are built straight from their sources with `swiftc -sanitize=fuzzer,address`. The
# verifier needs swift-crypto, so it is built by SwiftPM from the package in fuzz/ (its first build compiles
# BoringSSL: about 2 minutes on 2 cores).
# FoundationXML leaks a little per failed parse (see docs/testing.md), so leak detection is off and RSS is capped instead.
set -euo pipefail
cd "$(dirname "$0")/.."
source contrib/lib/build.sh
seconds=${1:-60}
targets=(xmlrpc mac signature)
out=$(mktemp -d "${TMPDIR:-/tmp}/provhook-fuzz.XXXXXX")
trap 'rm -rf "$out"' EXIT
echo "==> building the fuzz targets"
quietly swiftc -sanitize=fuzzer,address -parse-as-library -O Sources/XMLRPC/*.swift fuzz/XMLRPCDecoderFuzz.swift -o "$out/fuzz-xmlrpc"
quietly swiftc -sanitize=fuzzer,address -parse-as-library -O Sources/ProvisioningModel/MACAddress.swift fuzz/MACAddressFuzz.swift -o "$out/fuzz-mac"
swift_build_quietly release --package-path fuzz --sanitize=fuzzer --sanitize=address --product fuzz-signature
cp "$bin/fuzz-signature" "$out/fuzz-signature"
passed=0 failed=0
for target in "${targets[@]}"; do
    mkdir -p "$out/corpus-$target"
    cp fuzz/corpus/$target/* "$out/corpus-$target/"
    echo "fuzzing $target for ${seconds}s"
    if (cd "$out" && ASAN_OPTIONS=detect_leaks=0 SWIFT_BACKTRACE=enable=no "./fuzz-$target" -detect_leaks=0 -max_total_time="$seconds" -max_len=4096 \
        -timeout=5 -rss_limit_mb=4096 "corpus-$target" >"$out/$target.log" 2>&1); then
        passed=$((passed + 1))
    else
        grep -E "ERROR|SUMMARY|Fatal error|Test unit written" "$out/$target.log" >&2 || tail -20 "$out/$target.log" >&2
        mkdir -p "fuzz/findings/$target"
        cp "$out"/crash-* "$out"/timeout-* "$out"/oom-* "fuzz/findings/$target/" 2>/dev/null || true
        failed=$((failed + 1))
    fi
    grep -E "^Done" "$out/$target.log" || true
done
echo "fuzzing: $passed passed, $failed failed"
[ "$failed" = 0 ] || { echo "fuzzing: failing inputs written to fuzz/findings/" >&2; exit 1; }
