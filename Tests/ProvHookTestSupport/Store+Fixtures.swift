import ProvHookCore
import ProvisioningModel

extension Store {
    /// Adds tenant `id` as `provhook tenant add` would, with the tests' usual template: the setup most tests share.
    @discardableResult
    public func addTenant(
        _ id: String, template: String = "https://p.example/<mac>.xml", allowBearer: Bool = false
    ) async throws -> (Tenant, secret: String) {
        try await self.addTenant(
            id, urlTemplate: try URLTemplate(template), allowBearer: allowBearer)
    }

    /// Adds tenant `id` with `urlTemplate`, as `provhook tenant add` would.
    @discardableResult
    public func addTenant(
        _ id: String, urlTemplate: URLTemplate, allowBearer: Bool = false
    ) async throws -> (Tenant, secret: String) {
        try await self.addTenant(
            id: id, name: nil, urlTemplate: urlTemplate, allowBearer: allowBearer, actor: "cli:test")
    }
}
