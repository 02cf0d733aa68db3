import ProvisioningModel

/// `PROVHOOK_DRY_RUN=1`: answers every call as the service would on success and sends nothing.
/// The worker journals each call it would have made with the outcome `dry_run`.
public struct DryRunProvisioningService: ProvisioningService {
    public init() {}

    /// No batch cap of its own and lists by model, so a dry run plans the calls the real service would get.
    public var descriptor: ServiceDescriptor {
        ServiceDescriptor(
            kind: ServiceKind(rawValue: "dry-run"), name: "dry run (nothing is sent)", maxBatchSize: nil,
            listing: .byModel)
    }

    public func register(_ mac: MACAddress, at url: String) async throws(RedirectError) -> RedirectOutcome { .ok }
    public func deregister(_ mac: MACAddress) async throws(RedirectError) -> RedirectOutcome { .ok }
    public func register(_ macs: [MACAddress], at url: String) async throws(RedirectError) -> ListOutcome { .ok }
    public func deregister(_ macs: [MACAddress]) async throws(RedirectError) -> ListOutcome { .ok }
    public func redirection(of mac: MACAddress) async throws(RedirectError) -> PhoneRedirection {
        .error(.noSuchMAC)
    }
    public func ownership(of mac: MACAddress) async throws(RedirectError) -> RedirectOutcome { .error(.noSuchMAC) }
    public func registeredMACs(model: String, url: String?) async throws(RedirectError) -> [MACAddress] { [] }
}
