import Foundation
import ProvisioningModel

/// Reads settings the way the contract gives them: a flag wins over `PROVHOOK_*`, which wins over the default.
/// Secrets may also come from a `*_FILE` variable or flag naming a file.
public struct Settings: Sendable {
    /// The process environment, or a test's stand-in for it.
    public var environment: [String: String]

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    /// The flag's value, else the variable's, else nil. An empty variable counts as unset.
    public func value(_ flag: String?, _ variable: String) -> String? {
        if let flag { return flag }
        guard let value = self.environment[variable], !value.isEmpty else { return nil }
        return value
    }

    /// A secret from its flag or variable, else from the file named by `<variable>_FILE` or `fileFlag`.
    /// A trailing newline in the file is dropped.
    public func secret(
        _ flag: String?, _ variable: String, fileFlag: String? = nil
    ) throws(ConfigurationError)
        -> String?
    {
        if let value = self.value(flag, variable) { return value }
        guard let path = self.value(fileFlag, variable + "_FILE") else { return nil }
        guard let data = FileManager.default.contents(atPath: path), var text = String(data: data, encoding: .utf8)
        else { throw .unreadableFile(variable: variable + "_FILE", path: path) }
        // A file saved on Windows ends in "\r\n", which Swift counts as one Character: compare by newline-ness.
        while text.last?.isNewline == true { text.removeLast() }
        return text
    }

    /// An integer setting within `range`.
    public func integer(
        _ flag: Int?, _ variable: String, default defaultValue: Int, in range: ClosedRange<Int>
    )
        throws(ConfigurationError) -> Int
    {
        if let flag {
            guard range.contains(flag) else { throw .invalid(variable: variable, reason: "must be in \(range)") }
            return flag
        }
        guard let text = self.value(nil, variable) else { return defaultValue }
        guard let number = Int(text), range.contains(number) else {
            throw .invalid(variable: variable, reason: "must be an integer in \(range)")
        }
        return number
    }

    /// A boolean setting: `1`, `true`, `yes` or `on` are true.
    public func flag(_ flag: Bool, _ variable: String) -> Bool {
        if flag { return true }
        guard let text = self.value(nil, variable)?.lowercased() else { return false }
        return ["1", "true", "yes", "on"].contains(text)
    }

    /// Whether a redirection URL may be plain `http://` (`PROVHOOK_REDIRECT_ALLOW_HTTP`): basic auth over it sends the
    /// Snom password in clear, so only a test or a local stand-in may.
    public var allowsPlainHTTPRedirect: Bool { self.flag(false, "PROVHOOK_REDIRECT_ALLOW_HTTP") }
    /// Whether a source's PBX API may be `http://` (`PROVHOOK_PBX_ALLOW_HTTP`): its API key or password would travel
    /// in clear, so only a PBX on this host or a test stand-in should be.
    public var allowsPlainHTTPPBX: Bool { self.flag(false, "PROVHOOK_PBX_ALLOW_HTTP") }

    /// A sync's limits from its flags and `PROVHOOK_SYNC_*`, for `source sync` and `serve`'s periodic syncs: the
    /// longest wait for the PBX's next page, the longest run, the most devices, and one request's timeout.
    public func syncLimits(
        stallSeconds: Int? = nil, maxSeconds: Int? = nil, maxDevices: Int? = nil, readTimeoutSeconds: Int? = nil
    ) throws(ConfigurationError) -> SourceSync.Limits {
        SourceSync.Limits(
            stallTimeout: .seconds(
                try self.integer(stallSeconds, "PROVHOOK_SYNC_STALL_SECONDS", default: 60, in: 1...3600)),
            maxDuration: .seconds(
                try self.integer(maxSeconds, "PROVHOOK_SYNC_MAX_SECONDS", default: 3600, in: 1...86_400)),
            maxDevices: try self.integer(
                maxDevices, "PROVHOOK_SYNC_MAX_DEVICES", default: 1_000_000, in: 1...100_000_000),
            readTimeout: .seconds(
                try self.integer(readTimeoutSeconds, "PROVHOOK_SYNC_READ_TIMEOUT_SECONDS", default: 10, in: 1...300)))
    }

    /// The database URL from its flag or `PROVHOOK_DATABASE_URL`, nil when neither is set. Its password may instead
    /// come from `PROVHOOK_DATABASE_PASSWORD` or the file `PROVHOOK_DATABASE_PASSWORD_FILE` names, so that the
    /// environment file need not hold it; that password wins over one in the URL.
    public func databaseURL(_ flag: String?) throws(ConfigurationError) -> DatabaseURL? {
        guard let text = self.value(flag, "PROVHOOK_DATABASE_URL") else { return nil }
        var url = try DatabaseURL(text)
        if let password = try self.secret(nil, "PROVHOOK_DATABASE_PASSWORD") { url.password = password }
        return url
    }
}

/// Why the configuration cannot be used. Never holds a secret's value.
public enum ConfigurationError: Error, Sendable, CustomStringConvertible {
    case missing(String)
    case invalid(variable: String, reason: String)
    case unreadableFile(variable: String, path: String)
    /// A provisioning service's settings fail its own check; the text is that check's, naming the variable.
    case unusableService(String)

    public var description: String {
        switch self {
        case .missing(let what): "\(what) is required"
        case .invalid(let variable, let reason): "\(variable) \(reason)"
        case .unreadableFile(let variable, let path): "\(variable): cannot read \(path)"
        case .unusableService(let reason): reason
        }
    }
}
