#!/usr/bin/env bash
# Runs the whole test suite against a throwaway PostgreSQL cluster on a free loopback port.
# The cluster is stopped and removed when the script ends, whether the tests pass or fail.
# Extra arguments go to `swift test` (for example: contrib/test.sh --filter Journal).
set -euo pipefail
cd "$(dirname "$0")/.."
. contrib/lib/postgres.sh

pg_require_binaries

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

# The contract test runs schemathesis (pinned in contrib/schemathesis-requirements.txt) against the admin API, from a
# virtualenv of its own in .build/schemathesis, made once.
schemathesis_env=$PWD/.build/schemathesis
if ! "$schemathesis_env/bin/schemathesis" --version >/dev/null 2>&1 ||
    ! cmp -s contrib/schemathesis-requirements.txt "$schemathesis_env/requirements.txt"; then
    echo "installing schemathesis for the contract test ..." >&2
    rm -rf "$schemathesis_env"
    mkdir -p .build
    { python3 -m venv "$schemathesis_env" &&
        "$schemathesis_env/bin/pip" install --quiet --disable-pip-version-check -r contrib/schemathesis-requirements.txt &&
        cp contrib/schemathesis-requirements.txt "$schemathesis_env/requirements.txt"; } >&2 ||
        { echo "provhook: cannot install schemathesis; it needs python3 with venv (Debian/Ubuntu: sudo apt-get install python3-venv) and PyPI" >&2; exit 1; }
fi
export PROVHOOK_TEST_SCHEMATHESIS=$schemathesis_env/bin/schemathesis

# Durability settings are relaxed: this cluster lives for one test run and never survives a machine crash.
pg_throwaway provhook-test -c fsync=off -c full_page_writes=off
echo "test database: PostgreSQL on 127.0.0.1:$pg_port (data in $pg_root/pg)"

export PROVHOOK_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$pg_port/postgres"
swift test "$@"
