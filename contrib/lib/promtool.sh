# promtool_require: makes sure promtool (Debian's prometheus package) is on PATH, installing it when running as root
# with apt-get, else saying in one line how. The alerting rules' tests and the dashboard's test need it.
promtool_require() {
    command -v promtool >/dev/null && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "==> installing promtool (Debian package prometheus)" >&2
        (apt-get install -y --no-install-recommends prometheus >/dev/null 2>&1 ||
            { apt-get update >/dev/null 2>&1 && apt-get install -y --no-install-recommends prometheus >/dev/null 2>&1; }) ||
            { echo "provhook: could not install promtool; install the prometheus package (apt-get install prometheus)" >&2; exit 1; }
    else
        echo "provhook: promtool not found; install it (Debian/Ubuntu: sudo apt-get install prometheus)" >&2
        exit 1
    fi
}
