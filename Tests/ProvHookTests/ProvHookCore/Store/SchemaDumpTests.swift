import Foundation
import ProvHookCore
import ProvHookTestSupport
import Testing

/// `sql/schema.sql` is the schema after the last migration, for reading; this keeps it true.
@Suite("Migration: sql/schema.sql is the schema the migrations make")
struct SchemaDumpTests {
    @Test("a freshly migrated database dumps as sql/schema.sql (regenerate it with contrib/schema-dump.sh)")
    func schemaMatches() async throws {
        try await TestDatabase.with { database in
            // The same pg_dump and normalisation as contrib/schema-dump.sh (contrib/lib/schema.sh), on a database
            // that `Migrator` migrated; the file's own header comments are dropped by the normalisation.
            let root = ScratchCluster.repositoryRoot
            let difference = try ScratchCluster.shell(
                """
                set -o pipefail
                pg_require_binaries
                . '\(root)/contrib/lib/schema.sh'
                dump=$(schema_dump '\(database.urlString(as: .superuser))')
                diff -u --label sql/schema.sql --label 'the migrated database' \
                    <(schema_normalise < '\(root)/sql/schema.sql') <(printf '%s\\n' "$dump") || true
                """)
            #expect(
                difference.isEmpty,
                """
                sql/schema.sql is not the schema the migrations make; run contrib/schema-dump.sh to regenerate it \
                (and read the difference: a migration changed the schema). The difference:
                \(difference)
                """)
        }
    }

    @Test("sql/schema.sql is no migration: the binary does not carry it")
    func notEmbedded() {
        #expect(!Migration.embedded.contains { $0.name == "schema.sql" })
        #expect(Migration.embeddedFile("schema.sql") == nil)
        #expect(Migration.embeddedFile("roles.sql") != nil)
    }
}
