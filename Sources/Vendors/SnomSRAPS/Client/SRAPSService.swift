import ProvisioningModel

/// Which service of the SRAPS family a client speaks to: Snom's SRAPS, or Gigaset's GRAPE, which runs the same API
/// (Hawk, `tokens/{id}`, its company and endpoints links, `settings/`, `PUT endpoints/{mac}`) with its own address
/// and its own setting for the provisioning URL (falconieri `libs/grape`).
public struct SRAPSService: Sendable, Hashable {
    /// The account kind.
    public var kind: ServiceKind
    /// A name for operators.
    public var name: String
    /// The production API root, trailing slash included.
    public var defaultBaseURL: String
    /// The `param_name` of the setting that holds the provisioning URL.
    public var urlSettingName: String
    /// The section of that setting when more than one has its name (SRAPS has two `setting_server`); nil: the first.
    public var urlSettingSection: String?

    /// Snom SRAPS: `setting_server` of section `phone-settings`, the one a phone reads (ngcp f1e00a0408); the other
    /// is in `global`.
    public static let snom = SRAPSService(
        kind: .snomSRAPS, name: "Snom provisioning service SRAPS (REST)",
        defaultBaseURL: "https://api.sraps.snom.com/api/v1/", urlSettingName: "setting_server",
        urlSettingSection: "phone-settings")
    /// Gigaset GRAPE: `ProvisioningServer`, the first setting of that name (falconieri reads no section).
    public static let grape = SRAPSService(
        kind: .gigasetGRAPE, name: "Gigaset provisioning service GRAPE (REST)",
        defaultBaseURL: "https://api.grape.gigaset.net/api/v1/", urlSettingName: "ProvisioningServer",
        urlSettingSection: nil)

    /// The service's descriptor: MAC only, no batch call, a listing of every endpoint of the account.
    public var descriptor: ServiceDescriptor {
        ServiceDescriptor(
            kind: self.kind, name: self.name, maxBatchSize: 1, listing: .everything, defaultURL: self.defaultBaseURL)
    }
}
