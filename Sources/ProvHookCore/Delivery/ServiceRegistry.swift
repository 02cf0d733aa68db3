import ProvisioningModel

/// The phone vendors' provisioning services an installation can call, by kind: how an account of each kind becomes
/// the client its worker calls.
///
/// Core knows no vendor: the executable fills the registry (`ServiceRegistry.standard` in `Sources/Vendors/Registry`,
/// a file per vendor), so adding a vendor is its folder and one entry there.
public struct ServiceRegistry: Sendable {
    /// Makes the service an account of one kind calls, from the account's credentials; the vendor's factory holds
    /// the installation's settings for what the account does not set.
    public typealias Factory = @Sendable (_ account: AccountCredentials) throws -> AccountService

    private let factories: [ServiceKind: Factory]

    /// A registry of these factories.
    public init(_ factories: [ServiceKind: Factory]) {
        self.factories = factories
    }

    /// This registry with one more kind, or another factory for one it has.
    public func adding(_ kind: ServiceKind, _ factory: @escaping Factory) -> ServiceRegistry {
        var factories = self.factories
        factories[kind] = factory
        return ServiceRegistry(factories)
    }

    /// The kinds an account may have, sorted: what `account add --kind` accepts.
    public var kinds: [ServiceKind] { self.factories.keys.sorted { $0.rawValue < $1.rawValue } }

    /// The factory of `kind`.
    public func factory(for kind: ServiceKind) throws(StoreError) -> Factory {
        guard let factory = self.factories[kind] else {
            throw StoreError.invalid("no provisioning service of kind \(kind) is known to this provhook")
        }
        return factory
    }
}
