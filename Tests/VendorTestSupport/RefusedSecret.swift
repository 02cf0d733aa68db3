import ProvisioningModel
import Testing

/// Checks a call made with a secret the service refuses: it throws `authenticationFailed(status: 401)`, and none of
/// `secrets` shows in the error, printed or reflected, nor in `settings` (the client's configuration) printed or
/// reflected, as a log line, an error message or a CLI would show them.
public func expectRefusedSecret(
    _ secrets: [String], settings: (any Sendable)? = nil, sourceLocation: SourceLocation = #_sourceLocation,
    _ call: () async throws -> Void
) async {
    do {
        try await call()
        Issue.record("a wrong secret was taken", sourceLocation: sourceLocation)
    } catch {
        #expect(error as? RedirectError == .authenticationFailed(status: 401), sourceLocation: sourceLocation)
        var texts = ["\(error)", String(reflecting: error)]
        if let settings { texts += ["\(settings)", String(reflecting: settings)] }
        let leaked = texts.filter { text in secrets.contains { text.contains($0) } }
        #expect(leaked.isEmpty, "a secret shows in \(leaked.count) of the texts", sourceLocation: sourceLocation)
    }
}
