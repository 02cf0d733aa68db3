import Foundation
import StandInSupport
import XMLRPC

/// The stand-in's data: accounts, registrations, device models, injected failures and a log of every call.
///
/// Tests change it directly, for example to inject drift (a registration the database does not know).
public actor FakeRedirectState {
    /// One account of the service.
    public struct Account: Sendable, Hashable {
        public var password: String
        /// What `getPhoneRedirection` reports as the company.
        public var company: String

        public init(password: String, company: String) { (self.password, self.company) = (password, company) }
    }

    /// One MAC's redirection, owned by one account.
    public struct Registration: Sendable, Hashable {
        public var owner: String
        public var url: String

        public init(owner: String, url: String) { (self.owner, self.url) = (owner, url) }
    }

    /// One call the stand-in received over HTTP.
    public struct Call: Sendable {
        /// The authenticated user, or nil if authentication failed.
        public var user: String?
        /// The XML-RPC method, or nil if the request never got that far.
        public var method: String?
        public var params: [XMLRPCValue]
        /// The HTTP status answered.
        public var status: Int
        public var startedAt: Date
        public var finishedAt: Date

        /// The MACs the call names: its parameters, and the members of its list parameters, that are 12 hex
        /// digits, uppercased.
        public var macs: [String] {
            self.params.flatMap { parameter in
                (parameter.arrayValue ?? [parameter]).compactMap { $0.stringValue.flatMap(FakeRedirectState.validMAC) }
            }
        }
    }

    /// An injected failure, applied before authentication, like a broken load balancer in front of the service.
    public enum Failure: Sendable, Hashable {
        /// Answer with this HTTP status, and a `Retry-After` header when given.
        case status(Int, retryAfter: String? = nil)
        /// Hold the request without answering until `releaseHangs()`, or for at most this long.
        case hang(Duration)
        /// Answer 200 `text/xml` with exactly these bytes, like a broken or hostile service; with an interval, send
        /// them one byte at a time, that long apart.
        case answer([UInt8], byteInterval: Duration? = nil)
        /// Answer with this HTTP status and `Retry-After` after holding the request this long, like a service that
        /// fails slowly: a call in flight whose answer is a failure.
        case slowStatus(Duration, Int, retryAfter: String?)
    }

    public private(set) var accounts: [String: Account]
    /// Registrations by MAC (12 uppercase hex digits).
    public private(set) var registrations: [String: Registration] = [:]
    /// Models by MAC (12 uppercase hex digits), for `listPhones`; MACs not listed have `defaultModel`.
    public var models: [String: String] = [:]
    /// The model of MACs not in `models`.
    public var defaultModel: String
    /// Added to every answer.
    public var latency: Duration = .zero
    /// When true (the default), `getPhoneRedirection` answers `[true, company, url]`: the reference's "return code
    /// True" and "return text company name, redirection URL", and the shape Snom's own CLI reads (`target[0] ==
    /// True`, then `target[1]`, `target[2]`). False answers `[company, url]`, as the reference's example shows.
    public var redirectionWithFlag = true
    private var pendingFailures: [Failure] = []
    private var standingFailure: Failure?
    private var hangGeneration = 0
    public private(set) var calls: [Call] = []
    /// Holds requests for a test, after the latency and before they are applied, and counts them as they arrive (one
    /// more than `calls.count` while a request is being answered).
    public nonisolated let hold = RequestHold()
    private var callObserver: (@Sendable (Call) -> Void)?

    public init(accounts: [String: Account], defaultModel: String = "snomD785") {
        self.accounts = accounts
        self.defaultModel = defaultModel
    }

    // MARK: - Setup and inspection

    public func addAccount(_ user: String, _ account: Account) { self.accounts[user] = account }

    /// Sets a registration directly, bypassing the API (for injecting drift).
    public func setRegistration(_ mac: String, _ registration: Registration?) {
        self.registrations[mac.uppercased()] = registration
    }

    public func registration(_ mac: String) -> Registration? { self.registrations[mac.uppercased()] }

    /// How many MACs are registered.
    public func registrationCount() -> Int { self.registrations.count }

    public func setLatency(_ latency: Duration) { self.latency = latency }

    public func setModel(_ model: String, for mac: String) { self.models[mac.uppercased()] = model }

    public func setRedirectionWithFlag(_ flag: Bool) { self.redirectionWithFlag = flag }

    /// The next `count` requests fail with `failure`.
    public func failNext(_ count: Int, with failure: Failure) {
        self.pendingFailures.append(contentsOf: repeatElement(failure, count: count))
    }

    /// Every request fails with `failure` until `clearFailures()`.
    public func failAll(with failure: Failure) { self.standingFailure = failure }

    /// Stops injected failures and releases held requests.
    public func clearFailures() {
        self.pendingFailures.removeAll()
        self.standingFailure = nil
        self.releaseHangs()
    }

    /// Answers every request that is being held.
    public func releaseHangs() { self.hangGeneration += 1 }

    public func clearCalls() { self.calls.removeAll() }

    /// Hands every call to `observer` as it is recorded, for a log kept outside the process (`--call-log`).
    public func observeCalls(_ observer: @escaping @Sendable (Call) -> Void) { self.callObserver = observer }

    // MARK: - Used by the server

    func takeFailure() -> (Failure, generation: Int)? {
        if let standing = self.standingFailure { return (standing, self.hangGeneration) }
        guard !self.pendingFailures.isEmpty else { return nil }
        return (self.pendingFailures.removeFirst(), self.hangGeneration)
    }

    func isReleased(since generation: Int) -> Bool { self.hangGeneration != generation }

    func record(_ call: Call) {
        self.calls.append(call)
        self.callObserver?(call)
    }

    func authenticate(user: String, password: String) -> Bool {
        guard let account = self.accounts[user] else { return false }
        // Constant-time comparison, as a real service would do.
        let expected = Array(account.password.utf8)
        let given = Array(password.utf8)
        var difference = UInt8(expected.count == given.count ? 0 : 1)
        for index in 0..<max(expected.count, given.count) {
            difference |= (index < expected.count ? expected[index] : 0) ^ (index < given.count ? given[index] : 0)
        }
        return difference == 0
    }

    /// Runs one XML-RPC method for `user`, as the API reference describes it.
    func dispatch(_ call: XMLRPCMethodCall, user: String) -> Result<XMLRPCValue, XMLRPCFault> {
        let params = call.params
        func arity(_ allowed: ClosedRange<Int>) -> XMLRPCFault? {
            allowed.contains(params.count)
                ? nil
                : XMLRPCFault(
                    code: 1,
                    message:
                        "<class 'TypeError'>:\(call.methodName) takes \(allowed.lowerBound == allowed.upperBound ? "exactly \(allowed.lowerBound)" : "\(allowed.lowerBound) to \(allowed.upperBound)") arguments (\(params.count) given)"
                )
        }
        func string(_ index: Int) -> String? { params[index].stringValue }
        func typeFault(_ index: Int, _ expected: String) -> XMLRPCFault {
            XMLRPCFault(
                code: 1,
                message: "<class 'TypeError'>:argument \(index + 1) must be \(expected), not \(params[index].typeName)")
        }

        switch call.methodName {
        case "redirect.registerPhone":
            if let fault = arity(2...2) { return .failure(fault) }
            guard let mac = string(0) else { return .failure(typeFault(0, "string")) }
            guard let url = string(1) else { return .failure(typeFault(1, "string")) }
            return .success(self.answer(self.register(mac: mac, url: url, user: user)))
        case "redirect.deregisterPhone":
            if let fault = arity(1...1) { return .failure(fault) }
            guard let mac = string(0) else { return .failure(typeFault(0, "string")) }
            return .success(self.answer(self.deregister(mac: mac, user: user)))
        case "redirect.getPhoneRedirection":
            if let fault = arity(1...1) { return .failure(fault) }
            guard let mac = string(0) else { return .failure(typeFault(0, "string")) }
            guard let key = Self.validMAC(mac) else { return .success(self.answer("Error:malformed_mac")) }
            guard let registration = self.registrations[key] else { return .success(self.answer("Error:no_such_mac")) }
            guard registration.owner == user else { return .success(self.answer("Error:owned_by_other_user")) }
            let company = self.accounts[user]?.company ?? user
            return .success(
                self.redirectionWithFlag
                    ? [true, .string(company), .string(registration.url)]
                    : [.string(company), .string(registration.url)])
        case "redirect.checkPhone":
            if let fault = arity(1...1) { return .failure(fault) }
            guard let mac = string(0) else { return .failure(typeFault(0, "string")) }
            guard let key = Self.validMAC(mac) else { return .success(self.answer("Error:malformed_mac")) }
            guard let registration = self.registrations[key] else { return .success(self.answer("Error:no_such_mac")) }
            return .success(self.answer(registration.owner == user ? "Ok" : "Error:owned_by_other_user"))
        case "redirect.listPhones":
            if let fault = arity(1...2) { return .failure(fault) }
            guard let model = string(0) else { return .failure(typeFault(0, "string")) }
            var url: String?
            // `provisioningUrl=None` in the reference: an explicit nil (as Snom's CLI sends it) is the default.
            if params.count == 2, params[1] != .nil {
                guard let given = string(1) else { return .failure(typeFault(1, "string")) }
                url = given
            }
            let macs = self.registrations
                .filter { mac, registration in
                    registration.owner == user && (self.models[mac] ?? self.defaultModel) == model
                        && (url == nil || registration.url == url)
                }
                .keys.sorted()
                .map { XMLRPCValue.string($0.lowercased()) }
            return .success(.array(macs))
        case "redirect.registerPhoneList":
            if let fault = arity(2...2) { return .failure(fault) }
            guard let url = string(1) else { return .failure(typeFault(1, "string")) }
            return .success(self.applyList(params[0]) { self.register(mac: $0, url: url, user: user) })
        case "redirect.deregisterPhoneList":
            if let fault = arity(1...1) { return .failure(fault) }
            return .success(self.applyList(params[0]) { self.deregister(mac: $0, user: user) })
        case "network.echo":
            // Snom's CLI checks a password with `network.echo("ping")` and needs only an answer (HTTP 200) to it.
            if let fault = arity(1...1) { return .failure(fault) }
            return .success(params[0])
        default:
            return .failure(
                XMLRPCFault(code: 1, message: "<class 'Exception'>:method \"\(call.methodName)\" is not supported"))
        }
    }

    private func register(mac: String, url: String, user: String) -> String {
        guard let key = Self.validMAC(mac) else { return "Error:malformed_mac" }
        guard Self.isValidURL(url) else { return "Error:malformed_url" }
        if let existing = self.registrations[key], existing.owner != user { return "Error:owned_by_other_user" }
        self.registrations[key] = Registration(owner: user, url: url)
        return "Ok"
    }

    private func deregister(mac: String, user: String) -> String {
        guard let key = Self.validMAC(mac) else { return "Error:malformed_mac" }
        if let existing = self.registrations[key] {
            guard existing.owner == user else { return "Error:owned_by_other_user" }
            self.registrations[key] = nil
        }
        return "Ok"
    }

    /// Applies `apply` to each MAC of a list; failures come back as `[false, {mac: "Error:…"}]`.
    private func applyList(_ list: XMLRPCValue, _ apply: (String) -> String) -> XMLRPCValue {
        guard case .array(let items) = list, !items.isEmpty else { return self.answer("Error:malformed_mac_list") }
        var failures: [String: XMLRPCValue] = [:]
        for item in items {
            guard case .string(let mac) = item else {
                failures[String(describing: item)] = "Error:malformed_mac"
                continue
            }
            let result = apply(mac)
            if result != "Ok" { failures[mac.lowercased()] = .string(result) }
        }
        return failures.isEmpty ? self.answer("Ok") : [false, .struct(failures)]
    }

    private func answer(_ text: String) -> XMLRPCValue { [.bool(text == "Ok"), .string(text)] }

    /// The service's MAC syntax: exactly 12 hex digits, in either case. Separators are malformed.
    static func validMAC(_ text: String) -> String? {
        guard text.utf8.count == 12, text.unicodeScalars.allSatisfy(\.properties.isASCIIHexDigit) else { return nil }
        return text.uppercased()
    }

    /// An absolute `http`, `https`, `ftp` or `tftp` URL with a host, and no spaces or control characters.
    static func isValidURL(_ text: String) -> Bool {
        guard text.utf8.count <= 2048,
            !text.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F }),
            let separator = text.range(of: "://")
        else { return false }
        let scheme = text[..<separator.lowerBound].lowercased()
        guard ["http", "https", "ftp", "tftp"].contains(scheme) else { return false }
        let authority = text[separator.upperBound...].prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        let host = authority.split(separator: "@").last.map { $0.split(separator: ":").first ?? "" } ?? ""
        return !host.isEmpty
    }
}
