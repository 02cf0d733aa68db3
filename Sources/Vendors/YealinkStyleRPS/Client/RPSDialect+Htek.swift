import ProvisioningModel

extension RPSDialect {
    /// Htek's RPS, as Htek's "XML API for RPS" page gives it: HTTPS with basic auth at `/index.php/xmlrpc`,
    /// `redirect.addServer`, `registerDevice(mac, serverName[, isOverride])` and its batch `registerDevices`,
    /// `deRegisterDevice` and `deRegisterDevices`, `checkDevice`.
    public static let htek = RPSDialect(
        kind: .htek, name: "Htek RPS (XML-RPC)", defaultEndpoint: "https://rps.htek.com/index.php/xmlrpc",
        hasBatchCalls: true)
}
