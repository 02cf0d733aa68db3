import ProvHookCore
import SnomXMLRPC
import VendorHTTP

extension Settings {
    /// The redirection service settings from flags and `PROVHOOK_REDIRECT_*`.
    public func redirectConfiguration(
        url: String? = nil, user: String? = nil, password: String? = nil, passwordFile: String? = nil,
        caFile: String? = nil, concurrency: Int? = nil
    ) throws(ConfigurationError) -> RedirectConfiguration {
        guard let user = self.value(user, "PROVHOOK_REDIRECT_USER") else {
            throw .missing("PROVHOOK_REDIRECT_USER (or --redirect-user)")
        }
        guard let password = try self.secret(password, "PROVHOOK_REDIRECT_PASSWORD", fileFlag: passwordFile) else {
            throw .missing(
                "PROVHOOK_REDIRECT_PASSWORD or PROVHOOK_REDIRECT_PASSWORD_FILE (or --redirect-password-file)")
        }
        let configuration = RedirectConfiguration(
            endpoint: self.value(url, "PROVHOOK_REDIRECT_URL") ?? RedirectConfiguration.defaultEndpoint,
            user: user,
            password: password,
            connection: VendorConnection(
                caFile: self.value(caFile, "PROVHOOK_REDIRECT_CA_FILE"), allowsPlainHTTP: self.allowsPlainHTTPRedirect,
                readTimeout: .seconds(
                    try self.integer(nil, "PROVHOOK_REDIRECT_TIMEOUT_SECONDS", default: 30, in: 1...600)),
                maxConnections: try self.integer(concurrency, "PROVHOOK_REDIRECT_CONCURRENCY", default: 8, in: 1...256))
        )
        do {
            try configuration.validate()
        } catch {
            throw .unusableService(error.description)
        }
        if configuration.isPlainHTTP, !configuration.connection.allowsPlainHTTP {
            throw .invalid(
                variable: "PROVHOOK_REDIRECT_URL",
                reason:
                    "is http://, which would send the password in clear; use https://, or set PROVHOOK_REDIRECT_ALLOW_HTTP=1 for a local stand-in"
            )
        }
        return configuration
    }
}
