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
