#!/usr/bin/env bash
# Runs the whole test suite against a throwaway PostgreSQL cluster on a free loopback port.
# The cluster is stopped and removed when the script ends, whether the tests pass or fail.
# Extra arguments go to `swift test` (for example: contrib/test.sh --filter Journal).
set -euo pipefail
cd "$(dirname "$0")/.."
. contrib/lib/postgres.sh
. contrib/lib/promtool.sh

pg_require_binaries

# The dashboard's test checks its queries with promtool.
promtool_require

# The OpenAPI test validates /openapi.yaml with Python's openapi-spec-validator.
if ! python3 -c 'import openapi_spec_validator, yaml' 2>/dev/null; then
    if command -v python3 >/dev/null && python3 -m pip --version >/dev/null 2>&1; then
        echo "installing openapi-spec-validator for the OpenAPI test ..." >&2
        python3 -m pip install --quiet openapi-spec-validator PyYAML >&2 ||
            { echo "provhook: cannot install openapi-spec-validator; run: python3 -m pip install openapi-spec-validator PyYAML" >&2; exit 1; }
    else
        echo "provhook: the tests need python3 with pip (Debian/Ubuntu: sudo apt-get install python3-pip), then: python3 -m pip install openapi-spec-validator PyYAML" >&2
        exit 1
    fi
fi

# The tests' Python tools (pinned in contrib/test-requirements.txt): schemathesis for the contract test, mohawk for the
# Hawk interop test; from a virtualenv of their own in .build/test-python, made once and again when the pins change.
test_python=$PWD/.build/test-python
if ! "$test_python/bin/schemathesis" --version >/dev/null 2>&1 ||
    ! cmp -s contrib/test-requirements.txt "$test_python/requirements.txt"; then
    echo "installing the tests' Python tools (schemathesis, mohawk) ..." >&2
    rm -rf "$test_python"
    mkdir -p .build
    { python3 -m venv "$test_python" &&
        "$test_python/bin/pip" install --quiet --disable-pip-version-check -r contrib/test-requirements.txt &&
        cp contrib/test-requirements.txt "$test_python/requirements.txt"; } >&2 ||
        { echo "provhook: cannot install the tests' Python tools; they need python3 with venv (Debian/Ubuntu: sudo apt-get install python3-venv) and PyPI" >&2; exit 1; }
fi
export PROVHOOK_TEST_SCHEMATHESIS=$test_python/bin/schemathesis
export PROVHOOK_TEST_PYTHON=$test_python/bin/python

# Durability settings are relaxed: this cluster lives for one test run and never survives a machine crash.
pg_throwaway provhook-test -c fsync=off -c full_page_writes=off
echo "test database: PostgreSQL on 127.0.0.1:$pg_port (data in $pg_root/pg)"

export PROVHOOK_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$pg_port/postgres"
swift test "$@"
