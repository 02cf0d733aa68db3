import Foundation

/// Runs the built `provhook` (or another product) as a separate process, the way an operator would.
struct CommandLineRunner {
    struct Result {
        var status: Int32
        var output: String
        var error: String
    }

    /// The products folder: the test bundle sits beside the executables.
    static var productsDirectory: URL {
        URL(
            fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
                ?? CommandLine.arguments[0]
        )
        .deletingLastPathComponent()
    }

    var executable = "provhook"
    /// A full path to run instead of a product.
    var executablePath: String?
    var environment: [String: String] = [:]

    func run(_ arguments: [String], input: String? = nil) throws -> Result {
        let process = Process()
        process.executableURL =
            self.executablePath.map(URL.init(fileURLWithPath:))
            ?? Self.productsDirectory.appendingPathComponent(self.executable)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PROVHOOK_") }
        environment.merge(self.environment) { _, new in new }
        process.environment = environment
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, output: String(decoding: outputData, as: UTF8.self),
            error: String(decoding: errorData, as: UTF8.self))
    }
}
