import AsyncHTTPClient
import Foundation
import NIOHTTP1
import ProvHookCore
import ProvisioningModel

/// Kazoo's crossbar API: `PUT /v2/api_auth` with `{"data": {"api_key": …}}` gives an `auth_token` (cached, and made
/// again when crossbar answers 401), then `GET /v2/accounts/{account}/devices/{id}` with `X-Auth-Token` gives the
/// device document, whose `mac_address` and `provision` block are read (`KazooDeviceDocument`).
///
/// An event without `account_id` is looked up in the API key's own account.
public actor KazooCrossbar: DeviceDirectory, DeviceListing {
    private let configuration: DirectoryConfiguration
    private let http: DirectoryHTTP
    private var session: (token: String, account: String)?

    public init(configuration: DirectoryConfiguration) throws(DirectoryError) {
        self.configuration = configuration
        self.http = try DirectoryHTTP(configuration)
    }

    public func shutdown() async {
        await self.http.shutdown()
    }

    public func device(id: String, account: String?) async throws(DirectoryError) -> DirectoryDevice {
        let idSegment = try DirectoryHTTP.deviceSegment(id, named: "the Kazoo device id", expected: "a crossbar id")
        let (accountSegment, status, json) = try await self.get(
            "crossbar GET device \(idSegment)", account: account
        ) { "/devices/\(idSegment)" }
        switch status {
        case 200:
            guard let data = (json as? [String: Any])?["data"] as? [String: Any] else {
                throw .invalidAnswer("crossbar answered 200 without a device document in \"data\"")
            }
            return try KazooDeviceDocument.device(data)
        default:
            throw DirectoryHTTP.failure(
                status, refused: "crossbar refused the API key's token for account \(accountSegment)",
                missing: "crossbar has no device \(idSegment) in account \(accountSegment)",
                failed: "crossbar answered \(status) for device \(idSegment)")
        }
    }

    /// `GET /v2/accounts/{account}/devices?page_size=…&start_key=…`: crossbar's listing, whose answer carries
    /// `next_start_key` on every page but the last. The listing has no `provision` block, so no model or brand.
    public func devices(
        account: String?, after cursor: String?, pageSize: Int
    ) async throws(DirectoryError) -> (devices: [ListedDevice], next: String?) {
        let (_, status, json) = try await self.get("crossbar GET devices", account: account) {
            var components = URLComponents()
            components.queryItems =
                [URLQueryItem(name: "page_size", value: String(pageSize))]
                + (cursor.map { [URLQueryItem(name: "start_key", value: $0)] } ?? [])
            return "/devices?\(components.percentEncodedQuery ?? "")"
        }
        switch status {
        case 200:
            guard let object = json as? [String: Any], let items = object["data"] as? [[String: Any]] else {
                throw .invalidAnswer("crossbar's device listing has no \"data\" array")
            }
            let devices = items.compactMap { item -> ListedDevice? in
                guard let id = item["id"] as? String else { return nil }
                let mac = (item["mac_address"] as? String).flatMap { try? MACAddress(parsing: $0) }
                return ListedDevice(
                    id: id, mac: mac, enabled: item["enabled"] as? Bool ?? true, model: nil, brand: nil)
            }
            return (
                devices,
                object["next_start_key"].flatMap { value -> String? in
                    if let text = value as? String { return text }
                    if let number = value as? NSNumber { return number.stringValue }
                    return nil
                }
            )
        default:
            throw DirectoryHTTP.failure(
                status, refused: "crossbar refused the API key's token for the device listing",
                missing: "crossbar has no account \(account ?? "of the API key")",
                failed: "crossbar answered \(status) for the device listing")
        }
    }

    /// `GET {baseURL}/accounts/{account}{path}` with the session's `X-Auth-Token` (made again once on a 401), in
    /// `account` or else the API key's own; returns the account used and the answer.
    private func get(
        _ what: String, account: String?, path: () -> String
    ) async throws(DirectoryError) -> (account: String, status: UInt, json: Any?) {
        var accountSegment = ""
        let (status, json) = try await self.http.sendAuthorized(
            what: what,
            login: { renew throws(DirectoryError) in
                try await self.currentSession(renew: renew).token
            }
        ) { token throws(DirectoryError) in
            guard let segment = DirectoryHTTP.pathSegment(account ?? self.session?.account ?? "") else {
                throw .notFound(
                    "the Kazoo account id \(String((account ?? "").prefix(64)).debugDescription) is not valid")
            }
            accountSegment = segment
            var request = DirectoryHTTP.request(
                "\(self.configuration.baseURL)/accounts/\(segment)\(path())", method: .GET)
            request.headers.add(name: "X-Auth-Token", value: token)
            return request
        }
        return (accountSegment, status, json)
    }

    private func currentSession(renew: Bool) async throws(DirectoryError) -> (token: String, account: String) {
        if let session = self.session, !renew { return session }
        self.session = nil
        let request = DirectoryHTTP.request(
            "\(self.configuration.baseURL)/api_auth", method: .PUT,
            json: ["data": ["api_key": self.configuration.secret]])
        let (status, json) = try await self.http.exchange(request, what: "crossbar PUT /api_auth")
        switch status {
        case 200, 201:
            let object = json as? [String: Any]
            guard let token = object?["auth_token"] as? String, !token.isEmpty,
                let account = (object?["data"] as? [String: Any])?["account_id"] as? String
            else { throw .invalidAnswer("crossbar's api_auth answer has no auth_token and data.account_id") }
            self.session = (token, account)
            return (token, account)
        case 401, 403, 404:
            throw .unauthorized("crossbar refused the source's API key (\(status))")
        default:
            throw .unavailable("crossbar answered \(status) to api_auth")
        }
    }
}

/// What provhook reads of a Kazoo device document (crossbar's `devices` schema): `mac_address`, in any spelling,
/// and from the `provision` block the model (`endpoint_brand`, `endpoint_model`) and the brand (`endpoint_brand`).
/// The same document is a Kazoo 5 v2 webhook's `data.doc`. It has no serial number: crossbar's `devices` schema
/// (2600hz/kazoo `applications/crossbar/priv/couchdb/schemas/devices.json`) knows none.
public enum KazooDeviceDocument {
    public static func device(_ document: [String: Any]) throws(DirectoryError) -> DirectoryDevice {
        var mac: MACAddress?
        if let text = document["mac_address"] as? String, !text.isEmpty {
            guard let parsed = try? MACAddress(parsing: text) else {
                throw .invalidAnswer(
                    "the device's mac_address \(String(text.prefix(32)).debugDescription) is not a MAC")
            }
            mac = parsed
        }
        let provision = document["provision"] as? [String: Any]
        return DirectoryDevice(mac: mac, model: self.model(provision), brand: self.brand(provision))
    }

    /// "snom D785" from a `provision` block, at most 64 characters.
    public static func model(_ provision: [String: Any]?) -> String? {
        guard let provision else { return nil }
        return modelName([provision["endpoint_brand"], provision["endpoint_model"]])
    }

    /// "snom" from a `provision` block's `endpoint_brand`, at most 64 characters.
    public static func brand(_ provision: [String: Any]?) -> String? {
        brandName(provision?["endpoint_brand"])
    }
}
