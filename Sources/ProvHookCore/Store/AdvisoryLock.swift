/// The keys of provhook's PostgreSQL advisory locks, side by side so that they cannot collide.
enum AdvisoryLock {
    /// One-key lock that serialises concurrent `provhook migrate` runs: "provhook" in ASCII.
    static let migrator: Int64 = 0x7072_6F76_686F_6F6B
    /// One-key lock held by the one journal sealer at work. Its value is the one earlier releases used (the
    /// migrator's plus one), so that sealers of two releases exclude each other during an upgrade.
    static let journalSealer: Int64 = 0x7072_6F76_686F_6F6C
    /// First key of the two-key locks that put changes to one `device_id` in line (the second is a hash of the tenant
    /// and the id): "PHK1". Two-key locks never collide with one-key ones.
    static let deviceIDClass: Int32 = 0x5048_4B31
}
