import AsyncHTTPClient
import Foundation
import Logging
import ProvHookTestSupport
import ProvisioningModel
import SnomXMLRPC
import SnomXMLRPCStandIn
import StandInSupport
import Testing
import VendorTestSupport

/// Starts a stand-in with the two test accounts and gives a client for ours, over HTTP or HTTPS.
struct StandIn {
    static let user = StandInAccounts.user
    static let password = StandInAccounts.password

    let server: RunningFakeRedirect
    let httpClient: HTTPClient
    let client: RedirectClient

    var state: FakeRedirectState { self.server.state }

    static func withStandIn<T>(
        tls: Bool = false,
        configure: (inout RedirectConfiguration) -> Void = { _ in },
        _ body: (StandIn) async throws -> T
    ) async throws -> T {
        let state = StandInAccounts.makeState()
        let authority = tls ? try PrivateCertificateAuthority() : nil
        return try await RunningFakeRedirect.with(state: state, tls: authority) { server in
            var caFile: String?
            if let authority {
                caFile = try TemporaryFile.write(authority.caCertificatePEM, suffix: ".pem")
            }
            defer { if let caFile { try? FileManager.default.removeItem(atPath: caFile) } }
            var configuration = RedirectConfiguration(
                endpoint: server.endpoint, user: Self.user, password: Self.password,
                connection: .forTests(caFile: caFile))
            configure(&configuration)
            let httpClient = try RedirectClient.makeHTTPClient(configuration: configuration)
            let standIn = StandIn(
                server: server, httpClient: httpClient,
                client: RedirectClient(
                    configuration: configuration, httpClient: httpClient, logger: Logger(label: "test")))
            let result: T
            do {
                result = try await body(standIn)
            } catch {
                try? await httpClient.shutdown()
                throw error
            }
            try await httpClient.shutdown()
            return result
        }
    }
}
