import ProvisioningModel

/// The Snom XML-RPC client as delivery and reconcile call it: each neutral call is one of the seven methods.
extension RedirectClient: ProvisioningService {
    /// Snom's XML-RPC service: MAC only, list calls with no documented cap, `listPhones` by model.
    public static let descriptor = ServiceDescriptor(
        kind: .snomXMLRPC, name: "Snom redirection service (XML-RPC)", maxBatchSize: nil, listing: .byModel,
        defaultURL: RedirectConfiguration.defaultEndpoint)

    public var descriptor: ServiceDescriptor { Self.descriptor }

    public func register(_ mac: MACAddress, at url: String) async throws(RedirectError) -> RedirectOutcome {
        try await self.registerPhone(mac, url: url)
    }

    public func deregister(_ mac: MACAddress) async throws(RedirectError) -> RedirectOutcome {
        try await self.deregisterPhone(mac)
    }

    public func register(_ macs: [MACAddress], at url: String) async throws(RedirectError) -> ListOutcome {
        try await self.registerPhoneList(macs, url: url)
    }

    public func deregister(_ macs: [MACAddress]) async throws(RedirectError) -> ListOutcome {
        try await self.deregisterPhoneList(macs)
    }

    public func redirection(of mac: MACAddress) async throws(RedirectError) -> PhoneRedirection {
        try await self.phoneRedirection(mac)
    }

    public func ownership(of mac: MACAddress) async throws(RedirectError) -> RedirectOutcome {
        try await self.checkPhone(mac)
    }

    public func registeredMACs(model: String, url: String?) async throws(RedirectError) -> [MACAddress] {
        try await self.listPhones(model: model, url: url)
    }
}
