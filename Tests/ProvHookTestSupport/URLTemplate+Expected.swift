import ProvHookCore
import ProvisioningModel

extension URLTemplate {
    /// The URL that provhook must register for `mac`, computed here independently of the database's `render_url`,
    /// as the tests' oracle.
    public func expectedURL(for mac: MACAddress) -> String {
        self.text.split(separator: "<mac>", omittingEmptySubsequences: false).joined(separator: mac.canonical)
    }
}
