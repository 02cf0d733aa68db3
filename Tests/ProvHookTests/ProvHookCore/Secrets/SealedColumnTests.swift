import PostgresNIO
import ProvHookTestSupport
import ProvisioningModel
import Testing

@testable import ProvHookCore

/// `SealedColumn.all` is the one inventory of sealed secrets: `serve`'s start-up check and the store count from it.
@Suite("Secret inventory: every sealed column, counted by serve and the store alike")
struct SealedColumnTests {
    @Test("SealedColumn.all names every column of the schema that holds a sealed secret, with its key id")
    func everySealedColumn() async throws {
        try await TestDatabase.with { database in
            let columns = try await database.store.rows(
                "listing sealed columns",
                """
                SELECT table_name::text, column_name::text FROM information_schema.columns
                WHERE table_schema = 'public' AND (column_name LIKE '%\\_sealed' OR column_name LIKE '%\\_key\\_id')
                """, as: (String, String).self)
            let inventory = SealedColumn.all.flatMap { [$0.table + "." + $0.sealed, $0.table + "." + $0.keyID] }
            #expect(Set(columns.map { $0.0 + "." + $0.1 }) == Set(inventory))
        }
    }

    @Test("the inventory counts tenants' secrets and sources' tokens under their key")
    func counts() async throws {
        try await TestDatabase.with { database in
            let store = database.store
            let template = try URLTemplate("https://prov.example.com/<mac>.xml")
            _ = try await store.addTenant(
                id: "acme", name: nil, urlTemplate: template, allowBearer: false, actor: "cli:test")
            _ = try await store.addSource(name: "src", kind: .kazoo, tenantID: "acme", actor: "cli:test")
            let inventory = try await store.secretsInventory()
            #expect(
                inventory == SecretsInventory(inClear: 0, sealedByKey: [database.secrets.current.id: 2], unbound: 0))
        }
    }
}
