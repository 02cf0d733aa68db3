import Foundation
import PackagePlugin

/// Embeds the commit the package's checkout is at (`BuildCommit.hash`), for `provhook --version`. The tool reads git's
/// files itself when it runs, so that the hash is the one at build time; this plugin only names those files as the
/// command's inputs, so that a new commit or another branch rebuilds it. Without `.git` (a source archive) the hash
/// is "unknown".
@main
struct EmbedCommit: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let checkout = context.package.directoryURL
        let output = context.pluginWorkDirectoryURL.appending(path: "BuildCommit.swift")
        return [
            .buildCommand(
                displayName: "Embedding the commit of \(checkout.lastPathComponent)",
                executable: try context.tool(named: "embed-sql").url,
                arguments: ["--commit", output.path, checkout.path],
                inputFiles: Self.gitFiles(checkout),
                outputFiles: [output]
            )
        ]
    }

    /// HEAD, the branch it names and packed-refs, where they exist. A worktree's `.git` is a file naming its own git
    /// directory, whose `commondir` holds the branches.
    static func gitFiles(_ checkout: URL) -> [URL] {
        let manager = FileManager.default
        var gitDirectory = checkout.appending(path: ".git")
        if let text = try? String(contentsOf: gitDirectory, encoding: .utf8), text.hasPrefix("gitdir:") {
            let path = text.dropFirst("gitdir:".count).trimmingCharacters(in: .whitespacesAndNewlines)
            gitDirectory = path.hasPrefix("/") ? URL(fileURLWithPath: path) : checkout.appending(path: path)
        }
        var common = gitDirectory
        if let text = try? String(contentsOf: gitDirectory.appending(path: "commondir"), encoding: .utf8) {
            let path = text.trimmingCharacters(in: .whitespacesAndNewlines)
            common = path.hasPrefix("/") ? URL(fileURLWithPath: path) : gitDirectory.appending(path: path)
        }
        let head = gitDirectory.appending(path: "HEAD")
        var files = [head, gitDirectory.appending(path: "packed-refs"), common.appending(path: "packed-refs")]
        if let text = try? String(contentsOf: head, encoding: .utf8), text.hasPrefix("ref: ") {
            let ref = text.dropFirst("ref: ".count).trimmingCharacters(in: .whitespacesAndNewlines)
            files += [gitDirectory.appending(path: ref), common.appending(path: ref)]
        }
        var seen = Set<String>()
        return files.filter { manager.fileExists(atPath: $0.path) && seen.insert($0.standardized.path).inserted }
    }
}
