# The schema as `sql/schema.sql` shows it; sourced by contrib/schema-dump.sh and by the schema test.
# Needs pg_dump on PATH (pg_require_binaries of contrib/lib/postgres.sh puts the server's own there).

# Normalises pg_dump's text on stdin: drops its comment lines (dump dates, versions, object headers), its SET and
# set_config lines, psql's \restrict/\unrestrict lines (their key is random) and repeated blank lines.
# Ownership and grants are left out by schema_dump: they belong to sql/roles.sql and to who migrated.
schema_normalise() {
    sed -E \
        -e '/^--/d' \
        -e '/^SET [a-z_]+ = /d' \
        -e "/^SELECT pg_catalog\.set_config\('search_path'/d" \
        -e '/^\\(un)?restrict /d' |
        cat -s | sed -e '1{/^$/d;}' -e '${/^$/d;}'
}

# schema_dump URL: the schema of the database at URL, normalised (no owners, no grants).
schema_dump() {
    pg_dump --schema-only --no-owner --no-privileges "$1" | schema_normalise
}
