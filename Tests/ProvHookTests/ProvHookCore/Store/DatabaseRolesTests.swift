import Foundation
import Logging
import PostgresNIO
import ProvHookCore
import ProvHookTestSupport
import ProvisioningModel
import Testing

/// The deployment docs/operating.md describes, tried as each role: the owner migrates, `sql/roles.sql` grants, the app's
/// login runs provhook, the auditor reads.
@Suite("Database roles: what the app, the auditor and the owner can do")
struct DatabaseRolesTests {
    let logger = Logger(label: "test")

    /// Runs `statement` as `role`, answering the SQLSTATE it failed with, or nil if it succeeded.
    func failure(_ database: TestDatabase, as role: TestDatabase.Role, _ statement: String) async throws -> String? {
        try await database.withConnection(as: role) { connection in
            do {
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: self.logger)
                return nil
            } catch let error as PSQLError {
                return error.serverInfo?[.sqlState]
            }
        }
    }

    @Test("the auditor reads the journal, devices and tenants, but never a webhook secret or a device PIN")
    func auditor() async throws {
        try await TestDatabase.with { database in
            try await database.store.addTenant("acme", template: "https://p.example/<mac>")
            #expect(try await self.failure(database, as: .auditor, "SELECT webhook_secret FROM tenants") == "42501")
            #expect(
                try await self.failure(database, as: .auditor, "SELECT webhook_secret_sealed FROM tenants") == "42501")
            #expect(try await self.failure(database, as: .auditor, "SELECT * FROM tenants") == "42501")
            #expect(
                try await self.failure(database, as: .auditor, "SELECT password_sealed FROM redirect_accounts")
                    == "42501")
            #expect(try await self.failure(database, as: .auditor, "SELECT * FROM redirect_accounts") == "42501")
            #expect(try await self.failure(database, as: .auditor, "SELECT * FROM device_pins") == "42501")
            #expect(try await self.failure(database, as: .app, "SELECT * FROM device_pins") == nil)
            for readable in [
                "SELECT id, name, url_template, allow_bearer, removed_at, created_at, updated_at FROM tenants",
                "SELECT * FROM journal", "SELECT * FROM journal_seals", "SELECT * FROM devices",
                "SELECT name, kind, vendor, vendor_default, username, url, concurrency FROM redirect_accounts",
                "SELECT * FROM tenant_vendors",
            ] {
                #expect(try await self.failure(database, as: .auditor, readable) == nil, "\(readable)")
            }
            #expect(try await self.failure(database, as: .auditor, "DELETE FROM devices") == "42501")
        }
    }

    @Test("the app's login can neither disable the journal's triggers nor rewrite or truncate it")
    func appCannotDisableTheAuditTrail() async throws {
        try await TestDatabase.with { database in
            for statement in [
                "ALTER TABLE journal DISABLE TRIGGER journal_append_only", "DELETE FROM journal_seals",
                "UPDATE journal SET outcome = 'forged'", "TRUNCATE journal",
            ] {
                #expect(try await self.failure(database, as: .app, statement) != nil, "\(statement)")
            }
            #expect(try await database.store.ownsJournal() == false)
            let owner = try RunningStore(url: database.url(as: .owner))
            #expect(try await owner.store.ownsJournal() == true, "serve warns when it runs as the owner")
            await owner.stop()
        }
    }

    @Test("a journal row's id and time are the database's, and no login can forge a seal or stall the chain")
    func journalGuarantees() async throws {
        try await TestDatabase.with { database in
            let chain = JournalChain(store: database.store)
            try await database.store.appendJournal([
                JournalEntry(tenantID: "t", mac: nil, actor: "cli:test", action: .tenantAdd, outcome: .ok)
            ])
            #expect(try await chain.seal() == 1, "the app's login seals")
            let forged = try await database.withConnection(as: .app) { connection -> (Int64, Date)? in
                let rows = try await connection.query(
                    """
                    INSERT INTO journal (id, at, tenant_id, actor, action, outcome)
                    VALUES (9000000000000000000, '2020-01-01', 't', 'cli:alice', 'tenant.remove', 'ok')
                    RETURNING id, at
                    """, logger: self.logger)
                for try await row in rows.decode((Int64, Date).self) { return row }
                return nil
            }
            let (id, at) = try #require(forged)
            #expect(id < 1000, "the sequence's id, not the client's")
            #expect(abs(at.timeIntervalSinceNow) < 600, "the database's clock, not the client's")
            let zeros = "'\\x" + String(repeating: "00", count: 32) + "'"
            #expect(
                try await self.failure(
                    database, as: .app,
                    "INSERT INTO journal_seals (journal_id, hash) VALUES (9000000000000000000, \(zeros))")
                    == "42501", "a seal ahead of the chain")
            #expect(
                try await self.failure(
                    database, as: .app, "INSERT INTO journal_seals (journal_id, hash) VALUES (\(id), \(zeros))")
                    == "42501", "a seal with the wrong hash")
            #expect(try await chain.seal() == 1, "the sealer goes on")
            #expect(try await chain.verify().firstBreak == nil)
        }
    }
}
