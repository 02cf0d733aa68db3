import AsyncHTTPClient
import Foundation
import Hawk
import Logging
import NIOCore
import NIOHTTP1
import ProvisioningModel
import VendorHTTP

/// The client of Snom's SRAPS REST API for one account (one API key), and `ProvisioningService` on top of it.
///
/// Every request is signed with Hawk (a fresh nonce each time, the payload hash whenever there is a body). The
/// account's endpoints collection is found through `tokens/{key id}` and the links it answers, and the setting that
/// holds the provisioning URL through `settings/`; both are cached and looked up again when an answer says they are
/// stale. Transport failures become typed `RedirectError`s that never hold the key secret.
public struct SRAPSClient: Sendable {
    /// The settings this client was made with.
    public let configuration: SRAPSConfiguration
    let httpClient: HTTPClient
    let credentials: HawkCredentials
    let origin: String
    let cache: SRAPSCache
    let logger: Logger

    /// Makes a client that sends its requests through `httpClient`, which the caller owns and shuts down.
    public init(
        configuration: SRAPSConfiguration, httpClient: HTTPClient, logger: Logger
    ) throws(SRAPSConfigurationError) {
        try configuration.validate()
        guard let origin = configuration.origin else { throw .invalidBaseURL("has no usable origin") }
        self.configuration = configuration
        self.httpClient = httpClient
        self.credentials = HawkCredentials(id: configuration.keyID, key: configuration.keySecret)
        self.origin = origin
        self.cache = SRAPSCache()
        self.logger = logger
    }

    /// Makes an HTTP client for the service (`VendorHTTP.makeClient`): timeouts, keep-alive pool, no redirects, and
    /// TLS verified against the system roots plus the optional CA file.
    public static func makeHTTPClient(
        configuration: SRAPSConfiguration
    ) throws(SRAPSConfigurationError) -> HTTPClient {
        try VendorHTTP.makeClient(for: configuration.connection, failure: SRAPSConfigurationError.self)
    }

    /// Makes a client with an HTTP connection pool of its own, and the function that closes that pool once the
    /// client is no longer used: what each SRAPS account gets.
    public static func withOwnPool(
        configuration: SRAPSConfiguration, logger: Logger
    ) throws(SRAPSConfigurationError) -> (client: SRAPSClient, close: @Sendable () async -> Void) {
        try configuration.validate()
        return try VendorHTTP.withOwnPool(configuration.connection) {
            (httpClient) throws(SRAPSConfigurationError) in
            try SRAPSClient(configuration: configuration, httpClient: httpClient, logger: logger)
        }
    }

    // MARK: - Calls

    /// `PUT {endpoints}{mac}`: creates or re-points the MAC's record, the provisioning URL in the URL setting.
    ///
    /// A PUT replaces the whole record, so the body holds only what provhook sets, and never a `null`.
    public func putEndpoint(_ mac: MACAddress, url: String) async throws(RedirectError) -> RedirectOutcome {
        var refreshed = false
        while true {
            let resources = try await self.resources()
            let setting = try await self.settingUUID()
            let body = try SRAPSAnswers.endpointBody(mac: Self.pathMAC(mac), setting: setting, url: url)
            let answer = try await self.send(
                .PUT, resources.endpointsURL + Self.pathMAC(mac), body: body,
                maxBytes: self.configuration.maxResponseBytes)
            if let owner = SRAPSAnswers.ownedByOther(answer) { return owner }
            if (200...299).contains(answer.status) { return .ok }
            if !refreshed, answer.status == 404, try await self.refreshResources(since: resources) {
                refreshed = true
                continue
            }
            if !refreshed, answer.status == 400, answer.text.contains(setting),
                try await self.refreshSetting(since: setting)
            {
                refreshed = true
                continue
            }
            return .error(SRAPSAnswers.refusal(answer))
        }
    }

    /// `DELETE {endpoints}{mac}`; 404 means the MAC is already gone, once the collection is known to be current.
    public func deleteEndpoint(_ mac: MACAddress) async throws(RedirectError) -> RedirectOutcome {
        let answer = try await self.endpointRequest(.DELETE, mac)
        if let owner = SRAPSAnswers.ownedByOther(answer) { return owner }
        if (200...299).contains(answer.status) || answer.status == 404 { return .ok }
        return .error(SRAPSAnswers.refusal(answer))
    }

    /// `GET {endpoints}{mac}`: where the service points the MAC, and the company holding it when it is ours.
    public func endpoint(_ mac: MACAddress) async throws(RedirectError) -> PhoneRedirection {
        let answer = try await self.endpointRequest(.GET, mac)
        if case .error(let code)? = SRAPSAnswers.ownedByOther(answer) { return .error(code) }
        switch answer.status {
        case 200:
            let setting = try await self.settingUUID()
            let record = try SRAPSAnswers.endpointRecord(answer, setting: setting)
            let company = try await self.resources().companyName
            // A record without the URL setting points nowhere: "" differs from any URL, so reconcile re-registers it.
            return .redirected(company: company, url: record.url ?? "")
        case 404: return .error(.noSuchMAC)
        default: return .error(SRAPSAnswers.refusal(answer))
        }
    }

    /// Every page of `GET {endpoints}`: each MAC the account holds, with the URL of the URL setting.
    public func listEndpoints() async throws(RedirectError) -> [AccountRegistration] {
        var refreshed = false
        while true {
            let resources = try await self.resources()
            let setting = try await self.settingUUID()
            do {
                var registrations: [AccountRegistration] = []
                try await self.readPages(from: resources.endpointsURL + "?page_size=1000") {
                    answer throws(RedirectError) in
                    registrations += try SRAPSAnswers.endpointPage(answer, setting: setting)
                    return true
                }
                return registrations
            } catch RedirectError.unexpectedStatus(404) where !refreshed {
                guard try await self.refreshResources(since: resources) else { throw .unexpectedStatus(404) }
                refreshed = true
            }
        }
    }

    /// A request on one MAC's record. A 404 says either that the MAC has no record or that the collection moved; a
    /// `GET` of the collection tells which, and the request is repeated once in the collection the token now names.
    private func endpointRequest(_ method: HTTPMethod, _ mac: MACAddress) async throws(RedirectError) -> SRAPSAnswer {
        var refreshed = false
        while true {
            let resources = try await self.resources()
            let answer = try await self.send(
                method, resources.endpointsURL + Self.pathMAC(mac), body: nil,
                maxBytes: self.configuration.maxResponseBytes)
            if !refreshed, answer.status == 404, SRAPSAnswers.ownedByOther(answer) == nil,
                try await self.collectionMoved(resources)
            {
                refreshed = true
                continue
            }
            return answer
        }
    }

    /// The MAC as SRAPS's paths and bodies carry it: 12 lowercase hex digits (falconieri, hello).
    static func pathMAC(_ mac: MACAddress) -> String { mac.canonical.lowercased() }
}
