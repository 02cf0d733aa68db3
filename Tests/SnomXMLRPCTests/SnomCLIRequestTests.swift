import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SnomXMLRPCStandIn
import Testing
import XMLRPC

/// Requests built byte for byte the way Snom's own redirection CLI (Snomio/RDS-CLI `cli.py`, on Python 3's
/// `xmlrpc.client`) builds them, over HTTPS as it always connects. Operators use that client against the real
/// service, so the stand-in must answer each of its commands; and it must stay strict about everything else.
@Suite("Stand-in and Snom's own CLI")
struct SnomCLIRequestTests {
    static let mac = "00041392ABCD"

    /// A request as the CLI sends it: `Content-Type: text/xml` twice (once from `xmlrpc.client`, once from the CLI's
    /// `send_content` override), basic auth on every request, `Accept-Encoding: gzip`, and the library's layout.
    static func cliRequest(
        _ standIn: StandIn, _ method: String, _ params: [XMLRPCValue?], password: String = StandIn.password,
        contentTypes: [String] = ["text/xml", "text/xml"]
    ) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: standIn.server.endpoint)
        request.method = .POST
        request.headers.add(name: "Accept-Encoding", value: "gzip")
        request.headers.add(name: "Content-Type", value: contentTypes[0])
        request.headers.add(name: "User-Agent", value: "Python-xmlrpc/3.11")
        for type in contentTypes.dropFirst() { request.headers.add(name: "Content-Type", value: type) }
        request.headers.add(
            name: "Authorization", value: "Basic " + Data("\(StandIn.user):\(password)".utf8).base64EncodedString())
        var body = "<?xml version='1.0'?>\n<methodCall>\n<methodName>\(method)</methodName>\n<params>\n"
        for param in params {
            switch param {
            case .string(let text)?: body += "<param>\n<value><string>\(text)</string></value>\n</param>\n"
            default: body += "<param>\n<value><nil/></value></param>\n"
            }
        }
        body += "</params>\n</methodCall>\n"
        request.body = .bytes(ByteBuffer(string: body))
        return request
    }

    static func call(
        _ standIn: StandIn, _ method: String, _ params: [XMLRPCValue?], password: String = StandIn.password,
        contentTypes: [String] = ["text/xml", "text/xml"]
    ) async throws -> (status: Int, answer: XMLRPCValue?) {
        let request = Self.cliRequest(standIn, method, params, password: password, contentTypes: contentTypes)
        let response = try await standIn.httpClient.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        guard response.status == .ok else { return (Int(response.status.code), nil) }
        guard case .value(let value) = try XMLRPCDecoder().decodeResponse(Array(buffer: body)) else {
            return (200, nil)
        }
        return (200, value)
    }

    @Test("every command of the CLI, in the order it makes its calls")
    func commands() async throws {
        try await StandIn.withStandIn(tls: true) { standIn in
            // The password check: `network.echo("ping")` needs only an answer.
            var result = try await Self.call(standIn, "network.echo", [.string("ping")])
            #expect(result.status == 200 && result.answer == "ping")
            // A wrong password is a 401, which the CLI reports before asking again.
            #expect(try await Self.call(standIn, "network.echo", [.string("ping")], password: "wrong").status == 401)

            // add: checkPhone, then registerPhone.
            result = try await Self.call(standIn, "redirect.checkPhone", [.string(Self.mac)])
            #expect(result.answer == [false, "Error:no_such_mac"])
            result = try await Self.call(
                standIn, "redirect.registerPhone", [.string(Self.mac), .string("http://prov.example.com/")])
            #expect(result.answer == [true, "Ok"])
            // check: checkPhone, then getPhoneRedirection.
            result = try await Self.call(standIn, "redirect.checkPhone", [.string(Self.mac)])
            #expect(result.answer == [true, "Ok"])
            result = try await Self.call(standIn, "redirect.getPhoneRedirection", [.string(Self.mac)])
            #expect(result.answer == [true, "Our Company", "http://prov.example.com/"])
            // list MODEL: listPhones with an explicit nil for the URL; list MODEL URL: with the URL.
            result = try await Self.call(standIn, "redirect.listPhones", [.string("snomD785"), nil])
            #expect(result.answer == [.string(Self.mac.lowercased())])
            result = try await Self.call(
                standIn, "redirect.listPhones", [.string("snomD785"), .string("http://other.example.com/")])
            #expect(result.answer == [])
            // update: deregisterPhone, then registerPhone; remove: deregisterPhone.
            result = try await Self.call(standIn, "redirect.deregisterPhone", [.string(Self.mac)])
            #expect(result.answer == [true, "Ok"])
            result = try await Self.call(
                standIn, "redirect.registerPhone", [.string(Self.mac), .string("http://new.example.com/")])
            #expect(result.answer == [true, "Ok"])
            #expect(await standIn.state.registration(Self.mac)?.url == "http://new.example.com/")
            result = try await Self.call(standIn, "redirect.deregisterPhone", [.string(Self.mac)])
            #expect(result.answer == [true, "Ok"])
            #expect(await standIn.state.registration(Self.mac) == nil)
        }
    }

    @Test("still strict: a second Content-Type that is not text/xml, a nil MAC, colons in a MAC")
    func stillStrict() async throws {
        try await StandIn.withStandIn(tls: true) { standIn in
            #expect(
                try await Self.call(
                    standIn, "redirect.checkPhone", [.string(Self.mac)], contentTypes: ["text/xml", "application/json"]
                ).status == 415)
            #expect(
                try await Self.call(
                    standIn, "redirect.checkPhone", [.string(Self.mac)], contentTypes: ["application/xml", "text/xml"]
                ).status == 415)
            let nilMAC = try await Self.call(standIn, "redirect.checkPhone", [nil])
            #expect(nilMAC.status == 200 && nilMAC.answer == nil, "a fault, not an answer")
            let colons = try await Self.call(standIn, "redirect.checkPhone", [.string("00:04:13:92:AB:CD")])
            #expect(colons.answer == [false, "Error:malformed_mac"])
            let noArgument = try await Self.call(standIn, "network.echo", [])
            #expect(noArgument.status == 200 && noArgument.answer == nil, "a fault")
        }
    }
}
