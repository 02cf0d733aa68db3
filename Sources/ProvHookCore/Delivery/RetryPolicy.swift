import Foundation

/// When to try a failed call again: `min(base · 2^attempt, max) ± 20 %`, until the give-up age.
public struct RetryPolicy: Sendable, Hashable {
    /// The delay unit: 1 s gives 2 s, 4 s, 8 s, …
    public var base: Duration
    /// The longest delay.
    public var maximum: Duration
    /// After this long waiting, a device is marked `failed` instead of retried.
    public var giveUpAfter: Duration

    public init(
        base: Duration = .seconds(1), maximum: Duration = .seconds(3600), giveUpAfter: Duration = .seconds(86_400)
    ) {
        self.base = base
        self.maximum = maximum
        self.giveUpAfter = giveUpAfter
    }

    /// The delay before attempt `attempt + 1`, with ±20 % jitter, at least `minimum` (a server's `Retry-After`)
    /// but never more than the maximum plus its jitter, whatever the server asked for.
    public func delay(afterAttempt attempt: Int, minimum: Duration = .zero) -> Duration {
        let exponent = min(max(attempt, 0), 40)
        let ceiling = Self.seconds(self.maximum)
        let raw = min(Self.seconds(self.base) * pow(2, Double(exponent)), ceiling)
        let jittered = raw * Double.random(in: 0.8...1.2)
        let asked = min(max(Self.seconds(minimum), 0), ceiling)
        return .milliseconds(Int64(max(jittered, asked) * 1000))
    }

    /// Whether a device waiting since `pendingSince` should be given up rather than retried after `delay`.
    public func shouldGiveUp(pendingSince: Date, delay: Duration, now: Date = Date()) -> Bool {
        now.timeIntervalSince(pendingSince) + Self.seconds(delay) > Self.seconds(self.giveUpAfter)
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
