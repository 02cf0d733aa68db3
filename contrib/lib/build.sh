# Builds provhook's products for the scripts in contrib/ and fuzz/; sourced by bench.sh, faults.sh and fuzz/run.sh.

# quietly COMMAND...: runs a build command, showing a progress line every 10 s (SwiftPM's latest "[step/steps]"
# line, so that a slow build is told apart from a hung one) and its full output only when it fails.
quietly() {
    local log status=0 pid waited=0 last
    log=$(mktemp)
    "$@" >"$log" 2>&1 &
    pid=$!
    while kill -0 "$pid" 2>/dev/null; do
        sleep 1
        waited=$((waited + 1))
        if [ $((waited % 10)) = 0 ]; then
            last=$(grep -a '^\[[0-9]*/[0-9]*\]' "$log" | tail -n 1 | cut -c1-100 || true)
            echo "    ${waited}s: ${last:-resolving and planning}"
        fi
    done
    wait "$pid" || status=$?
    [ "$status" = 0 ] || cat "$log" >&2
    rm -f "$log"
    return "$status"
}

# swift_build_quietly CONFIGURATION [SWIFT BUILD OPTIONS...]: builds (debug or release), by default every product of
# the main package, and sets $bin to the folder of the binaries.
swift_build_quietly() {
    local configuration=$1
    shift
    echo "==> building ($configuration${*:+ $*})"
    quietly swift build -c "$configuration" "$@"
    bin=$(swift build -c "$configuration" "$@" --show-bin-path)
}
