import ProvisioningModel

extension RPSDialect {
    /// Akuvox's RPS, as Akuvox's wiki ("How to setup XML API for RPS") gives it: the same
    /// `registerDevice(mac, serverName[, isOverride])` with basic auth, at a plain-HTTP address. The wiki records no
    /// batch call, so each MAC is its own call.
    public static let akuvox = RPSDialect(
        kind: .akuvox, name: "Akuvox RPS (XML-RPC)", defaultEndpoint: "http://58.96.188.87/fcgi/do?id=1",
        hasBatchCalls: false,
        plainHTTPNote: "Akuvox publishes its RPS only over http://, so its password travels in clear")
}
