import SnomXMLRPCStandIn
import StandInSupport

extension RunningFakeRedirect {
    /// The stand-in over HTTPS with a CA of its own, and the settings that point a provhook process at it
    /// (`PROVHOOK_REDIRECT_URL`, `_USER`, `_PASSWORD` and `_CA_FILE`, the CA in a file that lives as long as `body`).
    public static func withTLS<T>(
        state: FakeRedirectState = StandInAccounts.makeState(),
        _ body: (RunningFakeRedirect, _ settings: [String: String]) async throws -> T
    ) async throws -> T {
        let authority = try PrivateCertificateAuthority()
        return try await Self.with(state: state, tls: authority) { standIn in
            try await TemporaryFile.with(authority.caCertificatePEM, suffix: ".pem") { caFile in
                try await body(
                    standIn,
                    [
                        "PROVHOOK_REDIRECT_URL": standIn.endpoint, "PROVHOOK_REDIRECT_USER": StandInAccounts.user,
                        "PROVHOOK_REDIRECT_PASSWORD": StandInAccounts.password, "PROVHOOK_REDIRECT_CA_FILE": caFile,
                    ])
            }
        }
    }
}
