/// The calls the worker and the CLI journal, named as the Snom XML-RPC methods that provhook began with: the journal's
/// `action` column holds these names, so they are history and stay as they are whichever service is called.
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
