import Foundation
import PackagePlugin

/// Embeds the package's `sql/*.sql` files into the target as Swift string literals, so that the binary carries its
/// migrations and `sql/` stays the one source of the schema.
@main
struct EmbedSQL: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let directory = context.package.directoryURL.appending(path: "sql")
        let files = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
            // schema.sql is the schema for reading, generated from the migrations; the binary has no use for it.
            .filter { $0.pathExtension == "sql" && $0.lastPathComponent != "schema.sql" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedSQL.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(files.count) files of sql/",
                executable: try context.tool(named: "embed-sql").url,
                arguments: [output.path] + files.map(\.path),
                inputFiles: files,
                outputFiles: [output]
            )
        ]
    }
}
