import Logging
import NIOCore
import PostgresNIO
import ProvisioningModel

extension Store {
    /// Keeps each PIN of `pins` sealed under the current key and bound to its MAC, replacing the one the MAC had, for
    /// devices still meant to be registered; and forgets the PINs of `forgetting` (phones the service deregistered).
    /// Nothing is journaled: a PIN is the phone's secret, not an operator's act.
    public func keepDevicePINs(
        _ pins: [MACAddress: String], forgetting: [MACAddress] = []
    ) async throws(StoreError) {
        guard !pins.isEmpty || !forgetting.isEmpty else { return }
        let secrets = try self.requireSecrets()
        let sealed = pins.map { mac, pin in
            (mac.canonical, secrets.seal(pin, for: .devicePIN(mac.canonical)))
        }
        let forgotten = forgetting.map(\.canonical)
        let logger = self.logger
        try await self.transaction("keeping device PINs") { connection in
            for (mac, (bytes, keyID)) in sealed {
                try await connection.query(
                    """
                    INSERT INTO device_pins (mac, pin_sealed, pin_key_id)
                    SELECT mac, \(ByteBuffer(bytes: bytes)), \(keyID) FROM devices
                    WHERE mac = \(mac) AND desired = 'registered'
                    ON CONFLICT (mac) DO UPDATE
                        SET pin_sealed = excluded.pin_sealed, pin_key_id = excluded.pin_key_id, fetched_at = now()
                    """, logger: logger)
            }
            if !forgotten.isEmpty {
                try await connection.query(
                    "DELETE FROM device_pins WHERE mac = ANY(\(forgotten))", logger: logger)
            }
        }
    }

    /// The PIN provhook keeps for `mac`, opened; nil when it keeps none. Throws when the PIN does not open (another
    /// key sealed it, or it was copied from another MAC's row), or when no key was given.
    public func devicePIN(_ mac: MACAddress) async throws(StoreError) -> String? {
        guard
            let (sealed, keyID) = try await self.rows(
                "reading the PIN of \(mac)",
                "SELECT pin_sealed, pin_key_id FROM device_pins WHERE mac = \(mac.canonical)",
                as: (ByteBuffer, String).self
            ).first
        else { return nil }
        return try self.requireSecrets().open(
            Array(sealed.readableBytesView), keyID: keyID, for: .devicePIN(mac.canonical))
    }

    /// Re-seals under the current key every device PIN a previous key sealed (`tenant reseal`); answers their MACs.
    static func resealDevicePINs(
        _ secrets: SecretKeyring, on connection: PostgresConnection, logger: Logger
    ) async throws -> [String] {
        let rows = try await connection.rows(
            """
            SELECT mac, pin_sealed, pin_key_id FROM device_pins WHERE pin_key_id <> \(secrets.current.id)
            ORDER BY mac FOR UPDATE
            """, as: (String, ByteBuffer, String).self, logger: logger)
        for (mac, sealed, keyID) in rows {
            let pin = try secrets.open(Array(sealed.readableBytesView), keyID: keyID, for: .devicePIN(mac))
            let (resealed, newKeyID) = secrets.seal(pin, for: .devicePIN(mac))
            try await connection.query(
                """
                UPDATE device_pins SET pin_sealed = \(ByteBuffer(bytes: resealed)), pin_key_id = \(newKeyID)
                WHERE mac = \(mac)
                """, logger: logger)
        }
        return rows.map(\.0)
    }
}
