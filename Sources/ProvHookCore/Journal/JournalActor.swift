/// Who did what a journal row records: the row's `actor`, `kind:who`. The text is part of the row, and so of the hash
/// chain: a rendering never changes. Every actor provhook journals is built here.
public enum JournalActor: Sendable, Hashable, CustomStringConvertible {
    /// A native webhook: `webhook:<sender's address>`.
    case webhook(peer: String)
    /// A PBX's webhook to a named source: `source:<name>@<sender's address>`.
    case source(String, peer: String)
    /// An admin API call: `admin:<caller's address>`.
    case admin(peer: String)
    /// An operator's command: `cli:<user>`.
    case cli(user: String)
    /// A device import: `import:<user>` from the command line, `import:admin:<address>` from the admin API.
    case importing(by: String)
    /// A reconcile run: `reconcile:<user>` from the command line, `reconcile:<address>` from the admin API.
    case reconcile(by: String)
    /// A source's sync with its PBX, periodic or asked for: `sync:<source>`.
    case sync(source: String)
    /// The lookup worker, for the rows it writes itself: `lookup:<host>`.
    case lookup(host: String)
    /// The delivery worker's calls: `worker:<instance>`.
    case worker(instance: String)
    /// A measuring tool's own events: `bench:<what>`.
    case bench(String)

    /// The kinds of actor, each the text before an actor's first `:`; `docs/auditors.md` lists them.
    public enum Kind: String, Sendable, CaseIterable {
        case webhook, source, admin, cli, `import`, reconcile, sync, lookup, worker, bench
    }

    /// This actor's kind: what its text starts with, before the first `:`.
    public var kind: Kind {
        switch self {
        case .webhook: .webhook
        case .source: .source
        case .admin: .admin
        case .cli: .cli
        case .importing: .import
        case .reconcile: .reconcile
        case .sync: .sync
        case .lookup: .lookup
        case .worker: .worker
        case .bench: .bench
        }
    }

    /// What `source(_:peer:)` writes around a source's name: a source's rows are found by this prefix in SQL.
    public static let sourceAffixes = (before: "source:", after: "@")

    /// The text stored in `journal.actor`.
    public var rawValue: String {
        switch self {
        case .webhook(let peer): "webhook:\(peer)"
        case .source(let name, let peer): "\(Self.sourceAffixes.before)\(name)\(Self.sourceAffixes.after)\(peer)"
        case .admin(let peer): "admin:\(peer)"
        case .cli(let user): "cli:\(user)"
        case .importing(let who): "import:\(who)"
        case .reconcile(let who): "reconcile:\(who)"
        case .sync(let source): "sync:\(source)"
        case .lookup(let host): "lookup:\(host)"
        case .worker(let instance): "worker:\(instance)"
        case .bench(let what): "bench:\(what)"
        }
    }

    public var description: String { self.rawValue }
}
