/// What provhook wants the provisioning service to hold for a MAC.
public enum DesiredState: String, Sendable, Hashable, Codable {
    case registered, deregistered
}
