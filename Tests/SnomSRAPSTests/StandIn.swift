import AsyncHTTPClient
import Foundation
import Hawk
import Logging
import NIOCore
import NIOHTTP1
import ProvisioningModel
import SnomSRAPS
import SnomSRAPSStandIn
import StandInSupport
import Testing
import VendorTestSupport

/// Starts an SRAPS stand-in with our key and another company's, and gives a client for ours, over HTTP or HTTPS.
typealias StandIn = VendorStandIn<FakeSRAPSState, SRAPSClient>

extension StandIn {
    static var keyID: String { "ak-0f4e1c" }
    /// Distinctive, so that a test can look for it in every message.
    static var keySecret: String { "sk-SECRET-7b1d93e0aa4f" }
    static var company: String { "5b0e7a7e-1111-4c2d-9a53-0d8f7f3c0001" }
    static var companyName: String { "Our Company" }
    static var otherKeyID: String { "ak-other" }
    static var otherCompany: String { "5b0e7a7e-2222-4c2d-9a53-0d8f7f3c0002" }

    static func makeState(grape: Bool = false) -> FakeSRAPSState {
        FakeSRAPSState(
            keys: [
                Self.keyID: .init(secret: Self.keySecret, company: Self.company),
                Self.otherKeyID: .init(secret: "sk-other", company: Self.otherCompany),
            ],
            companies: [Self.company: Self.companyName, Self.otherCompany: "Other Company"], grape: grape)
    }

    @discardableResult
    static func withStandIn<T>(
        tls: Bool = false, grape: Bool = false,
        configure: (inout SRAPSConfiguration) -> Void = { _ in },
        _ body: (StandIn) async throws -> T
    ) async throws -> T {
        let authority = tls ? try PrivateCertificateAuthority() : nil
        return try await RunningFakeSRAPS.with(state: Self.makeState(grape: grape), tls: authority) { server in
            var caFile: String?
            if let authority {
                let path = FileManager.default.temporaryDirectory.appendingPathComponent("sraps-ca-\(UUID()).pem").path
                try authority.caCertificatePEM.write(toFile: path, atomically: true, encoding: .utf8)
                caFile = path
            }
            defer { if let caFile { try? FileManager.default.removeItem(atPath: caFile) } }
            var configuration = SRAPSConfiguration(
                service: grape ? .grape : .snom, baseURL: server.baseURL, keyID: Self.keyID, keySecret: Self.keySecret,
                connection: .forTests(caFile: caFile))
            configure(&configuration)
            let httpClient = try SRAPSClient.makeHTTPClient(configuration: configuration)
            let result: Result<T, any Error>
            do {
                let client = try SRAPSClient(
                    configuration: configuration, httpClient: httpClient, logger: Logger(label: "test"))
                result = .success(try await body(StandIn(server: server, client: client, httpClient: httpClient)))
            } catch {
                result = .failure(error)
            }
            try await httpClient.shutdown()
            return try result.get()
        }
    }

    /// An answer to a request sent by hand.
    struct RawAnswer {
        var status: Int
        var headers: HTTPHeaders
        var body: String
    }

    /// Sends a request signed by hand, as another client would: with or without a payload hash, at a chosen
    /// timestamp and nonce, so that a test can replay it or send what provhook's client never sends.
    func raw(
        _ method: HTTPMethod, _ path: String, body: String? = nil, contentType: String? = "application/json",
        hashPayload: Bool = true, signedBody: String? = nil, keyID: String = StandIn.keyID,
        secret: String = StandIn.keySecret,
        timestamp: Int64 = Int64(Date().timeIntervalSince1970), nonce: String = HawkClient.makeNonce()
    ) async throws -> RawAnswer {
        let url = self.server.baseURL + path
        let parsed = try #require(URLComponents(string: url))
        let resource = parsed.percentEncodedPath + (parsed.percentEncodedQuery.map { "?" + $0 } ?? "")
        let target = try HawkRequestTarget(
            method: method.rawValue, scheme: try #require(parsed.scheme), host: try #require(parsed.host),
            port: parsed.port, resource: resource)
        let payload = (signedBody ?? body).flatMap {
            hashPayload ? HawkPayload(contentType: contentType, text: $0) : nil
        }
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(
            name: "Authorization",
            value: try HawkClient.authorization(
                for: target, credentials: HawkCredentials(id: keyID, key: secret), timestamp: timestamp, nonce: nonce,
                payload: payload))
        if let body {
            if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await self.httpClient.execute(request, timeout: .seconds(5))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        return RawAnswer(
            status: Int(response.status.code), headers: response.headers, body: String(buffer: bytes))
    }

    /// The path of our company's record of `mac`, after the base URL.
    static func endpointPath(_ mac: String) -> String { "companies/\(Self.company)/endpoints/\(mac)" }
}
