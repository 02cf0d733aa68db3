import ArgumentParser
import Foundation
import ProvHookCore

extension DeviceCommand {
    /// `provhook device import FILE.csv`: onboarding by CSV.
    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add devices from a CSV file, each row as a device.added event of its tenant.",
            discussion: """
                The header names the columns mac,device_id,extension,model and optionally vendor (the phone's \
                brand), serial (its serial number: 1 to 64 ASCII letters, digits and - . _ : /), gigaset_code (the \
                4 letters or digits printed on a Gigaset phone beside its MAC) and tenant, in any \
                order; a MAC may be written in any spelling. Each row goes through the same planner and journal as \
                a webhook (actor import:<user>); a row imported before, unchanged, is a duplicate and changes \
                nothing; an empty serial or gigaset_code keeps the one the device has. A file with a refused row imports nothing \
                unless --partial is given. Every refused row is listed with its line, and the command exits 1 when \
                any row was refused.
                """)
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The CSV file; - for standard input.") var file: String
        @Option(help: "The tenant of rows without a tenant column; with one, rows of other tenants are refused.")
        var tenant: String?
        @Flag(help: "Import the good rows of a file that has refused rows.") var partial = false
        @Flag(help: "Check the file and say what would be imported; import nothing.") var dryRun = false
        @Flag(help: "Print the result as JSON.") var json = false

        func run() async throws {
            let bytes: [UInt8]
            do {
                bytes =
                    self.file == "-"
                    ? Array(FileHandle.standardInput.readDataToEndOfFile())
                    : Array(try Data(contentsOf: URL(fileURLWithPath: self.file)))
            } catch {
                throw CLIFailure.input("cannot read \(self.file): \(error.localizedDescription)")
            }
            let parsed: DeviceImportFile
            do {
                parsed = try DeviceImportFile(bytes: bytes, tenant: self.tenant)
            } catch {
                throw CLIFailure.input("\(self.file): \(error.description)")
            }
            let actor = JournalActor.importing(by: cliUser).rawValue
            let planner = EventPlanner(prefixes: try cliVendorPrefixes())
            let result = try await self.database.withStore { store in
                try await store.importDevices(
                    parsed, actor: actor, planner: planner,
                    partial: self.partial, dryRun: self.dryRun
                ) { done, total in
                    FileHandle.standardError.write(Data("imported \(done) of \(total) rows\n".utf8))
                }
            }
            if self.json {
                try printJSON(result)
            } else {
                for refusal in result.refused {
                    print("line \(refusal.line): \(terminalSafe(refusal.mac)): \(terminalSafe(refusal.reason))")
                }
                let good = result.rows - result.refused.count
                if result.wroteNothing {
                    print(
                        self.dryRun
                            ? "dry run: \(good) of \(result.rows) row(s) would be imported, \(result.refused.count) refused"
                            : "nothing imported: \(result.refused.count) of \(result.rows) row(s) refused "
                                + "(--partial imports the \(good) good ones)")
                } else {
                    print(
                        "\(result.accepted) row(s) imported, \(result.duplicates) unchanged since an earlier import, "
                            + "\(result.refused.count) refused, of \(result.rows)")
                }
            }
            if !result.refused.isEmpty {
                throw CLIFailure(message: "\(result.refused.count) row(s) refused", exitCode: 1)
            }
        }
    }
}
