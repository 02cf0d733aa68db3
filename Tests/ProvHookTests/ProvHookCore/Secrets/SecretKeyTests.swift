import Foundation
import Logging
import NIOCore
import PostgresNIO
import ProvHookCore
import ProvHookTestSupport
import ProvisioningModel
import Testing

/// Webhook secrets at rest: sealed under `PROVHOOK_SECRET_KEY_FILE`, bound to their tenant, migrated from clear,
/// rotated to a new key; and the commands that need the key refuse to run without one.
@Suite("Secret key and sealed webhook secrets")
struct SecretKeyTests {
    @Test("a key file is taken raw or in base64, and refused when missing, not a file, exposed or short")
    func keyFiles() throws {
        for base64 in [true, false] {
            let path = try SecretKeyFile.write(base64: base64)
            defer { try? FileManager.default.removeItem(atPath: path) }
            #expect(try SecretKey(contentsOfFile: path).id.count == 16)
            #expect(try SecretKey(contentsOfFile: path).id == SecretKey(contentsOfFile: path).id)
        }
        #expect(throws: SecretKeyError.self) { try SecretKey(contentsOfFile: "/nonexistent/provhook.key") }
        #expect(throws: SecretKeyError.self) {
            try SecretKey(contentsOfFile: FileManager.default.temporaryDirectory.path)
        }
        for mode: mode_t in [0o644, 0o604, 0o620, 0o666] {
            let path = try SecretKeyFile.write(mode: mode)
            defer { try? FileManager.default.removeItem(atPath: path) }
            #expect(throws: SecretKeyError.exposed(path, String(mode, radix: 8))) {
                try SecretKey(contentsOfFile: path)
            }
        }
        let groupReadable = try SecretKeyFile.write(mode: 0o640)
        defer { try? FileManager.default.removeItem(atPath: groupReadable) }
        #expect(throws: Never.self) { try SecretKey(contentsOfFile: groupReadable) }
        for contents in ["", "c2hvcnQ=\n", String(repeating: "A", count: 31), Data(count: 16).base64EncodedString()] {
            let path = try TemporaryFile.write(contents, suffix: ".key")
            chmod(path, 0o600)
            defer { try? FileManager.default.removeItem(atPath: path) }
            #expect(throws: SecretKeyError.self) { try SecretKey(contentsOfFile: path) }
        }

        let missing = Settings(environment: [:])
        #expect(try missing.secretKeyring() == nil)
        do {
            _ = try missing.requiredSecretKeyring()
            Issue.record("no key must be refused")
        } catch {
            #expect(
                error.description.contains("PROVHOOK_SECRET_KEY_FILE") && error.description.contains("openssl rand"))
            #expect(!error.description.contains("\n"), "one line")
        }
    }

    @Test("a secret is sealed at rest, opens only for its tenant and under its key")
    func sealedAtRest() async throws {
        try await TestDatabase.with { database in
            let template = try URLTemplate("https://p.example/<mac>")
            let (_, secret) = try await database.store.addTenant("acme", urlTemplate: template)
            try await database.store.addTenant("beta", urlTemplate: template)
            #expect(try await database.store.credentials(tenantID: "acme")?.secret == secret)

            // Nothing in the row gives the secret away.
            let stored = try await database.withConnection { connection in
                let rows = try await connection.query(
                    "SELECT webhook_secret, webhook_secret_sealed, webhook_secret_key_id FROM tenants WHERE id = 'acme'",
                    logger: TestDatabase.logger)
                var found: [(String?, ByteBuffer, String)] = []
                for try await row in rows.decode((String?, ByteBuffer, String).self) { found.append(row) }
                return found
            }
            let (clear, sealed, keyID) = try #require(stored.first)
            #expect(clear == nil && keyID == database.secrets.current.id)
            let secretBytes = Array(secret.utf8)
            let sealedBytes = Array(sealed.readableBytesView)
            #expect(!sealedBytes.indices.contains { sealedBytes[$0...].starts(with: secretBytes.prefix(12)) })

            // Copied onto another tenant's row, it does not open: the tenant id is authenticated with it.
            _ = try await database.withConnection { connection in
                try await connection.query(
                    """
                    UPDATE tenants SET webhook_secret_sealed = (SELECT webhook_secret_sealed FROM tenants WHERE id = 'acme')
                    WHERE id = 'beta'
                    """, logger: TestDatabase.logger)
            }
            await #expect(throws: StoreError.self) { try await database.store.credentials(tenantID: "beta") }

            // Another key opens nothing, and says which key the secret needs.
            let other = try RunningStore(url: database.url, secrets: .generate())
            do {
                _ = try await other.store.credentials(tenantID: "acme")
                Issue.record("another key must not open the secret")
            } catch {
                #expect("\(error)".contains(database.secrets.current.id) && !"\(error)".contains(secret))
            }
            await other.stop()
        }
    }

    @Test("migrate seals the secrets left in clear, journaled; serve refuses to start before")
    func migrationFromClear() async throws {
        try await TestDatabase.with(migrated: false) { database in
            try await database.withConnection(as: .owner) { connection in
                _ = try await Migrator(migrations: Migration.embedded.filter { $0.version <= 5 })
                    .migrate(on: connection, logger: TestDatabase.logger)
                try await connection.query(
                    """
                    INSERT INTO tenants (id, name, url_template, webhook_secret)
                    VALUES ('old', 'old', 'https://p.example/<mac>', 'whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')
                    """, logger: TestDatabase.logger)
            }
            var owner = CommandLineRunner(environment: database.environment(as: .owner))
            owner.environment["PROVHOOK_SECRET_KEY_FILE"] = nil
            var result = try await owner.run(["migrate"])
            #expect(result.status == 2 && result.output.contains("0006_sealed_secrets.sql"))
            #expect(result.error.contains("1 webhook secret(s) are stored in clear"))
            #expect(!result.error.contains("whsec_"))
            try await database.applyRoles()

            var serve = CommandLineRunner(environment: database.environment())
            serve.environment["PROVHOOK_DRY_RUN"] = "1"
            result = try await serve.run(["serve"])
            #expect(result.status == 2 && result.error.contains("still in clear"), "\(result.error)")

            result = try await CommandLineRunner(environment: database.environment(as: .owner)).run(["migrate"])
            #expect(result.status == 0 && result.output.contains("sealed 1 webhook secret(s)"), "\(result.error)")
            #expect(
                try await database.store.credentials(tenantID: "old")?.secret
                    == "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
            let journal = try await database.store.journal(JournalFilter(tenantID: "old"))
            #expect(journal.map(\.action) == ["tenant.update"])
            #expect(!"\(journal)".contains("whsec_"))
        }
    }

    @Test("a key rotation: reseal under the new key while the old one opens; then the old key is not needed")
    func rotation() async throws {
        try await TestDatabase.with { database in
            let (_, secret) = try await database.store.addTenant("acme", template: "https://p.example/<mac>")
            // A redirection account's password is sealed under the same key and rotated with the rest.
            _ = try await database.store.addAccount(
                name: "reseller", changes: AccountChanges(user: "r", password: .sealed("r-Pa55")), actor: "cli:test")
            let newKey = try SecretKeyFile.write()
            defer { try? FileManager.default.removeItem(atPath: newKey) }
            var cli = CommandLineRunner(environment: database.environment())
            cli.environment["PROVHOOK_SECRET_KEY_FILE"] = newKey

            // Without the old key, serve cannot open acme's secret and says so before it starts.
            cli.environment["PROVHOOK_DRY_RUN"] = "1"
            var result = try await cli.run(["serve"])
            #expect(result.status == 2 && result.error.contains(database.secrets.current.id), "\(result.error)")
            result = try await cli.run(["tenant", "reseal"])
            #expect(result.status == 2, "the old key is needed to open the secret")

            cli.environment["PROVHOOK_PREVIOUS_SECRET_KEY_FILE"] = database.secretKeyFile
            result = try await cli.run(["tenant", "reseal"])
            #expect(result.status == 0 && result.output.contains("re-sealed 2"), "\(result.output)\(result.error)")
            result = try await cli.run(["tenant", "reseal"])
            #expect(result.status == 0 && result.output.contains("re-sealed 0"), "idempotent")

            let rotated = try RunningStore(
                url: database.url, secrets: SecretKeyring(current: SecretKey(contentsOfFile: newKey)))
            #expect(try await rotated.store.credentials(tenantID: "acme")?.secret == secret)
            let opened = try await rotated.store.accountCredentials().first { $0.name == "reseller" }?.password
            #expect(opened == "r-Pa55", "the account's password opens under the new key")
            await rotated.stop()
            await #expect(throws: StoreError.self) { try await database.store.credentials(tenantID: "acme") }
            let unopened = try await database.store.accountCredentials().first { $0.name == "reseller" }
            #expect(
                unopened?.password == nil && unopened?.unusable?.contains("sealed under key") == true,
                "\(String(describing: unopened?.unusable))")
            // Stored sealed: the password's bytes are nowhere in the row.
            let stored = try await database.withConnection { connection -> [UInt8] in
                let rows = try await connection.query(
                    "SELECT password_sealed FROM redirect_accounts WHERE name = 'reseller'",
                    logger: Logger(label: "test"))
                for try await sealed in rows.decode(ByteBuffer.self) { return Array(sealed.readableBytesView) }
                return []
            }
            #expect(!stored.isEmpty && !Data(stored).contains(Data("r-Pa55".utf8)))
            let journal = try await database.store.journal(JournalFilter(tenantID: "acme"))
            #expect(journal.contains { $0.action == "tenant.update" && $0.detail["secret_resealed_from"] != nil })
            let accountRows = try await database.store.journal(JournalFilter(action: "account.update"))
            #expect(accountRows.contains { $0.detail["password_resealed_from"] != nil })
        }
    }

    @Test("the commands that store or use a secret refuse to run without a key, in one line")
    func refusals() async throws {
        try await TestDatabase.with { database in
            var cli = CommandLineRunner(environment: database.environment())
            cli.environment["PROVHOOK_SECRET_KEY_FILE"] = nil
            for arguments in [
                ["tenant", "add", "x", "--url-template", "https://p.example/<mac>"],
                ["tenant", "update", "x", "--rotate-secret"], ["tenant", "reseal"], ["serve", "--dry-run"],
            ] {
                let result = try await cli.run(arguments)
                #expect(result.status == 2, "\(arguments)")
                #expect(result.error.contains("PROVHOOK_SECRET_KEY_FILE") && result.error.contains("openssl rand"))
                #expect(result.error.split(separator: "\n").count == 1, "\(result.error)")
            }
            #expect(try await cli.run(["tenant", "list"]).status == 0, "commands without secrets need no key")
        }
    }

    @Test(
        "a device PIN is sealed to its MAC: kept only for a phone meant to be registered, copied onto another MAC it does not open, rotated with the other secrets"
    )
    func devicePINs() async throws {
        try await TestDatabase.with { database in
            let store = database.store
            _ = try await store.addTenant("acme", template: "https://p.example/<mac>")
            let (a, b, unknown) = (
                MACAddress("805EC0000001")!, MACAddress("805EC0000002")!, MACAddress("805EC0000003")!
            )
            for mac in [a, b] {
                _ = try await store.setDesired(
                    DeviceChange(mac: mac, desired: .registered), tenantID: "acme", actor: "cli:test")
            }
            try await store.keepDevicePINs([a: "123456", b: "654321", unknown: "000000"])
            #expect(try await store.devicePIN(a) == "123456")
            #expect(try await store.devicePIN(unknown) == nil, "no device, no PIN")

            _ = try await database.withConnection { connection in
                try await connection.query(
                    """
                    UPDATE device_pins SET pin_sealed = (SELECT pin_sealed FROM device_pins WHERE mac = '805EC0000001')
                    WHERE mac = '805EC0000002'
                    """, logger: TestDatabase.logger)
            }
            await #expect(throws: StoreError.self) { try await store.devicePIN(b) }
            let detail = try #require(try await store.deviceDetail(b, historyLimit: 1))
            #expect(detail.pin == nil && detail.pinUnavailable?.contains("does not open") == true)
            try await store.keepDevicePINs([:], forgetting: [b])
            #expect(try await store.devicePIN(b) == nil)

            _ = try await store.setDesired(
                DeviceChange(mac: b, desired: .deregistered), tenantID: "acme", actor: "cli:test")
            try await store.keepDevicePINs([b: "654321"])
            #expect(try await store.devicePIN(b) == nil, "not kept for a phone on its way out")

            let newKey = SecretKey.generate()
            let rotating = try RunningStore(
                url: database.url, secrets: SecretKeyring(current: newKey, previous: [database.secrets.current]))
            let resealed = try await rotating.store.resealSecrets(actor: "cli:test")
            await rotating.stop()
            #expect(resealed.contains("device:805EC0000001"), "\(resealed)")
            let rotated = try RunningStore(url: database.url, secrets: SecretKeyring(current: newKey))
            let opened = try await rotated.store.devicePIN(a)
            await rotated.stop()
            #expect(opened == "123456")
            let journal = try await store.journal(JournalFilter(limit: 100))
            #expect(!"\(journal)".contains("123456"), "never journaled")
        }
    }
}
