import ArgumentParser
import FakePBXService
import Foundation
import Logging
import UnixSignals

/// Runs the stand-ins of the Kazoo crossbar and Wazo auth/confd APIs, for local runs and manual checks.
@main
struct FakePBXCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fake-pbx",
        abstract: "Stand-ins of Kazoo crossbar (/v2) and Wazo auth/confd (/api) for device lookups.",
        discussion: "SIGTERM or SIGINT stops it.")

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on; 0 picks a free one.") var port = 0
    @Option(help: "Write the bound port to this file once listening.") var portFile: String?
    @Option(help: "The Kazoo account id whose API key is in --kazoo-api-key-file.") var kazooAccount = "demo-account"
    @Option(help: "A file holding the Kazoo account's API key.") var kazooAPIKeyFile: String?
    @Option(help: "A Kazoo device of the account: ID=MAC (12 hex digits); repeat for several.")
    var kazooDevice: [String] = []
    @Option(help: "Also give the Kazoo account this many generated devices (dev000001…, MACs from --kazoo-first-mac).")
    var kazooGeneratedDevices = 0
    @Option(help: "The first generated device's MAC, as 12 hex digits.") var kazooFirstMAC = "000414000001"
    @Option(help: "The Wazo user whose password is in --wazo-password-file.") var wazoUser = "provhook"
    @Option(help: "A file holding the Wazo user's password.") var wazoPasswordFile: String?
    @Option(help: "The Wazo tenant uuid of the user and its devices.") var wazoTenant = "demo-tenant"
    @Option(help: "A Wazo device: ID=MAC (aa:bb:cc:dd:ee:ff); repeat for several.") var wazoDevice: [String] = []
    @Option(
        help: "Also give the Wazo tenant this many generated devices (their ids are UUIDs; MACs from --wazo-first-mac)."
    )
    var wazoGeneratedDevices = 0
    @Option(help: "The first generated Wazo device's MAC, as 12 hex digits.") var wazoFirstMAC = "000414000001"

    func run() async throws {
        func secret(_ path: String?, _ option: String) throws -> String? {
            guard let path else { return nil }
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ValidationError("\(option): cannot read \(path)")
            }
            return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        func pairs(_ values: [String], _ option: String) throws -> [(String, String)] {
            try values.map { value in
                guard let equals = value.firstIndex(of: "=") else { throw ValidationError("\(option) takes ID=MAC") }
                return (String(value[..<equals]), String(value[value.index(after: equals)...]))
            }
        }
        var kazoo: [String: FakePBXState.KazooAccount] = [:]
        if let key = try secret(self.kazooAPIKeyFile, "--kazoo-api-key-file") {
            var devices: [String: FakePBXState.KazooDevice] = [:]
            for (id, mac) in try pairs(self.kazooDevice, "--kazoo-device") {
                devices[id] = .init(macAddress: mac.lowercased(), brand: "snom", model: "D785")
            }
            guard let first = UInt64(self.kazooFirstMAC, radix: 16) else {
                throw ValidationError("--kazoo-first-mac takes 12 hex digits")
            }
            for index in stride(from: 0, to: self.kazooGeneratedDevices, by: 1) {
                devices[String(format: "dev%06d", index + 1)] = .init(
                    macAddress: String(format: "%012llx", first + UInt64(index)), brand: "snom", model: "D785")
            }
            kazoo[self.kazooAccount] = .init(apiKey: key, devices: devices)
        }
        var users: [String: (password: String, tenantUUID: String)] = [:]
        if let password = try secret(self.wazoPasswordFile, "--wazo-password-file") {
            users[self.wazoUser] = (password, self.wazoTenant)
        }
        var wazoDevices: [String: FakePBXState.WazoDevice] = [:]
        for (id, mac) in try pairs(self.wazoDevice, "--wazo-device") {
            wazoDevices[id] = .init(mac: mac.lowercased(), vendor: "Snom", model: "D785", tenantUUID: self.wazoTenant)
        }
        guard let firstWazo = UInt64(self.wazoFirstMAC, radix: 16) else {
            throw ValidationError("--wazo-first-mac takes 12 hex digits")
        }
        for index in stride(from: 0, to: self.wazoGeneratedDevices, by: 1) {
            let hex = String(format: "%012llx", firstWazo + UInt64(index))
            let mac = stride(from: 0, to: 12, by: 2).map { offset in
                String(hex.dropFirst(offset).prefix(2))
            }.joined(separator: ":")
            wazoDevices[UUID().uuidString.lowercased()] = .init(
                mac: mac, vendor: "Snom", model: "D785", tenantUUID: self.wazoTenant)
        }
        let logger = Logger(label: "fake-pbx")
        let signals = await UnixSignalsSequence(trapping: [.sigterm, .sigint])
        let server = try await RunningFakePBX.start(
            state: FakePBXState(kazooAccounts: kazoo, wazoUsers: users, wazoDevices: wazoDevices), host: self.host,
            port: self.port, logger: logger)
        if let portFile { try "\(server.port)\n".write(toFile: portFile, atomically: true, encoding: .utf8) }
        logger.info("PBX stand-ins listening", metadata: ["url": "\(server.baseURL)"])
        for await _ in signals { break }
        await server.stop()
    }
}
