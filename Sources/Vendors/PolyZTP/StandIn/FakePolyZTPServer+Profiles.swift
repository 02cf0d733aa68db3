import Foundation
import HTTPTypes

/// How the stand-in reads a profile that a client sends: the fields fspbx sends, each with what it may hold, and
/// nothing else; and how it writes one back.
extension FakePolyZTPServer {
    /// The fields fspbx sends in a profile's `template`, each with what it may hold.
    static let templateFields: [String: [String: FieldType]] = [
        "software": ["version": .string],
        "provisioning": ["server": .object, "polling": .bool, "quickSetup": .bool],
        "dhcp": ["bootServerOption": .string, "option60Type": .string],
        "localization": ["language": .string],
    ]
    static let serverFields: [String: FieldType] = [
        "address": .string, "username": .string, "password": .string,
    ]

    enum FieldType { case string, bool, object }

    static func readProfile(
        _ object: [String: Any], organization: String
    ) -> Result<FakePolyZTPState.Profile, Refusal> {
        if let unknown = object.keys.sorted().first(where: { !["name", "enabled", "template", "custom"].contains($0) })
        {
            return .failure(Refusal(.badRequest, "Unknown field: \(unknown)"))
        }
        guard let name = object["name"] as? String, !name.isEmpty else {
            return .failure(Refusal(.badRequest, "name is required"))
        }
        guard name.count <= Self.maxNameLength else {
            return .failure(Refusal(.badRequest, "name must be at most \(Self.maxNameLength) characters"))
        }
        var enabled = false
        if let value = object["enabled"], !(value is NSNull) {
            guard let flag = Self.bool(value) else {
                return .failure(Refusal(.badRequest, "enabled must be a boolean"))
            }
            enabled = flag
        }
        if let custom = object["custom"], !(custom is NSNull), !(custom is [String: Any]) {
            return .failure(Refusal(.badRequest, "custom must be an object"))
        }
        var address: String?
        var templateData: Data?
        if let value = object["template"], !(value is NSNull) {
            guard let template = value as? [String: Any] else {
                return .failure(Refusal(.badRequest, "template must be an object"))
            }
            for (section, content) in template {
                guard let fields = Self.templateFields[section] else {
                    return .failure(Refusal(.badRequest, "Unknown field: template.\(section)"))
                }
                if content is NSNull { continue }
                guard let content = content as? [String: Any] else {
                    return .failure(Refusal(.badRequest, "template.\(section) must be an object"))
                }
                if let refusal = Self.check(content, fields, path: "template.\(section)") { return .failure(refusal) }
            }
            let provisioning = template["provisioning"] as? [String: Any]
            if let server = provisioning?["server"] as? [String: Any] {
                if let refusal = Self.check(server, Self.serverFields, path: "template.provisioning.server") {
                    return .failure(refusal)
                }
                address = server["address"] as? String
            }
            if let address, address.count > Self.maxAddressLength {
                return .failure(
                    Refusal(
                        .badRequest,
                        "template.provisioning.server.address must be at most \(Self.maxAddressLength) characters"))
            }
            templateData = try? JSONSerialization.data(withJSONObject: template, options: [.sortedKeys])
        }
        return .success(
            FakePolyZTPState.Profile(
                organization: organization, name: name, enabled: enabled, address: address, template: templateData))
    }

    /// Checks an object's fields against `fields`: no unknown one, each of its type or null.
    static func check(_ object: [String: Any], _ fields: [String: FieldType], path: String) -> Refusal? {
        for (key, value) in object {
            guard let type = fields[key] else { return Refusal(.badRequest, "Unknown field: \(path).\(key)") }
            if value is NSNull { continue }
            let fits =
                switch type {
                case .string: value is String
                case .bool: Self.bool(value) != nil
                case .object: value is [String: Any]
                }
            guard fits else { return Refusal(.badRequest, "\(path).\(key) has the wrong type") }
        }
        return nil
    }

    /// A JSON boolean; JSONSerialization reads `true` and `1` alike, so the number must be one of the literals.
    static func bool(_ value: Any) -> Bool? {
        guard let number = value as? NSNumber, !(value is String) else { return nil }
        let text = "\(number)"
        guard text == "true" || text == "false" || text == "1" || text == "0" else { return nil }
        return value as? Bool
    }

    /// A profile as the API answers it.
    static func record(_ id: String, _ profile: FakePolyZTPState.Profile) -> [String: Any] {
        var template = profile.template.flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] } ?? [:]
        var provisioning = template["provisioning"] as? [String: Any] ?? [:]
        var server = provisioning["server"] as? [String: Any] ?? [:]
        server["address"] = profile.address ?? NSNull()
        // The provisioning server's password is not answered back.
        server["password"] = nil
        provisioning["server"] = server
        template["provisioning"] = provisioning
        return ["id": id, "name": profile.name, "enabled": profile.enabled, "template": template]
    }
}
