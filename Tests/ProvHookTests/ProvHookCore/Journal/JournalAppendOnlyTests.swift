import Logging
import PostgresNIO
import ProvHookCore
import ProvHookTestSupport
import ProvisioningModel
import Testing

@Suite("Journal is append-only, constraints are clear")
struct JournalAppendOnlyTests {
    let logger = Logger(label: "test")

    @Test(
        "UPDATE, DELETE and TRUNCATE on the journal are refused with a clear message",
        arguments: [
            "UPDATE journal SET outcome = 'forged'",
            "DELETE FROM journal",
            "TRUNCATE journal",
        ])
    func refused(statement: String) async throws {
        try await TestDatabase.with { database in
            try await database.store.appendJournal([
                JournalEntry(tenantID: "t", mac: "000413610FF5", actor: "cli:test", action: .reconcileRun, outcome: .ok)
            ])
            try await database.withConnection { connection in
                do {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: self.logger)
                    Issue.record("\(statement) was allowed")
                } catch {
                    let described = DatabaseError("changing the journal", error)
                    #expect(described.reason.contains("journal is append-only"))
                    #expect(described.sqlState == "42501")
                }
            }
            let rows = try await database.store.journal(JournalFilter())
            #expect(rows.count == 1)
            #expect(rows.first?.outcome == "ok")
        }
    }

    /// The app's login is refused these by its grants alone (DatabaseRolesTests); the trigger refuses them to a role
    /// that has every grant: the superuser and the tables' owner.
    @Test(
        "UPDATE, DELETE and TRUNCATE on the seals are refused by their trigger, even to the owner and the superuser",
        arguments: [
            "UPDATE journal_seals SET sealed_at = now()",
            "DELETE FROM journal_seals",
            "TRUNCATE journal_seals",
        ])
    func sealsRefused(statement: String) async throws {
        try await TestDatabase.with { database in
            let chain = JournalChain(store: database.store)
            try await database.store.appendJournal([
                JournalEntry(tenantID: "t", mac: "000413610FF5", actor: "cli:test", action: .reconcileRun, outcome: .ok)
            ])
            #expect(try await chain.seal() == 1)
            let head = try await chain.head()
            for role in [TestDatabase.Role.superuser, .owner] {
                try await database.withConnection(as: role) { connection in
                    do {
                        try await connection.query(PostgresQuery(unsafeSQL: statement), logger: self.logger)
                        Issue.record("\(statement) was allowed to \(role)")
                    } catch {
                        let described = DatabaseError("changing the seals", error)
                        #expect(described.reason.contains("journal is append-only"), "\(described)")
                        #expect(described.sqlState == "42501")
                    }
                }
            }
            #expect(try await chain.head() == head, "the seal is as it was")
            #expect(try await chain.verify().breaks.isEmpty)
        }
    }

    @Test(
        "each constraint's violation becomes a clear error",
        arguments: [
            (
                "INSERT INTO journal (mac, actor, action, outcome) VALUES ('00:04:13:61:0f:f5', 'x', 'y', 'z')",
                "journal_mac_format"
            ),
            (
                "INSERT INTO tenants (id, name, url_template, webhook_secret) VALUES ('t', 't', 'gopher://x', 'whsec_AAAAAAAAAAAAAAAAAAAAAA==')",
                "tenant_url_template_scheme"
            ),
            (
                "INSERT INTO tenants (id, name, url_template, webhook_secret) VALUES ('t', 't', 'https://x', 'secret')",
                "tenant_webhook_secret_format"
            ),
            (
                "INSERT INTO tenants (id, name, url_template, webhook_secret) VALUES ('t t', 't', 'https://x', 'whsec_AAAAAAAAAAAAAAAAAAAAAA==')",
                "tenant_id_format"
            ),
        ])
    func constraints(statement: String, constraint: String) async throws {
        try await TestDatabase.with { database in
            try await database.withConnection { connection in
                do {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: self.logger)
                    Issue.record("\(statement) was allowed")
                } catch {
                    #expect(DatabaseError("inserting", error).constraint == constraint)
                }
            }
        }
    }

    @Test("device constraints: MAC format, URL scheme, status set")
    func deviceConstraints() async throws {
        try await TestDatabase.with { database in
            try await database.store.addTenant("t1", template: "https://p.example/<mac>")
            for (statement, constraint) in [
                (
                    "INSERT INTO devices (mac, tenant_id, vendor, desired, url) VALUES ('000413610ff5', 't1', 'snom', 'registered', 'https://x')",
                    "device_mac_format"
                ),
                (
                    "INSERT INTO devices (mac, tenant_id, vendor, desired, url) VALUES ('000413610FF5', 't1', 'snom', 'registered', 'file:///etc')",
                    "device_url_scheme"
                ),
                (
                    "INSERT INTO devices (mac, tenant_id, vendor, desired, url, status) VALUES ('000413610FF5', 't1', 'snom', 'registered', 'https://x', 'done')",
                    "device_status"
                ),
                (
                    "INSERT INTO devices (mac, tenant_id, vendor, desired) VALUES ('000413610FF5', 't1', 'snom', 'maybe')",
                    "device_desired_state"
                ),
                (
                    "INSERT INTO devices (mac, tenant_id, vendor, desired) VALUES ('000413610FF5', 't1', 'snom', 'registered')",
                    "device_registered_has_url"
                ),
                (
                    "INSERT INTO devices (mac, tenant_id, vendor, desired, status) VALUES ('000413610FF5', 't1', 'snom', 'deregistered', 'skipped')",
                    "device_skipped_has_reason"
                ),
                (
                    "INSERT INTO devices (mac, tenant_id, vendor, desired, status, skipped_because) VALUES ('000413610FF5', 't1', 'snom', 'deregistered', 'skipped', 'bored')",
                    "device_skip_reason"
                ),
                (
                    "INSERT INTO devices (mac, tenant_id, vendor, desired) VALUES ('000413610FF5', 't1', 'Snom', 'deregistered')",
                    "device_vendor_format"
                ),
            ] {
                try await database.withConnection { connection in
                    do {
                        try await connection.query(PostgresQuery(unsafeSQL: statement), logger: self.logger)
                        Issue.record("\(statement) was allowed")
                    } catch {
                        #expect(DatabaseError("inserting", error).constraint == constraint, "\(statement)")
                    }
                }
            }
        }
    }
}
