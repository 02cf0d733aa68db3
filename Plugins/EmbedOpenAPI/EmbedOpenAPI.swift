import Foundation
import PackagePlugin

/// Embeds the target's `Admin/openapi.yaml` as a Swift string literal, so that the binary serves its own OpenAPI
/// document without a resource bundle (an installed package is one file) and the document stays a YAML file that
/// tools and editors read as YAML.
@main
struct EmbedOpenAPI: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let document = context.package.directoryURL.appending(path: "Sources/\(target.name)/Admin/openapi.yaml")
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedOpenAPI.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(document.lastPathComponent)",
                executable: try context.tool(named: "embed-sql").url,
                arguments: ["--enum", "EmbeddedOpenAPI", output.path, document.path],
                inputFiles: [document],
                outputFiles: [output]
            )
        ]
    }
}
