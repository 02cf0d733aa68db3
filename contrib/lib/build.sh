# Builds provhook's products for the scripts in contrib/; sourced by bench.sh and faults.sh.

# swift_build_quietly CONFIGURATION: builds every product (debug or release), showing the compiler's output only
# when the build fails, and sets $bin to the folder of the binaries.
swift_build_quietly() {
    local configuration=$1 log
    echo "==> building ($configuration)"
    log=$(mktemp)
    swift build -c "$configuration" >"$log" 2>&1 || { cat "$log" >&2; rm -f "$log"; return 1; }
    rm -f "$log"
    bin=$(swift build -c "$configuration" --show-bin-path)
}
