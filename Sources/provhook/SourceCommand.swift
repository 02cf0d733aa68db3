import ArgumentParser
import EventSources
import Foundation
import ProvHookCore

/// `provhook source …`: PBX platforms' own webhooks, each for one tenant.
struct SourceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "source", abstract: "Manage inbound sources (a PBX platform's own webhooks).",
        subcommands: [Add.self, List.self, RotateToken.self, Remove.self])

    /// What `add` and `rotate-token` print with `--json`.
    struct SourceWithToken: Encodable {
        var source: Source
        var token: String

        func encode(to encoder: any Encoder) throws {
            try self.source.encode(to: encoder)
            var container = encoder.container(keyedBy: Key.self)
            try container.encode(self.token, forKey: .token)
        }

        enum Key: String, CodingKey { case token }
    }

    static func show(_ source: Source, token: String, json: Bool, verb: String) throws {
        if json { return try printJSON(SourceWithToken(source: source, token: token)) }
        print("\(verb) source \(source.name) (\(source.kind.rawValue)) for tenant \(source.tenantID)")
        print("webhook path: \(source.path)")
        print("token (shown only now; put it in the hook's URL as ?token=…): \(token)")
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a source; prints its token once.")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "Source name, as it appears in /v1/sources/{name}/events.") var name: String
        @Option(help: "kazoo (2600Hz Kazoo object webhooks on devices) or mapping (any other panel).") var kind: String
        @Option(help: "The tenant whose devices the source's events change.") var tenant: String
        @Option(help: "For --kind mapping: the mapping file (JSON; see the README, \"Mapping sources\").")
        var mapping: String?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            guard let kind = SourceKind(rawValue: self.kind) else {
                throw CLIFailure.input(
                    "--kind must be one of: \(SourceKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            var mappingJSON: String?
            switch (kind, self.mapping) {
            case (.mapping, let path?):
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw CLIFailure.input("--mapping: cannot read \(path)")
                }
                do {
                    _ = try SourceMapping(json: Array(data))
                } catch {
                    throw CLIFailure.input("--mapping \(path): \(error)")
                }
                mappingJSON = String(decoding: data, as: UTF8.self)
            case (.mapping, nil): throw CLIFailure.input("--kind mapping needs --mapping FILE")
            case (_, _?): throw CLIFailure.input("--mapping is only for --kind mapping")
            case (_, nil): break
            }
            let (source, token) = try await self.database.withStore(needsSecrets: true) { store in
                try await store.addSource(
                    name: self.name, kind: kind, tenantID: self.tenant, mapping: mappingJSON, actor: cliActor)
            }
            try SourceCommand.show(source, token: token, json: self.json, verb: "added")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List sources.")
        @OptionGroup var database: DatabaseOptions
        @Flag(help: "Include removed sources.") var all = false
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let sources = try await self.database.withStore { try await $0.sources(includeRemoved: self.all) }
            if self.json { return try printJSON(sources) }
            printTable(
                ["NAME", "KIND", "TENANT", "CREATED", "REMOVED", "PATH"],
                sources.map {
                    [
                        $0.name, $0.kind.rawValue, $0.tenantID, $0.createdAt.iso8601, $0.removedAt?.iso8601 ?? "-",
                        $0.path,
                    ]
                })
        }
    }

    struct RotateToken: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-token", abstract: "Give a source a new token (printed once); the old one stops.")
        @OptionGroup var database: DatabaseOptions
        @Argument var name: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let (source, token) = try await self.database.withStore(needsSecrets: true) { store in
                try await store.rotateSourceToken(name: self.name, actor: cliActor)
            }
            try SourceCommand.show(source, token: token, json: self.json, verb: "rotated the token of")
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a source: its webhooks are answered 404. Its tenant's devices stay.")
        @OptionGroup var database: DatabaseOptions
        @Argument var name: String

        func run() async throws {
            try await self.database.withStore { try await $0.removeSource(name: self.name, actor: cliActor) }
            print("removed source \(self.name)")
        }
    }
}
