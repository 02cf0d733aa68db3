/// The seven methods of the Snom redirection service.
///
/// `RedirectClient` talks to the real service over XML-RPC; tests and dry runs supply other conformances.
public protocol RedirectService: Sendable {
    /// `redirect.registerPhone(mac, provisioningUrl)`.
    func registerPhone(_ mac: MACAddress, url: String) async throws(RedirectError) -> RedirectOutcome
    /// `redirect.deregisterPhone(mac)`.
    func deregisterPhone(_ mac: MACAddress) async throws(RedirectError) -> RedirectOutcome
    /// `redirect.getPhoneRedirection(mac)`.
    func phoneRedirection(_ mac: MACAddress) async throws(RedirectError) -> PhoneRedirection
    /// `redirect.checkPhone(mac)`.
    func checkPhone(_ mac: MACAddress) async throws(RedirectError) -> RedirectOutcome
    /// `redirect.listPhones(deviceType[, provisioningUrl])`.
    func listPhones(model: String, url: String?) async throws(RedirectError) -> [MACAddress]
    /// `redirect.registerPhoneList(macList, provisioningUrl)`.
    func registerPhoneList(_ macs: [MACAddress], url: String) async throws(RedirectError) -> ListOutcome
    /// `redirect.deregisterPhoneList(macList)`.
    func deregisterPhoneList(_ macs: [MACAddress]) async throws(RedirectError) -> ListOutcome
}

/// The XML-RPC method names, as the service spells them.
public enum RedirectMethod: String, Sendable, CaseIterable {
    case registerPhone = "redirect.registerPhone"
    case deregisterPhone = "redirect.deregisterPhone"
    case getPhoneRedirection = "redirect.getPhoneRedirection"
    case checkPhone = "redirect.checkPhone"
    case listPhones = "redirect.listPhones"
    case registerPhoneList = "redirect.registerPhoneList"
    case deregisterPhoneList = "redirect.deregisterPhoneList"

    /// The name without the namespace, for metrics and the journal.
    public var shortName: String { String(self.rawValue.dropFirst("redirect.".count)) }
}
