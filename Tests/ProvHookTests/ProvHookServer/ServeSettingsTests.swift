import Foundation
import ProvHookCore
import ProvHookServer
import ProvHookTestSupport
import ProvisioningModel
import SnomXMLRPC
import Testing

/// `serve`'s settings as docs/configuration.md documents them: the admin token and its file, the vendor prefixes, and a dry run
/// that needs no credentials. Each refusal names the variable to fix and holds no secret.
@Suite("serve's settings")
struct ServeSettingsTests {
    /// What every `serve` needs: a database and a secret key file.
    static func environment(_ extra: [String: String], keyFile: String) -> Settings {
        var environment = ["PROVHOOK_DATABASE_URL": "postgres://provhook@127.0.0.1:5432/provhook"]
        environment["PROVHOOK_SECRET_KEY_FILE"] = keyFile
        environment["PROVHOOK_REDIRECT_USER"] = "u"
        environment["PROVHOOK_REDIRECT_PASSWORD"] = "redirect-Pa55"
        environment.merge(extra) { _, new in new }
        return Settings(environment: environment.compactMapValues { $0.isEmpty ? nil : $0 })
    }

    static func withKeyFile<T>(_ body: (String) throws -> T) throws -> T {
        let keyFile = try SecretKeyFile.write()
        defer { try? FileManager.default.removeItem(atPath: keyFile) }
        return try body(keyFile)
    }

    @Test("the admin token: at least 16 characters, from the variable or its _FILE, never in a message")
    func adminToken() throws {
        try Self.withKeyFile { keyFile in
            let short = "fifteen-chars-x"
            #expect {
                try Self.environment(["PROVHOOK_ADMIN_TOKEN": short], keyFile: keyFile).serveConfiguration(ServeFlags())
            } throws: { error in
                let text = String(describing: error)
                return text == "PROVHOOK_ADMIN_TOKEN must be at least 16 characters" && !text.contains(short)
            }
            let long = short + "y"
            let accepted = try Self.environment(["PROVHOOK_ADMIN_TOKEN": long], keyFile: keyFile)
                .serveConfiguration(ServeFlags())
            #expect(accepted.adminToken == long)
            #expect(try Self.environment([:], keyFile: keyFile).serveConfiguration(ServeFlags()).adminToken == nil)

            let path = try TemporaryFile.write(long + "\r\n")
            defer { try? FileManager.default.removeItem(atPath: path) }
            let fromFile = try Self.environment(["PROVHOOK_ADMIN_TOKEN_FILE": path], keyFile: keyFile)
                .serveConfiguration(ServeFlags())
            #expect(fromFile.adminToken == long, "the file's line ending is not part of the token")
            let both = try Self.environment(
                ["PROVHOOK_ADMIN_TOKEN": long + "-variable", "PROVHOOK_ADMIN_TOKEN_FILE": path], keyFile: keyFile
            ).serveConfiguration(ServeFlags())
            #expect(both.adminToken == long + "-variable", "the variable wins over the file")

            let shortPath = try TemporaryFile.write(short)
            defer { try? FileManager.default.removeItem(atPath: shortPath) }
            #expect {
                try Self.environment(["PROVHOOK_ADMIN_TOKEN_FILE": shortPath], keyFile: keyFile)
                    .serveConfiguration(ServeFlags())
            } throws: { error in
                String(describing: error) == "PROVHOOK_ADMIN_TOKEN must be at least 16 characters"
            }
            #expect {
                try Self.environment(["PROVHOOK_ADMIN_TOKEN_FILE": "/nonexistent/token"], keyFile: keyFile)
                    .serveConfiguration(ServeFlags())
            } throws: { error in
                String(describing: error) == "PROVHOOK_ADMIN_TOKEN_FILE: cannot read /nonexistent/token"
            }
        }
    }

    @Test("the listeners' limits: PROVHOOK_BODY_TIMEOUT_SECONDS (1…600, 30) and PROVHOOK_MAX_CONNECTIONS (1…1,000,000)")
    func listenerLimits() throws {
        try Self.withKeyFile { keyFile in
            let defaults = try Self.environment([:], keyFile: keyFile).serveConfiguration(ServeFlags())
            #expect(defaults.bodyTimeout == .seconds(30))
            #expect(defaults.maxConnections == 4096)
            let set = try Self.environment(
                ["PROVHOOK_BODY_TIMEOUT_SECONDS": "5", "PROVHOOK_MAX_CONNECTIONS": "100"], keyFile: keyFile
            ).serveConfiguration(ServeFlags())
            #expect(set.bodyTimeout == .seconds(5))
            #expect(set.maxConnections == 100)
            for (variable, value) in [
                ("PROVHOOK_BODY_TIMEOUT_SECONDS", "0"), ("PROVHOOK_BODY_TIMEOUT_SECONDS", "601"),
                ("PROVHOOK_BODY_TIMEOUT_SECONDS", "2.5"), ("PROVHOOK_MAX_CONNECTIONS", "0"),
                ("PROVHOOK_MAX_CONNECTIONS", "1000001"),
            ] {
                #expect("\(variable)=\(value)") {
                    try Self.environment([variable: value], keyFile: keyFile).serveConfiguration(ServeFlags())
                } throws: { error in
                    String(describing: error).hasPrefix("\(variable) must be an integer in ")
                }
            }
        }
    }

    @Test("PROVHOOK_VENDOR_PREFIXES reaches serve: a plain list is Snom's and restricts sending, the flag wins")
    func vendorPrefixes() throws {
        let yealink = MACAddress("001565010203")!
        let listed = MACAddress("00087B010203")!
        try Self.withKeyFile { keyFile in
            let unset = try Self.environment([:], keyFile: keyFile).serveConfiguration(ServeFlags())
            #expect(unset.vendors == .defaults)
            #expect(unset.vendors.allowsSending(yealink), "unset, nothing is restricted")
            let configured = try Self.environment(["PROVHOOK_VENDOR_PREFIXES": "00087B"], keyFile: keyFile)
                .serveConfiguration(ServeFlags())
            #expect(configured.vendors.vendor(of: listed) == .snom)
            #expect(configured.vendors.allowsSending(listed))
            #expect(!configured.vendors.allowsSending(yealink), "a plain list restricts what is sent")
            var flags = ServeFlags()
            flags.vendorPrefixes = "yealink:00087B"
            let flagged = try Self.environment(["PROVHOOK_VENDOR_PREFIXES": "00087B"], keyFile: keyFile)
                .serveConfiguration(flags)
            #expect(flagged.vendors.vendor(of: listed) == .yealink, "the flag wins over the variable")
            #expect(flagged.vendors.allowsSending(yealink), "the VENDOR:PREFIX form restricts nothing")
            #expect {
                try Self.environment(["PROVHOOK_VENDOR_PREFIXES": "snom"], keyFile: keyFile)
                    .serveConfiguration(ServeFlags())
            } throws: { error in
                String(describing: error).hasPrefix("PROVHOOK_VENDOR_PREFIXES ")
                    && String(describing: error).contains("snom")
            }
        }
    }

    @Test("a dry run, from the variable or the flag, needs no redirect credentials; a real run does")
    func dryRunWithoutCredentials() throws {
        try Self.withKeyFile { keyFile in
            let none = ["PROVHOOK_REDIRECT_USER": "", "PROVHOOK_REDIRECT_PASSWORD": ""]
            var dryVariable = none
            dryVariable["PROVHOOK_DRY_RUN"] = "1"
            let fromVariable = try Self.environment(dryVariable, keyFile: keyFile).serveConfiguration(ServeFlags())
            #expect(fromVariable.delivery.isDryRun && fromVariable.redirect.user == "dry-run")
            var flags = ServeFlags()
            flags.isDryRun = true
            let fromFlag = try Self.environment(none, keyFile: keyFile).serveConfiguration(flags)
            #expect(fromFlag.delivery.isDryRun && fromFlag.redirect.user == "dry-run")
            #expect(fromFlag.redirect.password.isEmpty, "no password is invented")
            #expect(throws: ConfigurationError.self, "a real run without a user") {
                try Self.environment(none, keyFile: keyFile).serveConfiguration(ServeFlags())
            }
            let real = try Self.environment([:], keyFile: keyFile).serveConfiguration(ServeFlags())
            #expect(!real.delivery.isDryRun && real.redirect.user == "u")
        }
    }
}
