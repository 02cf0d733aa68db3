import AsyncHTTPClient
import FakePBXService
import Foundation
import Integrations
import NIOCore
import NIOHTTP1
import NIOSSL
import ProvHookCore
import ProvHookTestSupport
import ProvisioningModel
import SnomXMLRPCStandIn
import StandInSupport
import Testing

/// The PBX API clients against the stand-ins, and the stand-ins' own strictness: what the real services refuse,
/// they refuse, with the bodies the services' sources give.
@Suite("PBX API clients and stand-ins")
struct PBXClientTests {
    static let apiKey = String(repeating: "9e", count: 32)
    static let account = "a1b2c3d4e5f60718293a4b5c6d7e8f90"

    static func state() -> FakePBXState {
        FakePBXState(
            kazooAccounts: [
                Self.account: .init(
                    apiKey: Self.apiKey,
                    devices: ["dev1": .init(macAddress: "000413610ff5", brand: "snom", model: "D785")])
            ],
            wazoUsers: ["provhook": ("secret-password", "tenant-1")],
            wazoDevices: [
                "w1": .init(
                    mac: "00:04:13:61:0f:f5", vendor: "Snom", model: "D785", tenantUUID: "tenant-1",
                    sn: " 8011918034501234 "),
                // confd's sn is free text: one that is no serial number is read as none.
                "w2": .init(mac: nil, tenantUUID: "tenant-1", sn: "see the label"),
            ])
    }

    static func with(_ body: (RunningFakePBX) async throws -> Void) async throws {
        try await RunningFakePBX.with(state: Self.state(), body)
    }

    @Test("crossbar: the MAC, model and brand of a device; a bad key, an unknown device and a dead server each say so")
    func kazoo() async throws {
        try await Self.with { pbx in
            let client = try KazooCrossbar(configuration: .init(baseURL: pbx.kazooURL, secret: Self.apiKey))
            let device = try await client.device(id: "dev1", account: nil)
            #expect(device == DirectoryDevice(mac: MACAddress("000413610FF5"), model: "snom D785", brand: "snom"))
            // The listing has no provision block: neither model nor brand.
            let listed = try await client.devices(account: nil, after: nil, pageSize: 10).devices
            #expect(
                listed == [
                    ListedDevice(id: "dev1", mac: MACAddress("000413610FF5"), enabled: true, model: nil, brand: nil)
                ])
            await #expect(throws: DirectoryError.notFound("crossbar has no device nope in account \(Self.account)")) {
                try await client.device(id: "nope", account: Self.account)
            }
            await #expect(throws: DirectoryError.self) { try await client.device(id: "../etc", account: nil) }
            await client.shutdown()

            let wrong = try KazooCrossbar(
                configuration: .init(baseURL: pbx.kazooURL, secret: String(repeating: "0", count: 64)))
            do throws(DirectoryError) {
                _ = try await wrong.device(id: "dev1", account: nil)
                Issue.record("an unknown API key was accepted")
            } catch {
                #expect(error.code.rawValue == "lookup_unauthorized" && error.isTransient)
                #expect(!error.description.contains("0000000000"), "the key is never in a message")
            }
            await wrong.shutdown()
        }
        let dead = try KazooCrossbar(
            configuration: .init(baseURL: "http://127.0.0.1:1/v2", secret: Self.apiKey, connectTimeout: .seconds(2)))
        do throws(DirectoryError) {
            _ = try await dead.device(id: "dev1", account: nil)
            Issue.record("a dead server answered")
        } catch {
            #expect(error.code.rawValue == "lookup_unavailable" && error.isTransient)
        }
        await dead.shutdown()
    }

    @Test(
        "Wazo: a token from wazo-auth, the device from confd (its serial number too); no MAC, wrong password and slowness each say so"
    )
    func wazo() async throws {
        try await Self.with { pbx in
            let client = try WazoConfd(
                configuration: .init(
                    baseURL: pbx.baseURL, user: "provhook", secret: "secret-password", tenant: "tenant-1"))
            #expect(try await client.device(id: "w1", account: nil).mac == MACAddress("000413610FF5"))
            #expect(
                try await client.device(id: "w2", account: nil) == DirectoryDevice(mac: nil, model: nil, brand: nil))
            await #expect(throws: DirectoryError.notFound("confd has no device w9")) {
                try await client.device(id: "w9", account: nil)
            }
            // A revoked token is replaced once, transparently.
            await pbx.state.revokeTokens()
            let w1 = try await client.device(id: "w1", account: nil)
            #expect(w1.model == "Snom D785" && w1.brand == "Snom", "the brand is confd's vendor, as written: \(w1)")
            #expect(w1.serial == "8011918034501234", "the serial number is confd's sn, trimmed: \(w1)")
            // The listing gives them too.
            let listed = try await client.devices(account: nil, after: nil, pageSize: 10).devices
            #expect(
                listed == [
                    ListedDevice(
                        id: "w1", mac: MACAddress("000413610FF5"), enabled: true, model: "Snom D785", brand: "Snom",
                        serial: "8011918034501234"),
                    ListedDevice(id: "w2", mac: nil, enabled: true, model: nil, brand: nil, serial: nil),
                ])
            let logins = await pbx.state.requests.filter { $0.path == "/api/auth/0.1/token" }.count
            #expect(logins == 2)

            await pbx.state.setLatency(.seconds(3))
            let impatient = try WazoConfd(
                configuration: .init(
                    baseURL: pbx.baseURL, user: "provhook", secret: "secret-password", readTimeout: .seconds(1)))
            do throws(DirectoryError) {
                _ = try await impatient.device(id: "w1", account: nil)
                Issue.record("a slow PBX did not time out")
            } catch {
                #expect(error.code.rawValue == "lookup_unavailable")
            }
            await pbx.state.setLatency(.zero)
            await impatient.shutdown()
            await client.shutdown()

            let wrong = try WazoConfd(
                configuration: .init(baseURL: pbx.baseURL, user: "provhook", secret: "not-the-password"))
            await #expect(throws: DirectoryError.unauthorized("wazo-auth refused user provhook (401)")) {
                try await wrong.device(id: "w1", account: nil)
            }
            await wrong.shutdown()
        }
    }

    @Test("over TLS: the API's certificate is verified, against the CA file when one is given")
    func tls() async throws {
        let authority = try PrivateCertificateAuthority()
        try await RunningFakePBX.with(state: Self.state(), tls: try authority.serverTLSConfiguration()) { pbx in
            let caFile = try TemporaryFile.write(authority.caCertificatePEM, suffix: ".pem")
            defer { try? FileManager.default.removeItem(atPath: caFile) }
            #expect(pbx.baseURL.hasPrefix("https://"))
            let trusting = try WazoConfd(
                configuration: .init(baseURL: pbx.baseURL, user: "provhook", secret: "secret-password", caFile: caFile))
            #expect(try await trusting.device(id: "w1", account: nil).mac == MACAddress("000413610FF5"))
            await trusting.shutdown()
            let untrusting = try WazoConfd(
                configuration: .init(baseURL: pbx.baseURL, user: "provhook", secret: "secret-password"))
            do throws(DirectoryError) {
                _ = try await untrusting.device(id: "w1", account: nil)
                Issue.record("a certificate from an unknown CA was accepted")
            } catch {
                #expect(error.code.rawValue == "lookup_unavailable" && error.isTransient, "\(error)")
            }
            await untrusting.shutdown()
            #expect(throws: DirectoryError.self, "an unreadable CA file is refused") {
                _ = try KazooCrossbar(
                    configuration: .init(baseURL: pbx.kazooURL, secret: Self.apiKey, caFile: "/nonexistent"))
            }
        }
    }

    @Test("the stand-ins refuse what the services refuse")
    func strictness() async throws {
        try await Self.with { pbx in
            func send(
                _ method: HTTPMethod, _ path: String, body: String? = nil, headers: [(String, String)] = []
            ) async throws -> (Int, String) {
                var request = HTTPClientRequest(url: pbx.baseURL + path)
                request.method = method
                for (name, value) in headers { request.headers.add(name: name, value: value) }
                if let body { request.body = .bytes(ByteBuffer(string: body)) }
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
                return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 1 << 20)))
            }
            let json = [("Content-Type", "application/json")]
            // crossbar: the envelope's data is required, the key is 64 characters, an unknown key is 404.
            var (status, body) = try await send(.PUT, "/v2/api_auth", body: #"{"api_key": "x"}"#, headers: json)
            #expect(status == 400 && body.contains("validation error"))
            (status, body) = try await send(
                .PUT, "/v2/api_auth", body: #"{"data": {"api_key": "short"}}"#, headers: json)
            #expect(status == 400)
            (status, body) = try await send(
                .PUT, "/v2/api_auth", body: #"{"data": {"api_key": "\#(String(repeating: "7", count: 64))"}}"#,
                headers: json)
            #expect(status == 404 && body.contains("bad identifier"))
            (status, _) = try await send(.POST, "/v2/api_auth", body: #"{"data": {"api_key": "\#(Self.apiKey)"}}"#)
            #expect(status == 404 || status == 405, "api_auth is a PUT")
            (status, body) = try await send(.GET, "/v2/accounts/\(Self.account)/devices/dev1")
            #expect(status == 401 && body.contains("invalid_credentials"))
            (status, _) = try await send(
                .GET, "/v2/accounts/\(Self.account)/devices/dev1", headers: [("X-Auth-Token", "made-up")])
            #expect(status == 401)
            // wazo-auth: basic auth is required and the body must be JSON; confd: a valid token is required.
            (status, body) = try await send(.POST, "/api/auth/0.1/token", body: "{}", headers: json)
            #expect(status == 401 && body.contains("Authentication Failed"))
            let basic = [("Authorization", "Basic " + Data("provhook:secret-password".utf8).base64EncodedString())]
            (status, _) = try await send(.POST, "/api/auth/0.1/token", body: "", headers: basic)
            #expect(status == 400, "no body is not {}")
            (status, body) = try await send(.POST, "/api/auth/0.1/token", body: "{}", headers: basic)
            #expect(status == 200 && body.contains("utc_expires_at"))
            (status, _) = try await send(.GET, "/api/confd/1.1/devices/w1")
            #expect(status == 401)
            (status, _) = try await send(.GET, "/api/confd/1.1/devices/w1", headers: [("X-Auth-Token", "made-up")])
            #expect(status == 401)
        }
    }
}
