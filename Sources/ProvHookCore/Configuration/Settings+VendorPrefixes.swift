import ProvisioningModel

extension Settings {
    /// The vendor-prefix table that `PROVHOOK_VENDOR_PREFIXES` (or `flag`) lays over the registry's defaults, for
    /// `serve` and for the commands that plan events as it does.
    public func vendorPrefixes(flag: String? = nil) throws(ConfigurationError) -> VendorPrefixes {
        guard let text = self.value(flag, VendorPrefixes.settingName) else { return .defaults }
        do {
            return try VendorPrefixes(parsing: text)
        } catch {
            throw .invalid(variable: VendorPrefixes.settingName, reason: "is invalid: \(error.description)")
        }
    }
}
