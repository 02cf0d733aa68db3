import AsyncHTTPClient
import Foundation
import NIOHTTP1
import ProvHookCore
import ProvisioningModel

/// Wazo's APIs behind its nginx: a token from wazo-auth (`POST /api/auth/0.1/token`, basic auth, a JSON body),
/// cached until a minute before its `expires_at` and made again when confd answers 401; then
/// `GET /api/confd/1.1/devices/{id}` with `X-Auth-Token` (and `Wazo-Tenant` where configured), whose `mac`
/// (`aa:bb:cc:dd:ee:ff`), `vendor`/`model` (the model from both, the brand from `vendor`) and `sn` (the serial
/// number: free text in confd, so read only when it is one, `DeviceSerial.lenient`) are read.
public actor WazoConfd: DeviceDirectory, DeviceListing {
    private let configuration: DirectoryConfiguration
    private let http: DirectoryHTTP
    private var token: (value: String, renewAfter: Date)?
    /// How long a token is asked for.
    static let tokenLifetime = 3600

    public init(configuration: DirectoryConfiguration) throws(DirectoryError) {
        guard configuration.user != nil else { throw .unauthorized("a Wazo source's API needs its user") }
        self.configuration = configuration
        self.http = try DirectoryHTTP(configuration)
    }

    public func shutdown() async {
        await self.http.shutdown()
    }

    public func device(id: String, account: String?) async throws(DirectoryError) -> DirectoryDevice {
        let idSegment = try DirectoryHTTP.deviceSegment(id, named: "the Wazo device id", expected: "a confd id")
        let (status, json) = try await self.get("confd GET device \(idSegment)", "/devices/\(idSegment)")
        switch status {
        case 200:
            guard let device = json as? [String: Any] else {
                throw .invalidAnswer("confd answered 200 without a device object")
            }
            var mac: MACAddress?
            if let text = device["mac"] as? String, !text.isEmpty {
                guard let parsed = try? MACAddress(parsing: text) else {
                    throw .invalidAnswer("the device's mac \(String(text.prefix(32)).debugDescription) is not a MAC")
                }
                mac = parsed
            }
            return DirectoryDevice(
                mac: mac, model: modelName([device["vendor"], device["model"]]), brand: brandName(device["vendor"]),
                serial: DeviceSerial.lenient(device["sn"]))
        default:
            throw DirectoryHTTP.failure(
                status, refused: "confd refused the token of Wazo user \(self.configuration.user ?? "")",
                missing: "confd has no device \(idSegment)", failed: "confd answered \(status) for device \(idSegment)")
        }
    }

    /// `GET /api/confd/1.1/devices?limit=…&offset=…`: confd's listing, `{"total", "items"}`, in the user's tenant
    /// (or `Wazo-Tenant`), with `mac`, `vendor`/`model` and `sn`, as for one device. The cursor is the offset.
    public func devices(
        account: String?, after cursor: String?, pageSize: Int
    ) async throws(DirectoryError) -> (devices: [ListedDevice], next: String?) {
        let offset = cursor.flatMap(Int.init) ?? 0
        let (status, json) = try await self.get(
            "confd GET devices", "/devices?recurse=false&order=id&direction=asc&limit=\(pageSize)&offset=\(offset)")
        switch status {
        case 200:
            guard let object = json as? [String: Any], let items = object["items"] as? [[String: Any]],
                let total = object["total"] as? Int
            else { throw .invalidAnswer("confd's device listing has no \"total\" and \"items\"") }
            let devices = items.compactMap { item -> ListedDevice? in
                guard let id = item["id"] as? String else { return nil }
                let mac = (item["mac"] as? String).flatMap { try? MACAddress(parsing: $0) }
                return ListedDevice(
                    id: id, mac: mac, enabled: true, model: modelName([item["vendor"], item["model"]]),
                    brand: brandName(item["vendor"]), serial: DeviceSerial.lenient(item["sn"]))
            }
            let next = offset + items.count
            return (devices, items.isEmpty || next >= total ? nil : String(next))
        default:
            throw DirectoryHTTP.failure(
                status, refused: "confd refused the token of Wazo user \(self.configuration.user ?? "")", missing: nil,
                failed: "confd answered \(status) for the device listing")
        }
    }

    /// `GET {baseURL}/api/confd/1.1{path}` with the token (made again once on a 401) and `Wazo-Tenant` where
    /// configured.
    private func get(_ what: String, _ path: String) async throws(DirectoryError) -> (status: UInt, json: Any?) {
        try await self.http.sendAuthorized(
            what: what,
            login: { renew throws(DirectoryError) in
                try await self.currentToken(renew: renew)
            }
        ) { token in
            var request = DirectoryHTTP.request("\(self.configuration.baseURL)/api/confd/1.1\(path)", method: .GET)
            request.headers.add(name: "X-Auth-Token", value: token)
            if let tenant = self.configuration.tenant { request.headers.add(name: "Wazo-Tenant", value: tenant) }
            return request
        }
    }

    private func currentToken(renew: Bool) async throws(DirectoryError) -> String {
        if let token = self.token, !renew, token.renewAfter > Date() { return token.value }
        self.token = nil
        var request = DirectoryHTTP.request(
            "\(self.configuration.baseURL)/api/auth/0.1/token", method: .POST,
            json: ["expiration": Self.tokenLifetime])
        let credentials = Data("\(self.configuration.user ?? ""):\(self.configuration.secret)".utf8)
        request.headers.add(name: "Authorization", value: "Basic \(credentials.base64EncodedString())")
        let (status, json) = try await self.http.exchange(request, what: "wazo-auth POST /token")
        switch status {
        case 200:
            let data = (json as? [String: Any])?["data"] as? [String: Any]
            guard let value = data?["token"] as? String, !value.isEmpty else {
                throw .invalidAnswer("wazo-auth's answer has no data.token")
            }
            let expires = (data?["utc_expires_at"] as? String ?? data?["expires_at"] as? String).flatMap(Self.date)
            let lifetime = expires.map { $0.timeIntervalSinceNow } ?? Double(Self.tokenLifetime)
            self.token = (value, Date().addingTimeInterval(max(0, lifetime - 60)))
            return value
        case 401, 403:
            throw .unauthorized("wazo-auth refused user \(self.configuration.user ?? "") (\(status))")
        default:
            throw .unavailable("wazo-auth answered \(status)")
        }
    }

    /// wazo-auth's timestamps: ISO 8601 with microseconds and no zone (`utc_expires_at` is UTC).
    static func date(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        for format in ["yyyy-MM-dd'T'HH:mm:ss.SSSSSS", "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXXXX"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: text) { return date }
        }
        return nil
    }
}
