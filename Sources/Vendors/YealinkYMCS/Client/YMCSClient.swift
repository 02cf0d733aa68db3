import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import ProvisioningModel
import Synchronization
import VendorHTTP

/// The client of Yealink's YMCS (API v2) for one account, and `ProvisioningService` on top of it.
///
/// It authenticates with OAuth client credentials (`v2/token`, basic auth), keeps the bearer token until a minute
/// before it expires, and fetches it again once when a request is answered 401. Every request carries `timestamp`
/// (Unix milliseconds) and `nonce` (32 hex digits) headers. Phones are registered by MAC in batches of up to 100
/// (`addDevicesByMac`), each with its own URL; YMCS has no edit call, so a MAC the account already holds is deleted
/// and added again. Failures become typed `RedirectError`s that never hold the secret.
public struct YMCSClient: Sendable {
    /// The settings this client was made with.
    public let configuration: YMCSConfiguration
    let httpClient: HTTPClient
    let logger: Logger
    private let token: TokenCache
    /// Whether phones go by serial number: the account says so, or YMCS answered that MAC-only registration is not
    /// enabled for it (remembered for this client's life; the database remembers it for the account).
    let serialMode: SerialMode

    /// Makes a client that sends its requests through `httpClient`, which the caller owns and shuts down.
    public init(configuration: YMCSConfiguration, httpClient: HTTPClient, logger: Logger) {
        self.configuration = configuration
        self.httpClient = httpClient
        self.logger = logger
        self.token = TokenCache()
        self.serialMode = SerialMode(configuration.serialRequired)
    }

    /// Makes a client with an HTTP connection pool of its own, and the function that closes that pool.
    public static func withOwnPool(
        configuration: YMCSConfiguration, logger: Logger
    ) throws(YMCSConfigurationError) -> (client: YMCSClient, close: @Sendable () async -> Void) {
        try configuration.validate()
        return try VendorHTTP.withOwnPool(configuration.connection) { (httpClient) throws(YMCSConfigurationError) in
            YMCSClient(configuration: configuration, httpClient: httpClient, logger: logger)
        }
    }

    /// The MAC as YMCS's clients send it: 12 lowercase hex digits.
    static func spelled(_ mac: MACAddress) -> String { mac.canonical.lowercased() }

    // MARK: - Calls

    /// `POST v2/rps/addDevicesByMac` for at most 100 MACs, each pointed at `url`: the refusal of each MAC that
    /// failed, by MAC; or `.macOnlyNotEnabled` for every one when the account may not register by MAC alone.
    func addDevicesByMAC(_ macs: [MACAddress], url: String) async throws(RedirectError) -> [MACAddress: YMCSRefusal] {
        let body = macs.map { ["mac": Self.spelled($0), "uniqueServerUrl": url] }
        let answer = try await self.post("v2/rps/addDevicesByMac", body)
        if answer.status != 200 {
            let refusal = try Self.refusal(answer)
            return Dictionary(uniqueKeysWithValues: macs.map { ($0, refusal) })
        }
        let batch: YMCSBatchAnswer = try Self.decode(answer)
        var refusals: [MACAddress: YMCSRefusal] = [:]
        for failure in batch.errors ?? [] {
            guard let mac = MACAddress(failure.mac) else {
                throw .invalidResponse("a failure names \(String(failure.mac.prefix(32)).debugDescription), not a MAC")
            }
            let text = failure.errorInfo ?? ""
            refusals[mac] = YMCSRefusal(code: nil, text: text)
        }
        return refusals
    }

    /// `POST v2/rps/devices` with the serial number: nil when added, else the refusal.
    func addDevice(_ mac: MACAddress, serial: String, url: String) async throws(RedirectError) -> YMCSRefusal? {
        let answer = try await self.post(
            "v2/rps/devices", ["mac": Self.spelled(mac), "sn": serial, "uniqueServerUrl": url])
        return (200...299).contains(answer.status) ? nil : try Self.refusal(answer)
    }

    /// `POST v2/rps/delDevices` by MAC: the MACs YMCS could not delete, with its words.
    func deleteDevices(_ macs: [MACAddress]) async throws(RedirectError) -> [MACAddress: YMCSRefusal] {
        let answer = try await self.post(
            "v2/rps/delDevices", DeleteRequest(deviceIdType: "mac", deviceIds: macs.map(Self.spelled)))
        if answer.status != 200 {
            let refusal = try Self.refusal(answer)
            return Dictionary(uniqueKeysWithValues: macs.map { ($0, refusal) })
        }
        let deleted: YMCSDeleteAnswer = try Self.decode(answer)
        var refusals: [MACAddress: YMCSRefusal] = [:]
        for failure in deleted.errors ?? [] {
            guard let field = failure.field, let mac = MACAddress(field) else { continue }
            refusals[mac] = YMCSRefusal(code: nil, text: failure.msg ?? "")
        }
        return refusals
    }

    /// Every page of `POST v2/rps/listDevices`, or only `mac`'s device.
    func listDevices(mac: MACAddress? = nil) async throws(RedirectError) -> [YMCSDevice] {
        var devices: [YMCSDevice] = []
        var skip = 0
        while true {
            let request = ListRequest(
                skip: skip, limit: self.configuration.pageSize, autoCount: true,
                filter: mac.map { ListRequest.Filter(mac: Self.spelled($0)) })
            let answer = try await self.post("v2/rps/listDevices", request)
            guard answer.status == 200 else { throw .invalidResponse("listDevices: \(try Self.refusal(answer).code)") }
            let page: YMCSDevicePage = try Self.decode(answer)
            devices += page.data
            skip += page.data.count
            // The last page: a short one, or the total reached. An empty page ends it whatever the total says.
            if page.data.isEmpty || page.data.count < self.configuration.pageSize || skip >= (page.total ?? skip) {
                return devices
            }
            guard devices.count <= 1_000_000 else { throw .invalidResponse("listDevices did not end") }
        }
    }

    /// `POST v2/rps/listDevicePins`: the PIN YMCS keeps for each MAC that has one. Only the MACs asked about are
    /// taken, with a PIN of 1 to 32 ASCII letters and digits: anything else the service says is dropped, since the
    /// operator is shown it as it is.
    public func devicePINs(_ macs: [MACAddress]) async throws(RedirectError) -> [MACAddress: String] {
        struct PIN: Decodable {
            var mac: String
            var pin: String?
        }
        let answer = try await self.post("v2/rps/listDevicePins", ["macs": macs.map(Self.spelled)])
        guard answer.status == 200 else { throw .invalidResponse("listDevicePins: \(try Self.refusal(answer).code)") }
        let pins: [PIN] = try Self.decode(answer)
        let asked = Set(macs)
        return Dictionary(
            pins.compactMap { pin in
                guard let mac = MACAddress(pin.mac), asked.contains(mac), let value = pin.pin,
                    (1...32).contains(value.utf8.count),
                    value.utf8.allSatisfy({
                        (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0)
                    })
                else { return nil }
                return (mac, value)
            }
        ) { first, _ in first }
    }

    /// Fetches a token: what `checkCredentials` asks.
    func fetchToken() async throws(RedirectError) -> String {
        var request = HTTPClientRequest(url: self.configuration.baseURL + "v2/token")
        request.method = .POST
        let credentials = Data("\(self.configuration.clientID):\(self.configuration.clientSecret)".utf8)
        request.headers.add(name: "Authorization", value: "Basic " + credentials.base64EncodedString())
        self.addCommonHeaders(&request)
        request.body = .bytes(ByteBuffer(string: #"{"grant_type":"client_credentials"}"#))
        let answer = try await VendorHTTP.exchange(
            request, on: self.httpClient, deadline: self.configuration.connection.callDeadline,
            maxBytes: self.configuration.maxResponseBytes)
        switch answer.status {
        case 200: break
        case 400, 401, 403: throw .authenticationFailed(status: answer.status)
        default: try Self.checkTransient(answer)
        }
        let token: YMCSToken = try Self.decode(answer)
        guard !token.accessToken.isEmpty, token.expiresIn > 0 else {
            throw .invalidResponse("the token answer has no token or no lifetime")
        }
        self.token.store(token.accessToken, lifetime: .seconds(token.expiresIn))
        return token.accessToken
    }

    // MARK: - Transport

    /// Posts `body` as JSON with the bearer token (fetched again once when the service answers 401); 401/403 after
    /// that, 429, 5xx and transport failures are thrown, other answers returned for the caller to read.
    func post(_ path: String, _ body: some Encodable) async throws(RedirectError) -> HTTPAnswer {
        let bytes: Data
        do { bytes = try JSONEncoder().encode(body) } catch { throw .invalidRequest("cannot encode \(path)") }
        var fresh = false
        var bearer: String
        if let cached = self.token.current() {
            bearer = cached
        } else {
            bearer = try await self.fetchToken()
            fresh = true
        }
        while true {
            var request = HTTPClientRequest(url: self.configuration.baseURL + path)
            request.method = .POST
            request.headers.add(name: "Authorization", value: "Bearer \(bearer)")
            self.addCommonHeaders(&request)
            request.body = .bytes(ByteBuffer(bytes: bytes))
            let started = ContinuousClock.now
            let answer = try await VendorHTTP.exchange(
                request, on: self.httpClient, deadline: self.configuration.connection.callDeadline,
                maxBytes: self.configuration.maxResponseBytes)
            self.logger.debug(
                "YMCS request answered",
                metadata: [
                    "path": "\(path)", "status": "\(answer.status)",
                    "latency_ms": "\((ContinuousClock.now - started).wholeMilliseconds)",
                ])
            if answer.status == 401, !fresh {
                // The token expired early or was revoked: one more, then the answer stands.
                self.token.clear()
                bearer = try await self.fetchToken()
                fresh = true
                continue
            }
            switch answer.status {
            case 401: throw .authenticationFailed(status: 401)
            case 403 where YMCSError.of(answer)?.code != "900501": throw .authenticationFailed(status: 403)
            default: try Self.checkTransient(answer)
            }
            return answer
        }
    }

    private func addCommonHeaders(_ request: inout HTTPClientRequest) {
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "provhook")
        request.headers.add(name: "timestamp", value: String(Int64(Date().timeIntervalSince1970 * 1000)))
        var generator = SystemRandomNumberGenerator()
        let nonce = (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }
        request.headers.add(name: "nonce", value: nonce.joined())
    }

    /// 429 (and YMCS's 900429), 5xx and redirects are not answers to the call.
    private static func checkTransient(_ answer: HTTPAnswer) throws(RedirectError) {
        let retryAfter = RetryAfter.seconds(answer.headers.first(name: "Retry-After"))
        switch answer.status {
        case 429: throw .rateLimited(retryAfterSeconds: retryAfter)
        case 500...599: throw .serverError(status: answer.status)
        case 300...399: throw .unexpectedStatus(answer.status)
        default:
            if YMCSError.of(answer)?.code == "900429" { throw .rateLimited(retryAfterSeconds: retryAfter) }
        }
    }

    /// The refusal a non-200 answer carries; an answer that is no YMCS error is an unexpected status.
    static func refusal(_ answer: HTTPAnswer) throws(RedirectError) -> YMCSRefusal {
        guard let error = YMCSError.of(answer), error.code != nil || error.message != nil else {
            throw .unexpectedStatus(answer.status)
        }
        if error.code == "800006" { throw .invalidRequest("YMCS refused the batch as too large (800006)") }
        return YMCSRefusal(code: error.code, text: error.text)
    }

    static func decode<T: Decodable>(_ answer: HTTPAnswer) throws(RedirectError) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(answer.body))
        } catch {
            throw .invalidResponse("YMCS answered HTTP \(answer.status) with an unexpected body")
        }
    }

    struct DeleteRequest: Encodable {
        var deviceIdType: String
        var deviceIds: [String]
    }

    struct ListRequest: Encodable {
        struct Filter: Encodable { var mac: String }
        var skip: Int
        var limit: Int
        var autoCount: Bool
        var filter: Filter?
    }
}

/// Whether phones go by serial number, learned once and kept.
final class SerialMode: Sendable {
    private let state: Mutex<Bool>
    init(_ on: Bool) { self.state = Mutex(on) }
    var isOn: Bool { self.state.withLock { $0 } }
    func turnOn() { self.state.withLock { $0 = true } }
}

/// The bearer token and when to stop using it: a minute before YMCS says it expires.
final class TokenCache: Sendable {
    private let state = Mutex<(token: String, until: ContinuousClock.Instant)?>(nil)

    func current() -> String? {
        self.state.withLock { state in
            guard let state, ContinuousClock.now < state.until else { return nil }
            return state.token
        }
    }

    func store(_ token: String, lifetime: Duration) {
        let margin = min(.seconds(60), lifetime / 2)
        self.state.withLock { $0 = (token, ContinuousClock.now + lifetime - margin) }
    }

    func clear() { self.state.withLock { $0 = nil } }
}
