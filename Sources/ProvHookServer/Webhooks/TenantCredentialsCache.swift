import ProvHookCore
import Synchronization

/// Tenants' credentials as the webhook listener last read them, kept for a few seconds so that a busy tenant's
/// webhooks do not each read the tenants table.
///
/// Nothing is recorded on stale credentials: an event authenticated with cached ones is recorded only if they are
/// still the tenant's (`Store.ingest(…, cachedCredentials:)`), and a request they refuse is checked again against
/// fresh ones. So a rotated secret or a removed tenant takes effect for events at once. An answer that records
/// nothing (an event type the contract ignores) may follow the old credentials for up to `lifetime`.
final class TenantCredentialsCache: Sendable {
    /// How long an entry is used.
    static let lifetime = Duration.seconds(5)
    /// The most tenants kept; past it the cache starts again empty.
    static let capacity = 10_000

    private struct Entry {
        let credentials: TenantCredentials
        let readAt: ContinuousClock.Instant
    }

    private let entries = Mutex<[String: Entry]>([:])

    /// The tenant's credentials if they were read less than `lifetime` ago.
    func get(_ tenantID: String) -> TenantCredentials? {
        let now = ContinuousClock.now
        return self.entries.withLock { entries in
            guard let entry = entries[tenantID] else { return nil }
            guard now - entry.readAt < Self.lifetime else {
                entries[tenantID] = nil
                return nil
            }
            return entry.credentials
        }
    }

    /// Keeps credentials just read, or forgets the tenant's (nil: no such tenant).
    func set(_ credentials: TenantCredentials?, for tenantID: String) {
        let now = ContinuousClock.now
        self.entries.withLock { entries in
            guard let credentials else {
                entries[tenantID] = nil
                return
            }
            if entries.count >= Self.capacity, entries[tenantID] == nil { entries.removeAll(keepingCapacity: true) }
            entries[tenantID] = Entry(credentials: credentials, readAt: now)
        }
    }
}
