import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import ProvisioningModel
import SnomXMLRPCStandIn
import StandInSupport
import Testing
import XMLRPC

/// The stand-in must be as strict as the API reference, and no more lenient.
@Suite("Stand-in strictness")
struct StandInStrictnessTests {
    static let body = try! XMLRPCEncoder.encodeCall("redirect.checkPhone", ["000413610FF5"])

    func post(
        _ standIn: StandIn, path: String = "/xmlrpc/", contentType: String? = "text/xml",
        authorization: String? = "Basic " + Data("\(StandIn.user):\(StandIn.password)".utf8).base64EncodedString(),
        body: String = Self.body
    ) async throws -> (Int, String) {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(standIn.server.port)\(path)")
        request.method = .POST
        if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
        if let authorization { request.headers.add(name: "Authorization", value: authorization) }
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await standIn.httpClient.execute(request, timeout: .seconds(5))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), String(buffer: bytes))
    }

    /// The API reference's curl examples, byte for byte (its indentation and `<?xml version="1.0"?>` included), not
    /// an encoding of ours: the stand-in must take what the reference sends and answer what it shows.
    static let publishedRegister = """
        <?xml version="1.0"?>
        <methodCall>
         <methodName>redirect.registerPhone</methodName>
         <params>
          <param>
           <value><string>000413610FF5</string></value>
          </param>
          <param>
           <value><string>http://provisioning.myserver.com/snom?mac={mac}</string></value>
          </param>
         </params>
        </methodCall>
        """
    static let publishedDeregister = """
        <?xml version="1.0"?>
        <methodCall>
         <methodName>redirect.deregisterPhone</methodName>
         <params>
          <param>
           <value><string>000413610FF5</string></value>
          </param>
         </params>
        </methodCall>
        """

    @Test("the reference's own requests are answered as the reference shows")
    func referenceRequest() async throws {
        try await StandIn.withStandIn { (standIn: StandIn) async throws in
            var (status, text) = try await self.post(standIn, body: Self.publishedRegister)
            #expect(status == 200)
            #expect(try XMLRPCDecoder().decodeResponse(Array(text.utf8)) == .value([true, "Ok"]))
            #expect(
                await standIn.state.registration("000413610FF5")?.url
                    == "http://provisioning.myserver.com/snom?mac={mac}")
            (status, text) = try await self.post(standIn, body: Self.publishedDeregister)
            #expect(status == 200)
            #expect(try XMLRPCDecoder().decodeResponse(Array(text.utf8)) == .value([true, "Ok"]))
            #expect(await standIn.state.registration("000413610FF5") == nil)
        }
    }

    @Test("a missing trailing slash is an error")
    func trailingSlash() async throws {
        try await StandIn.withStandIn { (standIn: StandIn) async throws in
            #expect(try await self.post(standIn, path: "/xmlrpc").0 == 404)
        }
    }

    @Test(
        "a body that is not text/xml is rejected",
        arguments: [nil, "application/xml", "text/plain", "application/json"])
    func contentType(_ type: String?) async throws {
        try await StandIn.withStandIn { (standIn: StandIn) async throws in
            #expect(try await self.post(standIn, contentType: type).0 == 415)
        }
    }

    @Test(
        "basic auth is checked",
        arguments: [
            nil, "Basic " + Data("alice:wrong".utf8).base64EncodedString(), "Bearer abc", "Basic !!!",
            "Basic " + Data("nobody:s3cret-Pa55!".utf8).base64EncodedString(),
        ])
    func basicAuth(_ authorization: String?) async throws {
        try await StandIn.withStandIn { (standIn: StandIn) async throws in
            #expect(try await self.post(standIn, authorization: authorization).0 == 401)
        }
    }

    @Test("a MAC written with colons is Error:malformed_mac")
    func colonMAC() async throws {
        try await StandIn.withStandIn { (standIn: StandIn) async throws in
            let body = try XMLRPCEncoder.encodeCall(
                "redirect.registerPhone", ["00:04:13:61:0F:F5", "http://x.example/"])
            let (status, text) = try await self.post(standIn, body: body)
            #expect(status == 200)
            #expect(try XMLRPCDecoder().decodeResponse(Array(text.utf8)) == .value([false, "Error:malformed_mac"]))
        }
    }

    @Test("an unknown method, wrong arity and broken XML are faults")
    func faults() async throws {
        try await StandIn.withStandIn { (standIn: StandIn) async throws in
            for body in [
                try XMLRPCEncoder.encodeCall("redirect.unknown", []),
                try XMLRPCEncoder.encodeCall("redirect.checkPhone", []),
                try XMLRPCEncoder.encodeCall("redirect.checkPhone", [.int(1)]),
                "<methodCall><methodName>redirect.checkPhone",
            ] {
                let (status, text) = try await self.post(standIn, body: body)
                #expect(status == 200)
                guard case .fault = try XMLRPCDecoder().decodeResponse(Array(text.utf8)) else {
                    Issue.record("expected a fault for \(body)")
                    continue
                }
            }
        }
    }

    @Test("only POST is taken")
    func onlyPost() async throws {
        try await StandIn.withStandIn { (standIn: StandIn) async throws in
            let response = try await standIn.httpClient.execute(
                HTTPClientRequest(url: "http://127.0.0.1:\(standIn.server.port)/xmlrpc/"), timeout: .seconds(5))
            #expect(response.status == .methodNotAllowed)
        }
    }
}
