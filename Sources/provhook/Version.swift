/// provhook's version, written here only: `provhook --version` prints it with the commit it was built from, and
/// `contrib/package-deb.sh` gives the Debian package the version that command prints.
enum ProvHookVersion {
    static let number = "0.1.0"

    /// What `provhook --version` prints: `provhook 0.1.0 (commit 0123abc…)`.
    static var description: String { "provhook \(Self.number) (commit \(BuildCommit.hash))" }
}
