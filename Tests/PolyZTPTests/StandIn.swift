import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import PolyZTP
import PolyZTPStandIn
import StandInSupport
import VendorTestSupport

/// Starts a Poly ZTP stand-in with our organisation's key and another's, and gives a client for ours, over HTTP or
/// HTTPS.
typealias StandIn = VendorStandIn<FakePolyZTPState, PolyZTPClient>

extension StandIn {
    /// Distinctive, so that a test can look for it in every message.
    static var key: String { "ztp-KEY-SECRET-5d81c0" }
    static var organization: String { "ours" }
    static var otherKey: String { "ztp-other-key" }
    static var otherOrganization: String { "theirs" }

    /// A client of the stand-in with other settings (another key, a fixed profile, a page size), sharing the HTTP
    /// client.
    func client(key: String = Self.key, profile: String? = nil, pageSize: Int? = nil) throws -> PolyZTPClient {
        var configuration = self.client.configuration
        configuration.apiKey = key
        configuration.profile = profile
        if let pageSize { configuration.pageSize = pageSize }
        return try PolyZTPClient(configuration: configuration, httpClient: self.httpClient, logger: Logger(label: "t"))
    }

    @discardableResult
    static func with<T>(tls: Bool = false, _ body: (StandIn) async throws -> T) async throws -> T {
        try await Self.with(
            state: FakePolyZTPState(keys: [Self.key: Self.organization, Self.otherKey: Self.otherOrganization]),
            tls: tls,
            client: { url, caFile in
                let configuration = PolyZTPConfiguration(
                    baseURL: url, apiKey: Self.key, connection: .forTests(caFile: caFile))
                return try PolyZTPClient.withOwnPool(configuration: configuration, logger: Logger(label: "t"))
            }, body)
    }

    /// Sends a request to `path` under `/v1` with our key (unless `key` says otherwise; nil: no header) and
    /// `contentType`: the stand-in's answer, status and text.
    func request(
        _ method: HTTPMethod, _ path: String, body: String? = nil, contentType: String? = "application/json",
        key: String? = Self.key
    ) async throws -> (status: Int, text: String) {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(self.server.port)/v1\(path)")
        request.method = method
        if let key { request.headers.add(name: "API-KEY", value: key) }
        if let body {
            if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await self.httpClient.execute(request, timeout: .seconds(5))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), String(buffer: bytes))
    }

    /// Adds a profile of ours at `address` through the API: its id.
    func makeProfile(_ name: String, address: String) async throws -> String {
        let answer = try await self.request(
            .POST, "/profiles",
            body:
                #"{"name": "\#(name)", "enabled": true, "template": {"provisioning": {"server": {"address": "\#(address)"}}}}"#
        )
        let object = try JSONSerialization.jsonObject(with: Data(answer.text.utf8)) as? [String: Any]
        guard answer.status == 201, let id = object?["id"] as? String else {
            throw StandInError("profile not created: \(answer.status) \(answer.text)")
        }
        return id
    }
}

struct StandInError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
