import Foundation
import Logging
import PostgresNIO
import ProvisioningModel

/// How many devices wait, and for how long the oldest has.
extension Store {
    /// Claims up to `limit` due devices for `lease`, skipping rows other workers hold.
    ///
    /// Fair between tenants: each tenant's due devices are ranked by age, and the claim takes the first of every
    /// tenant, then the second, and so on. The tenants with waiting devices are found by a skip scan of
    /// `devices_due_by_tenant` (one index probe a tenant), so the cost follows the tenants and `limit`, not the
    /// number of waiting devices.
    ///
    /// Only devices whose next call is made with `account` are claimed: each account's worker has its own.
    public func claimDue(
        account: String = RedirectAccount.defaultName, limit: Int, lease: Duration
    ) async throws(StoreError) -> [ClaimedDevice] {
        let leaseSeconds = Double(lease.components.seconds)
        let rows = try await self.rows(
            "claiming devices",
            """
            WITH RECURSIVE lease(seconds) AS (SELECT \(leaseSeconds)::float8), tenants(tenant_id) AS (
                (SELECT tenant_id FROM devices WHERE status = 'pending' AND account = \(account)
                 ORDER BY tenant_id LIMIT 1)
                UNION ALL
                SELECT (SELECT d.tenant_id FROM devices d
                        WHERE d.status = 'pending' AND d.account = \(account) AND d.tenant_id > t.tenant_id
                        ORDER BY d.tenant_id LIMIT 1)
                FROM tenants t WHERE t.tenant_id IS NOT NULL
            ), candidates AS MATERIALIZED (
                -- Materialized: inlined, the planner may run this once per waiting device (a nested loop), which
                -- made a claim quadratic in the backlog.
                -- Ranked after the limit: a window inside it reads every device due at the same instant before the
                -- limit applies (they are its peers), and a re-point or an import makes thousands due at once.
                SELECT c.mac, row_number() OVER (PARTITION BY t.tenant_id ORDER BY c.next_attempt_at) AS rank,
                       c.next_attempt_at
                FROM tenants t CROSS JOIN LATERAL (
                    SELECT d.mac, d.next_attempt_at
                    FROM devices d
                    WHERE d.account = \(account) AND d.tenant_id = t.tenant_id AND d.status = 'pending'
                      AND d.next_attempt_at <= now() AND (d.claimed_until IS NULL OR d.claimed_until < now())
                    ORDER BY d.next_attempt_at
                    LIMIT \(limit)
                ) c
                WHERE t.tenant_id IS NOT NULL
                UNION ALL
                -- MACs no tenant claims (queued by `reconcile --prune`) take their turn as one more tenant.
                SELECT o.mac, row_number() OVER (ORDER BY o.next_attempt_at), o.next_attempt_at
                FROM (
                    SELECT d.mac, d.next_attempt_at FROM devices d
                    WHERE d.account = \(account) AND d.tenant_id IS NULL AND d.status = 'pending'
                      AND d.next_attempt_at <= now() AND (d.claimed_until IS NULL OR d.claimed_until < now())
                    ORDER BY d.next_attempt_at
                    LIMIT \(limit)
                ) o
            ), ranked AS MATERIALIZED (
                -- The first in turn, with room for rows that another worker holds locked: the join below then reads
                -- only these, whatever the number of tenants and of waiting devices.
                SELECT mac, rank, next_attempt_at FROM candidates ORDER BY rank, next_attempt_at LIMIT \(2 * limit)
            ), due AS (
                SELECT d.mac FROM ranked c JOIN devices d ON d.mac = c.mac
                WHERE d.status = 'pending' AND d.next_attempt_at <= now()
                  AND (d.claimed_until IS NULL OR d.claimed_until < now())
                ORDER BY c.rank, c.next_attempt_at
                LIMIT \(limit)
                -- NO KEY UPDATE: a claim changes no key, and must not skip a row only because a row that refers to
                -- it is being written (device_pins' foreign key takes KEY SHARE on the device while its PIN is kept).
                FOR NO KEY UPDATE OF d SKIP LOCKED
            )
            \(unescaped: Self.claimStep)
            """,
            as: ClaimedRow.self)
        return Self.claimedDevices(rows)
    }

    /// Claims, beside `claimed`, more due devices that can share their list calls, up to `listSize` in each list:
    /// removals of the same tenant, and registrations to the same URL of a tenant whose template has no `<mac>` (so
    /// that all its devices share one URL). `claimDue` is fair between tenants a call at a time; here each device it
    /// claimed stands for one call, and this fills that call's list, so a backlog of removals, of a re-point or of an
    /// import goes out in full lists, as many per claim as calls were wanted. (Filling only the lists the claimed
    /// devices make up gave one list per claim for a tenant whose devices share a URL: the claims, one after another,
    /// then bounded the drain, far below the service's limit.)
    public func claimAlongside(
        _ claimed: [ClaimedDevice], listSize: Int, lease: Duration
    ) async throws(StoreError) -> [ClaimedDevice] {
        struct Group: Hashable {
            var account: String
            var tenantID: String
            /// `registered`, `deregistered`, or `move` (a move's deregistration, whatever the desired state).
            var step: String
            var url: String
        }
        var counts: [Group: Int] = [:]
        for device in claimed {
            guard let tenantID = device.tenantID else { continue }
            let step = device.moveTo != nil ? "move" : device.desired.rawValue
            let url = step == DesiredState.registered.rawValue ? device.url ?? "" : ""
            counts[Group(account: device.account, tenantID: tenantID, step: step, url: url), default: 0] += 1
        }
        guard !counts.isEmpty, listSize > 1 else { return [] }
        let groups = Array(counts)
        let accounts = groups.map(\.key.account)
        let tenants = groups.map(\.key.tenantID)
        let steps = groups.map(\.key.step)
        let urls = groups.map(\.key.url)
        // Each claimed device's call takes `listSize - 1` more.
        let rooms = groups.map { $0.value * (listSize - 1) }
        let leaseSeconds = Double(lease.components.seconds)
        let rows = try await self.rows(
            "claiming devices for the same lists",
            """
            WITH lease(seconds) AS (SELECT \(leaseSeconds)::float8), groups AS (
                SELECT * FROM unnest(\(accounts)::text[], \(tenants)::text[], \(steps)::text[], \(urls)::text[],
                                     \(rooms)::int[])
                    AS g(account, tenant_id, step, url, room)
            ), candidates AS MATERIALIZED (
                SELECT c.mac FROM groups g
                CROSS JOIN LATERAL (
                    SELECT d.mac FROM devices d
                    WHERE d.account = g.account AND d.tenant_id = g.tenant_id AND d.status = 'pending'
                      AND d.next_attempt_at <= now() AND (d.claimed_until IS NULL OR d.claimed_until < now())
                      AND CASE g.step WHEN 'move' THEN d.move_to IS NOT NULL
                                      ELSE d.move_to IS NULL AND d.desired = g.step END
                      AND (g.step <> 'registered' OR d.url = g.url)
                    ORDER BY d.next_attempt_at
                    LIMIT g.room
                ) c
                -- Registrations share a URL only where the template of the account's vendor has no <mac>: the
                -- tenant's template for that vendor, else its own.
                WHERE g.step <> 'registered'
                   OR position('<mac>' IN vendor_url_template(
                          g.tenant_id, (SELECT a.vendor FROM redirect_accounts a WHERE a.name = g.account))) = 0
            ), due AS (
                SELECT d.mac FROM candidates c JOIN devices d ON d.mac = c.mac
                WHERE d.status = 'pending' AND d.next_attempt_at <= now()
                  AND (d.claimed_until IS NULL OR d.claimed_until < now())
                FOR NO KEY UPDATE OF d SKIP LOCKED
            )
            \(unescaped: Self.claimStep)
            """,
            as: ClaimedRow.self)
        return Self.claimedDevices(rows)
    }

    /// The last step of a claim, after the CTEs `lease(seconds)` and `due(mac)`: the due devices leased and counted
    /// as tried, returning `claimedColumns` (SQL without values, for `\(unescaped:)`).
    static let claimStep = """
        UPDATE devices d SET claimed_until = now() + make_interval(secs => (SELECT seconds FROM lease)),
                             attempts = d.attempts + 1
        FROM due WHERE d.mac = due.mac
        RETURNING \(claimedColumns)
        """

    /// The columns a claim returns, as SQL (identifiers only, for `\(unescaped:)`); decoded as `ClaimedRow`.
    static let claimedColumns =
        "d.mac, d.tenant_id, d.desired, d.url, d.generation, d.attempts, d.pending_since, \(claimTokenOf("d")), d.account, d.move_to, d.serial, d.gigaset_code"
    typealias ClaimedRow = (
        String, String?, String, String?, Int64, Int32, Date, Int64, String, String?, String?, String?
    )

    static func claimedDevices(_ rows: [ClaimedRow]) -> [ClaimedDevice] {
        let claimedAt = ContinuousClock.now
        return rows.compactMap {
            mac, tenant, desired, url, generation, attempts, pendingSince, token, account, moveTo, serial, code in
            guard let mac = MACAddress(mac), let desired = DesiredState(rawValue: desired) else { return nil }
            return ClaimedDevice(
                mac: mac, tenantID: tenant, desired: desired, url: url, account: account, moveTo: moveTo,
                serial: serial, gigasetCode: code,
                generation: generation, attempt: Int(attempts), pendingSince: pendingSince, claimToken: token,
                claimedAt: claimedAt)
        }
    }

    /// The claim token of a devices row, as SQL (identifiers only, for `\(unescaped:)`).
    static func claimTokenOf(_ table: String) -> String {
        "(extract(epoch FROM \(table).claimed_until) * 1000000)::bigint"
    }

    /// Writes outcomes and their journal rows in one statement. A device whose generation moved on while the call
    /// was in flight keeps its new desired state: only its claim is released, and its row says `superseded`; a
    /// device whose claim passed to another worker is left alone, and its row says `claim_lost`.
    /// Returns the positions in `outcomes` of those that were applied. (Positions, not MACs: the outcomes of calls
    /// written together may hold one MAC twice, once under a claim that has passed on.)
    @discardableResult
    public func recordOutcomes(_ outcomes: [DeliveryOutcome]) async throws(StoreError) -> Set<Int> {
        guard !outcomes.isEmpty else { return [] }
        let macs = outcomes.map(\.device.mac.canonical)
        let generations = outcomes.map(\.device.generation)
        let statuses = outcomes.map(\.status.rawValue)
        let errors = outcomes.map { $0.error ?? "" }
        let tokens = outcomes.map(\.device.claimToken)
        let delays = outcomes.map {
            Double($0.retryAfter.components.seconds) + Double($0.retryAfter.components.attoseconds) / 1e18
        }
        let journal = outcomes.map(\.journal)
        let tenants = journal.map { $0.tenantID ?? "" }
        let actors = journal.map(\.actor)
        let actions = journal.map(\.action)
        let results = journal.map(\.outcome)
        let details = journal.map { JSONValue.encodeObject($0.detail) }
        let moved = outcomes.map(\.moved)
        let superseded = JSONValue.encodeObject(JournalEntry.callSuperseded)
        let claimLost = JSONValue.encodeObject(JournalEntry.callClaimLost)
        let rows = try await self.rows(
            "recording call outcomes",
            """
            WITH input AS (
                SELECT * FROM unnest(\(macs)::text[], \(generations)::bigint[], \(statuses)::text[], \(errors)::text[],
                                     \(delays)::float8[], \(tokens)::bigint[], \(tenants)::text[], \(actors)::text[],
                                     \(actions)::text[], \(results)::text[], \(details)::text[], \(moved)::bool[])
                    WITH ORDINALITY AS i(mac, generation, status, error, delay, claim, tenant, actor, action, result,
                                         detail, moved, n)
            ), written AS (
                -- One statement for both cases, so that a concurrent change of the desired state is seen as it
                -- commits (the row is re-read after waiting for it): the outcome is applied only to the generation
                -- it was for, and the claim is released either way, but only if this claim still holds it.
                UPDATE devices d SET
                    status = CASE WHEN d.generation = i.generation THEN i.status ELSE d.status END,
                    last_error = CASE WHEN d.generation = i.generation THEN NULLIF(i.error, '') ELSE d.last_error END,
                    next_attempt_at = CASE WHEN d.generation = i.generation
                        THEN now() + make_interval(secs => i.delay) ELSE d.next_attempt_at END,
                    updated_at = CASE WHEN d.generation = i.generation THEN now() ELSE d.updated_at END,
                    -- A move's first step done: the MAC is free at the old account; register it with the new one.
                    account = CASE WHEN d.generation = i.generation AND i.moved THEN d.move_to ELSE d.account END,
                    move_to = CASE WHEN d.generation = i.generation AND i.moved THEN NULL ELSE d.move_to END,
                    attempts = CASE WHEN d.generation = i.generation AND i.moved THEN 0 ELSE d.attempts END,
                    claimed_until = NULL
                FROM input i
                WHERE d.mac = i.mac AND \(unescaped: Self.claimTokenOf("d")) = i.claim
                RETURNING i.n, d.generation = i.generation AS applied
            ), journaled AS (
                INSERT INTO journal (tenant_id, mac, actor, action, outcome, detail)
                SELECT NULLIF(i.tenant, ''), i.mac, i.actor, i.action, i.result,
                       i.detail::jsonb || CASE WHEN w.n IS NULL THEN \(claimLost)::jsonb
                                               WHEN NOT w.applied THEN \(superseded)::jsonb ELSE '{}'::jsonb END
                -- By input row, not by MAC: the calls written together may hold one MAC twice, once under a claim
                -- that has passed on.
                FROM input i LEFT JOIN written w ON w.n = i.n
                ORDER BY i.n
            )
            SELECT n FROM written WHERE applied
            """, as: Int64.self)
        return Set(rows.map { Int($0) - 1 })
    }

    /// Releases claims without recording a call, for example at shutdown before the call was sent.
    public func releaseClaims(_ devices: [ClaimedDevice]) async throws(StoreError) {
        guard !devices.isEmpty else { return }
        let macs = devices.map(\.mac.canonical)
        let generations = devices.map(\.generation)
        let tokens = devices.map(\.claimToken)
        _ = try await self.rows(
            "releasing claims",
            """
            UPDATE devices d SET claimed_until = NULL, attempts = greatest(d.attempts - 1, 0)
            FROM unnest(\(macs)::text[], \(generations)::bigint[], \(tokens)::bigint[]) AS i(mac, generation, claim)
            WHERE d.mac = i.mac AND d.generation = i.generation AND \(unescaped: Self.claimTokenOf("d")) = i.claim
            RETURNING d.mac
            """, as: String.self)
    }

    /// When the next pending device becomes due (or its claim expires), if any is pending.
    public func nextDueDate(account: String = RedirectAccount.defaultName) async throws(StoreError) -> Date? {
        try await self.rows(
            "finding the next due device",
            """
            SELECT min(greatest(next_attempt_at, coalesce(claimed_until, next_attempt_at)))
            FROM devices WHERE status = 'pending' AND account = \(account)
            """, as: Date?.self
        ).first ?? nil
    }
}
