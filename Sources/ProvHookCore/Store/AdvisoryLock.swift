/// The keys of provhook's PostgreSQL advisory locks, side by side so that they cannot collide.
enum AdvisoryLock {
    /// One-key lock that serialises concurrent `provhook migrate` runs: "provhook" in ASCII.
    static let migrator: Int64 = 0x7072_6F76_686F_6F6B
    /// One-key lock held by the one journal sealer at work. Its value is the one earlier releases used (the
    /// migrator's plus one), so that sealers of two releases exclude each other during an upgrade.
    static let journalSealer: Int64 = 0x7072_6F76_686F_6F6C
    /// One-key lock that puts claims of lookups in line across processes, so that each claim sees the leases the
    /// previous one committed and the bound on one source's lookups in flight holds for all processes together.
    static let lookupClaims: Int64 = 0x7072_6F76_686F_6F6D
    /// First key of the two-key locks that put changes to one `device_id` in line (the second is a hash of the tenant
    /// and the id): "PHK1". Two-key locks never collide with one-key ones.
    static let deviceIDClass: Int32 = 0x5048_4B31
    /// First key of the two-key locks that put the lookups queued for one device of a source in line (the second is a
    /// hash of the source, tenant and device id): "PHK2". Two events for the same device at the same moment would
    /// otherwise both find nothing to merge into, and both queue a call to the PBX.
    static let lookupDeviceClass: Int32 = 0x5048_4B32
}
