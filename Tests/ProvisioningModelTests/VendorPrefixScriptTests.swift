import Foundation
import Testing

/// Runs `contrib/generate-vendor-prefixes.sh` on small registries written here, so that its selection rules, its
/// extras and its check against the reference are tested without Debian's `ieee-data`.
@Suite("contrib/generate-vendor-prefixes.sh")
struct VendorPrefixScriptTests {
    /// The registry entries of the reference's OUIs, with their organisation names as the IEEE spells them, and
    /// decoys that the rules must leave out.
    static let registry: [(oui: String, organisation: String)] = [
        ("00-04-13", "snom technology GmbH"), ("00-15-65", "XIAMEN YEALINK NETWORK TECHNOLOGY CO.,LTD"),
        ("80-5E-C0", "YEALINK(XIAMEN) NETWORK TECHNOLOGY CO.,LTD."),
        ("80-5E-0C", "YEALINK(XIAMEN) NETWORK TECHNOLOGY CO.,LTD."),
        ("24-9A-D8", "YEALINK(XIAMEN) NETWORK TECHNOLOGY CO.,LTD."), ("00-04-F2", "Polycom"), ("64-16-7F", "Polycom"),
        ("48-25-67", "Poly"), ("00-21-04", "Gigaset Communications GmbH"), ("58-9E-C6", "Gigaset Communications GmbH"),
        ("7C-2F-80", "Gigaset Communications GmbH"), ("14-B3-70", "Gigaset Digital Technology (Shenzhen) Co., Ltd."),
        ("0C-38-3E", "Fanvil Technology Co., Ltd."), ("08-00-23", "Panasonic Communications Co., Ltd."),
        ("00-80-F0", "Panasonic Communications Co., Ltd."), ("BC-C3-42", "Panasonic Communications Co., Ltd."),
        ("00-1F-C1", "Hanlong Technology Co.,LTD"), ("0C-11-05", "AKUVOX (XIAMEN) NETWORKS CO., LTD"),
        ("00-0B-82", "Grandstream Networks, Inc."), ("C0-74-AD", "Grandstream Networks, Inc."),
        ("EC-74-D7", "Grandstream Networks Inc"), ("E0-E6-56", "Nethesis  srl"),
        // Decoys: a name that contains a vendor's, and Panasonic's other businesses.
        ("00-26-C3", "Insightek Corp."), ("00-60-44", "LITTON/POLY-SCIENTIFIC"), ("00-12-67", "Panasonic Corporation"),
        ("00-1B-D3", "Panasonic Corporation AVC Networks Company"), ("00-22-72", "American Micro-Fuel Device Corp."),
    ]

    /// What the script must write for `registry`: its selection, plus the script's extras.
    static let expected: [String: String] = [
        "000413": "snom", "001565": "yealink", "805EC0": "yealink", "805E0C": "yealink", "249AD8": "yealink",
        "0004F2": "poly", "64167F": "poly", "482567": "poly", "002104": "gigaset", "589EC6": "gigaset",
        "7C2F80": "gigaset", "14B370": "gigaset", "0C383E": "fanvil", "080023": "panasonic", "0080F0": "panasonic",
        "BCC342": "panasonic", "001FC1": "htek", "0C1105": "akuvox", "000B82": "grandstream", "C074AD": "grandstream",
        "EC74D7": "grandstream", "E0E656": "fanvil", "00A859": "fanvil", "00087B": "snom", "00ACDC": "gigaset",
    ]

    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("contrib/generate-vendor-prefixes.sh")

    /// The script's exit status, standard error, and what it wrote.
    struct Run {
        var status: Int32
        var errors: String
        var output: String?
    }

    /// Writes `entries` as an `oui.txt` in a fresh folder and runs the script on it.
    func run(_ entries: [(oui: String, organisation: String)]) throws -> Run {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("oui-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var text = "OUI/MA-L\t\t\tOrganization\ncompany_id\t\t\tOrganization\n\n"
        for entry in entries {
            let base16 = entry.oui.replacingOccurrences(of: "-", with: "")
            text += "\(entry.oui)   (hex)\t\t\(entry.organisation)\n\(base16)     (base 16)\t\t\(entry.organisation)\n"
            text += "\t\t\t\tSomewhere\n\t\t\t\tXX\n\n"
        }
        let registry = folder.appendingPathComponent("oui.txt")
        try text.write(to: registry, atomically: true, encoding: .utf8)
        try "1661630937\n".write(to: folder.appendingPathComponent(".lastupdate"), atomically: true, encoding: .utf8)
        let output = folder.appendingPathComponent("VendorPrefixes+IEEE.swift")

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["bash", Self.script.path, registry.path]
        process.environment = ProcessInfo.processInfo.environment.merging(["VENDOR_PREFIXES_OUTPUT": output.path]) {
            $1
        }
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return Run(
            status: process.terminationStatus, errors: errorText,
            output: try? String(contentsOf: output, encoding: .utf8))
    }

    /// The `"OUI": .vendor` lines of a generated file.
    func entries(of source: String) -> [String: String] {
        var entries: [String: String] = [:]
        for line in source.split(separator: "\n") {
            let parts = line.split(separator: "\"")
            guard parts.count >= 3, let dot = parts[2].firstIndex(of: ".") else { continue }
            let vendor = parts[2][parts[2].index(after: dot)...].prefix { $0.isLetter }
            entries[String(parts[1])] = String(vendor)
        }
        return entries
    }

    @Test("it selects by organisation name, adds its extras, and says where the table came from")
    func generates() throws {
        let run = try self.run(Self.registry)
        #expect(run.status == 0, "\(run.errors)")
        let source = try #require(run.output)
        #expect(self.entries(of: source) == Self.expected)
        #expect(source.hasPrefix("// Generated by contrib/generate-vendor-prefixes.sh from "))
        #expect(source.contains(".lastupdate 2022-08-27 20:08:57 UTC"))
    }

    @Test("a registry that lacks one of the reference's OUIs fails, naming it")
    func referenceChecked() throws {
        let run = try self.run(Self.registry.filter { $0.oui != "00-15-65" })
        #expect(run.status != 0)
        #expect(run.errors.contains("001565"))
    }

    @Test("a missing registry says how to install it")
    func missingRegistry() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["bash", Self.script.path, "/nonexistent/oui.txt"]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus != 0)
        #expect(text.contains("apt-get install -y ieee-data"))
    }
}
