# Builds provhook's products for the scripts in contrib/ and fuzz/; sourced by bench.sh, faults.sh and fuzz/run.sh.

# quietly COMMAND...: runs a build command, showing its output only when it fails.
quietly() {
    local log status=0
    log=$(mktemp)
    "$@" >"$log" 2>&1 || status=$?
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
