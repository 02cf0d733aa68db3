import ProvHookCore

/// FusionPBX: it sends no webhooks, so its sources are synced from its database (`FusionPBXDatabase`), which also
/// answers lookups.
public struct FusionPBXSource: Platform {
    public typealias Credentials = SourceCredentials

    public init() {}

    public var kind: SourceKind? { .fusionpbx }
    public var displayName: String { "FusionPBX" }
    public var answers: AnswerPolicy { .native }

    /// Nil: FusionPBX sends no webhooks.
    public func reading(of request: InboundRequest, credentials: SourceCredentials) -> PlatformReading? { nil }

    public func makeDirectory(
        _ configuration: DirectoryConfiguration
    ) throws(DirectoryError) -> (any DeviceDirectory)? {
        try FusionPBXDatabase(configuration: configuration)
    }
}
