import SnomRedirect

/// `PROVHOOK_DRY_RUN=1`: answers every call as the service would on success and sends nothing.
/// The worker journals each call it would have made with the outcome `dry_run`.
public struct DryRunRedirectService: RedirectService {
    public init() {}

    public func registerPhone(_ mac: MACAddress, url: String) async throws(RedirectError) -> RedirectOutcome { .ok }
    public func deregisterPhone(_ mac: MACAddress) async throws(RedirectError) -> RedirectOutcome { .ok }
    public func phoneRedirection(_ mac: MACAddress) async throws(RedirectError) -> PhoneRedirection {
        .error(.noSuchMAC)
    }
    public func checkPhone(_ mac: MACAddress) async throws(RedirectError) -> RedirectOutcome { .error(.noSuchMAC) }
    public func listPhones(model: String, url: String?) async throws(RedirectError) -> [MACAddress] { [] }
    public func registerPhoneList(_ macs: [MACAddress], url: String) async throws(RedirectError) -> ListOutcome { .ok }
    public func deregisterPhoneList(_ macs: [MACAddress]) async throws(RedirectError) -> ListOutcome { .ok }
}
