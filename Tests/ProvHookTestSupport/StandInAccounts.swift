import SnomXMLRPCStandIn
import Testing

/// The stand-in's accounts in every test: ours, and another company's that owns MACs we must not touch.
public enum StandInAccounts {
    /// Our account at the stand-in.
    public static let user = "provhook"
    public static let password = "stand-in-Pa55"
    /// Another company's account.
    public static let otherUser = "someone-else"
    public static let otherPassword = "x"

    /// A stand-in state with both accounts and no registrations.
    public static func makeState() -> FakeRedirectState {
        FakeRedirectState(accounts: [
            Self.user: .init(password: Self.password, company: "Our Company"),
            Self.otherUser: .init(password: Self.otherPassword, company: "Other Company"),
        ])
    }

    /// The environment of a provhook process on `database` whose `default` account is ours at `standIn` (over plain
    /// HTTP, its password in `passwordFile`), logging at debug level, so that a test can search the log, run by alice.
    public static func environment(
        database: TestDatabase, standIn: RunningFakeRedirect, passwordFile: String
    ) -> [String: String] {
        database.environment().merging([
            "PROVHOOK_REDIRECT_URL": standIn.endpoint, "PROVHOOK_REDIRECT_USER": Self.user,
            "PROVHOOK_REDIRECT_PASSWORD_FILE": passwordFile, "PROVHOOK_REDIRECT_ALLOW_HTTP": "1",
            "PROVHOOK_LOG_LEVEL": "debug", "USER": "alice",
        ]) { _, new in new }
    }
}

/// Waits until `condition` holds, checking every 50 ms, failing after `limit`. Waiting is bounded, never timed.
public func eventually(
    _ what: String, within limit: Duration = .seconds(30), sourceLocation: SourceLocation = #_sourceLocation,
    _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    Issue.record("timed out waiting for: \(what)", sourceLocation: sourceLocation)
}
