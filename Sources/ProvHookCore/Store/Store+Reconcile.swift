import Foundation
import Logging
import PostgresNIO
import ProvisioningModel

extension Store {
    /// Queues a device again with its current desired state (a new generation), with a journal row; used by
    /// reconcile when the service disagrees with what the database says is applied. Returns the new generation,
    /// or nil when the device is skipped or unknown.
    public func requeue(
        _ mac: MACAddress, actor: String, reason: String, detail: [String: JSONValue]
    ) async throws(StoreError) -> Int64? {
        let logger = self.logger
        let canonical = mac.canonical
        return try await self.transaction("queueing \(mac) again") { connection in
            let rows = try await connection.rows(
                """
                UPDATE devices SET generation = generation + 1 WHERE mac = \(canonical) AND status <> 'skipped'
                RETURNING tenant_id, generation
                """, as: (String?, Int64).self, logger: logger)
            guard let (tenantID, generation) = rows.first else { return nil }
            var fullDetail = detail
            fullDetail["reason"] = .string(reason)
            try await Self.appendJournal(
                [
                    .deviceQueued(
                        .reconcileFix, mac: canonical, tenantID: tenantID, generation: generation, actor: actor,
                        detail: fullDetail)
                ], on: connection, logger: logger)
            return generation
        }
    }

    /// Queues the deregistration of a MAC that no tenant claims (`reconcile --prune`): a devices row with no tenant,
    /// desired `deregistered`, which the worker applies like any other. Returns its generation, or nil when the
    /// database knows the MAC by now (a webhook claimed it since the reconcile read the known MACs): then nothing is
    /// queued, and the tenant's own desired state stands.
    public func queueUnclaimedDeregistration(
        _ mac: MACAddress, account: String = RedirectAccount.defaultName, actor: String, detail: [String: JSONValue]
    ) async throws(StoreError) -> Int64? {
        let logger = self.logger
        let canonical = mac.canonical
        return try await self.transaction("queueing the prune of \(mac)") { connection in
            let rows = try await connection.rows(
                """
                INSERT INTO devices (mac, tenant_id, desired, status, account)
                VALUES (\(canonical), NULL, 'deregistered', 'pending', \(account))
                ON CONFLICT (mac) DO NOTHING
                RETURNING generation
                """, as: Int64.self, logger: logger)
            guard let generation = rows.first else { return nil }
            try await Self.appendJournal(
                [
                    .deviceQueued(
                        .deviceDeregister, mac: canonical, tenantID: nil, generation: generation, actor: actor,
                        detail: detail)
                ], on: connection, logger: logger)
            return generation
        }
    }

    /// The model and URL of registered devices that share both, with how many there are: what reconcile asks the
    /// service for as lists. Devices waiting for delivery or skipped are not reconciled.
    public func reconcileGroups(
        tenantID: String?, account: String? = nil
    ) async throws(StoreError) -> [(model: String, url: String, count: Int)] {
        try await self.rows(
            "grouping devices by model and URL",
            """
            SELECT model, url, count(*)::bigint FROM devices
            WHERE desired = 'registered' AND status NOT IN ('pending', 'skipped') AND model IS NOT NULL
              AND url IS NOT NULL AND (\(tenantID)::text IS NULL OR tenant_id = \(tenantID))
              AND (\(account)::text IS NULL OR account = \(account)) AND move_to IS NULL
            GROUP BY model, url HAVING count(*) >= 2
            """, as: (String, String, Int64).self
        ).map { (model: $0.0, url: $0.1, count: Int($0.2)) }
    }

    /// How many devices reconcile compares: neither waiting for delivery nor skipped.
    public func reconcilableDeviceCount(tenantID: String?, account: String? = nil) async throws(StoreError) -> Int {
        try await self.rows(
            "counting devices",
            """
            SELECT count(*)::bigint FROM devices
            WHERE status NOT IN ('pending', 'skipped') AND (\(tenantID)::text IS NULL OR tenant_id = \(tenantID))
              AND (\(account)::text IS NULL OR account = \(account))
            """, as: Int64.self
        ).first.map(Int.init) ?? 0
    }

    /// Queues the move of a MAC that `holder`, one of our accounts, holds at the service while its device's calls go
    /// to another: deregistered with `holder`, then registered (or left deregistered) with the device's own account.
    /// Journaled as `device.move`. Returns the device's tenant and new generation, or nil when the device is unknown,
    /// skipped, already moving, or already uses `holder`.
    public func queueMove(
        _ mac: MACAddress, from holder: String, actor: String, detail: [String: JSONValue]
    ) async throws(StoreError) -> (tenantID: String?, generation: Int64)? {
        let logger = self.logger
        let canonical = mac.canonical
        return try await self.transaction("queueing the move of \(mac)") { connection in
            try await Self.requireAccount(holder, on: connection, logger: logger)
            let rows = try await connection.rows(
                """
                UPDATE devices SET move_to = account, account = \(holder), generation = generation + 1
                WHERE mac = \(canonical) AND status <> 'skipped' AND move_to IS NULL AND account <> \(holder)
                RETURNING tenant_id, generation, move_to
                """, as: (String?, Int64, String).self, logger: logger)
            guard let (tenantID, generation, target) = rows.first else { return nil }
            var fullDetail = detail
            fullDetail["from_account"] = .string(holder)
            fullDetail["to_account"] = .string(target)
            try await Self.appendJournal(
                [
                    .deviceQueued(
                        .deviceMove, mac: canonical, tenantID: tenantID, generation: generation, actor: actor,
                        detail: fullDetail)
                ], on: connection, logger: logger)
            return (tenantID, generation)
        }
    }

    /// Every MAC the database knows, with the account that holds it or should (the one its next call is made with);
    /// nil for a device no account serves.
    public func knownMACAccounts() async throws(StoreError) -> [String: String?] {
        Dictionary(
            try await self.rows("listing MACs", "SELECT mac, account FROM devices", as: (String, String?).self),
            uniquingKeysWith: { first, _ in first })
    }
}

extension Store {
    /// The accounts that serve a tenant's devices: those its devices' next calls are made with, and those it names.
    public func accountsServing(tenantID: String) async throws(StoreError) -> Set<String> {
        Set(
            try await self.rows(
                "reading the accounts of tenant \(tenantID)",
                """
                SELECT account FROM devices WHERE tenant_id = \(tenantID) AND account IS NOT NULL
                UNION SELECT account FROM tenant_vendors WHERE tenant_id = \(tenantID) AND account IS NOT NULL
                """, as: String.self))
    }
}
