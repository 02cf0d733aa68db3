import ArgumentParser
import AsyncHTTPClient
import Foundation
import Logging
import ProvHookCore
import ProvisioningModel
import SnomXMLRPC
import VendorHTTP
import VendorRegistry

/// `provhook redirect …`: each of the seven methods of the redirection service, by hand.
struct RedirectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redirect",
        abstract: "Call a provisioning service directly: Snom's XML-RPC service, or any account's (--account).",
        subcommands: [
            Register.self, Deregister.self, Get.self, Check.self, List.self, RegisterList.self, DeregisterList.self,
        ]
    )

    struct Register: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Redirect MAC to URL (redirect.registerPhone).")
        @OptionGroup var call: MACCall
        @Argument(help: "The provisioning URL.") var url: String

        func run() async throws {
            try await self.call.run { client, mac in
                let outcome = try await client.register(mac, at: self.url)
                try self.call.options.report(outcome, method: .registerPhone, macs: [mac], url: self.url)
            }
        }
    }

    struct Deregister: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove MAC's redirection (redirect.deregisterPhone).")
        @OptionGroup var call: MACCall

        func run() async throws {
            try await self.call.run { client, mac in
                try self.call.options.report(try await client.deregister(mac), method: .deregisterPhone, macs: [mac])
            }
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show MAC's redirection (redirect.getPhoneRedirection).")
        @OptionGroup var call: MACCall

        func run() async throws {
            try await self.call.run { client, mac in
                switch try await client.redirection(of: mac) {
                case .redirected(let company, let url):
                    self.call.options.print(
                        json: [
                            "method": "getPhoneRedirection", "mac": mac.canonical, "ok": true, "company": company,
                            "url": url,
                        ],
                        text: "\(mac.canonical)\t\(company)\t\(url)")
                case .held:
                    self.call.options.print(
                        json: ["method": "getPhoneRedirection", "mac": mac.canonical, "ok": true, "held": true],
                        text: "\(mac.canonical)\tregistered to this account (the service does not say where)")
                case .error(let code):
                    try self.call.options.report(
                        RedirectOutcome.error(code), method: .getPhoneRedirection, macs: [mac])
                }
            }
        }
    }

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check that MAC is ours (redirect.checkPhone).")
        @OptionGroup var call: MACCall

        func run() async throws {
            try await self.call.run { client, mac in
                try self.call.options.report(try await client.ownership(of: mac), method: .checkPhone, macs: [mac])
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List our MACs of a model, optionally only those redirected to URL (redirect.listPhones).")
        @OptionGroup var options: RedirectOptions
        @OptionGroup var choice: AccountChoice
        @Argument(help: "The device model, for example snomD785 (an SRAPS account lists every model).") var model:
            String
        @Argument(help: "Only MACs redirected to this URL.") var url: String?

        func run() async throws {
            try await self.options.withService(self.choice) { client in
                let macs = try await client.registeredMACs(model: self.model, url: self.url)
                self.options.print(
                    json: [
                        "method": "listPhones", "model": self.model, "url": self.url as Any, "ok": true,
                        "macs": macs.map(\.canonical),
                    ],
                    text: macs.map(\.canonical).joined(separator: "\n"))
            }
        }
    }

    struct RegisterList: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "register-list", abstract: "Redirect several MACs to URL (redirect.registerPhoneList).")
        @OptionGroup var options: RedirectOptions
        @OptionGroup var choice: AccountChoice
        @Argument(help: "The provisioning URL.") var url: String
        @Argument(help: "The MACs.") var macs: [String]

        func run() async throws {
            let macs = try self.macs.map(parseMAC)
            try await self.options.withService(self.choice) { client in
                let outcome = try await client.register(macs, at: self.url)
                try self.options.report(outcome, method: .registerPhoneList, macs: macs, url: self.url)
            }
        }
    }

    struct DeregisterList: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "deregister-list",
            abstract: "Remove several MACs' redirections (redirect.deregisterPhoneList).")
        @OptionGroup var options: RedirectOptions
        @OptionGroup var choice: AccountChoice
        @Argument(help: "The MACs.") var macs: [String]

        func run() async throws {
            let macs = try self.macs.map(parseMAC)
            try await self.options.withService(self.choice) { client in
                try self.options.report(try await client.deregister(macs), method: .deregisterPhoneList, macs: macs)
            }
        }
    }
}

/// What the one-MAC subcommands take: the service to call (`RedirectOptions`, `--account`) and the MAC.
struct MACCall: ParsableArguments {
    @OptionGroup var options: RedirectOptions
    @OptionGroup var choice: AccountChoice
    @Argument(help: "The MAC, in any common spelling.") var mac: String

    /// Parses the MAC (a malformed one exits 2 before anything is sent) and runs `body` with the service and it.
    func run(_ body: (any ProvisioningService, MACAddress) async throws -> Void) async throws {
        let mac = try parseMAC(self.mac)
        try await self.options.withService(self.choice) { try await body($0, mac) }
    }
}

/// Parses a MAC before anything is sent; a malformed one exits with 2.
func parseMAC(_ text: String) throws -> MACAddress {
    do {
        return try MACAddress(parsing: text)
    } catch {
        throw CLIFailure.input("\(text.debugDescription): \(error)")
    }
}

/// `--account NAME`: which of provhook's accounts a `redirect` subcommand calls as, any kind (Snom XML-RPC, SRAPS),
/// with the credentials the database holds for it; without it, the installation's `PROVHOOK_REDIRECT_*`.
struct AccountChoice: ParsableArguments {
    @Option(
        help: "Call as this provhook account, of any kind, with its stored credentials (default: PROVHOOK_REDIRECT_*).")
    var account: String?
    @OptionGroup var database: DatabaseOptions
}

/// Connection settings shared by the `redirect` subcommands; each flag falls back to its `PROVHOOK_REDIRECT_*`.
struct RedirectOptions: ParsableArguments {
    @Option(help: "XML-RPC endpoint, trailing slash included (PROVHOOK_REDIRECT_URL).") var redirectURL: String?
    @Option(help: "Basic-auth user (PROVHOOK_REDIRECT_USER).") var redirectUser: String?
    @Option(help: "File holding the password (PROVHOOK_REDIRECT_PASSWORD_FILE); or set PROVHOOK_REDIRECT_PASSWORD.")
    var redirectPasswordFile: String?
    @Option(help: "Extra PEM trust roots (PROVHOOK_REDIRECT_CA_FILE).") var redirectCAFile: String?
    @Option(help: "Seconds to wait for the whole answer.") var timeout: Int = 30
    @Flag(help: "Print JSON.") var json = false

    /// Makes a client, runs `body`, and maps failures to the contract's exit codes.
    func withClient<T>(_ body: (RedirectClient) async throws -> T) async throws -> T {
        let configuration: RedirectConfiguration
        do {
            var resolved = try Settings().redirectConfiguration(
                url: self.redirectURL, user: self.redirectUser, passwordFile: self.redirectPasswordFile,
                caFile: self.redirectCAFile)
            resolved.connection.readTimeout = .seconds(max(1, self.timeout))
            configuration = resolved
        } catch {
            throw CLIFailure.input(error.description)
        }
        let httpClient: HTTPClient
        do {
            httpClient = try RedirectClient.makeHTTPClient(configuration: configuration)
        } catch {
            throw CLIFailure.input(error.description)
        }
        var logger = Logger(label: "provhook")
        logger.logLevel = .warning
        let client = RedirectClient(configuration: configuration, httpClient: httpClient, logger: logger)
        return try await self.reportingFailures(close: { try? await httpClient.shutdown() }) { try await body(client) }
    }

    /// Runs `body` with the service an account of provhook's calls (`--account NAME`: its kind's client, with its
    /// stored credentials, from the database), or without `--account` the installation's XML-RPC client as
    /// `withClient` makes it; maps failures to the contract's exit codes.
    func withService<T>(
        _ choice: AccountChoice, _ body: (any ProvisioningService) async throws -> T
    ) async throws -> T {
        guard let name = choice.account, name != RedirectAccount.defaultName else {
            return try await self.withClient { try await body($0) }
        }
        let accounts = try await choice.database.withStore { try await $0.accountCredentials() }
        guard let account = accounts.first(where: { $0.name == name }) else {
            throw CLIFailure.input("no account \(name.debugDescription) (provhook account list)")
        }
        var logger = Logger(label: "provhook")
        logger.logLevel = .warning
        // The installation's timeouts; its XML-RPC credentials are not needed to call another account.
        var base = RedirectConfiguration(user: "", password: "")
        base.connection.readTimeout = .seconds(max(1, self.timeout))
        let registry = ServiceRegistry.standard(
            snomXMLRPC: base, allowsPlainHTTP: Settings().allowsPlainHTTPRedirect, logger: logger)
        let made: AccountService
        do {
            made = try AccountService.factory(default: DryRunProvisioningService(), registry: registry)(account)
        } catch {
            throw CLIFailure.input("\(error)")
        }
        return try await self.reportingFailures(close: { await made.close?() }) { try await body(made.service) }
    }

    /// Runs `body`, closes what it used, and maps a `RedirectError` to the contract's exit codes.
    private func reportingFailures<T>(
        close: () async -> Void, _ body: () async throws -> T
    ) async throws -> T {
        do {
            let result = try await body()
            await close()
            return result
        } catch let error as RedirectError {
            await close()
            switch error {
            case .invalidRequest(let detail): throw CLIFailure.input(detail)
            case .fault:
                self.print(json: ["ok": false, "error": error.description], text: nil)
                throw CLIFailure(message: error.description, exitCode: CLIFailure.serviceErrorExitCode)
            default:
                self.print(json: ["ok": false, "error": error.kind, "message": error.description], text: nil)
                throw CLIFailure(message: error.description, exitCode: CLIFailure.transportExitCode)
            }
        } catch {
            await close()
            throw error
        }
    }

    /// Prints a single-MAC outcome; an `Error:` answer exits with 1.
    func report(_ outcome: RedirectOutcome, method: RedirectMethod, macs: [MACAddress], url: String? = nil) throws {
        var json: [String: Any] = [
            "method": method.shortName, "mac": macs.first?.canonical as Any, "answer": outcome.description,
        ]
        if let url { json["url"] = url }
        switch outcome {
        case .ok:
            json["ok"] = true
            self.print(json: json, text: "Ok")
        case .error(let code):
            json["ok"] = false
            self.print(json: json, text: code.answer)
            throw ExitCode(CLIFailure.serviceErrorExitCode)
        }
    }

    /// Prints a list call's outcome; any failure exits with 1.
    func report(_ outcome: ListOutcome, method: RedirectMethod, macs: [MACAddress], url: String? = nil) throws {
        var json: [String: Any] = ["method": method.shortName, "macs": macs.map(\.canonical)]
        if let url { json["url"] = url }
        switch outcome {
        case .ok:
            json["ok"] = true
            json["answer"] = "Ok"
            self.print(json: json, text: "Ok")
        case .error(let code):
            json["ok"] = false
            json["answer"] = code.answer
            self.print(json: json, text: code.answer)
            throw ExitCode(CLIFailure.serviceErrorExitCode)
        case .partial(let failures):
            json["ok"] = false
            json["failures"] = Dictionary(failures.map { ($0.macAddress?.canonical ?? $0.mac, $0.code.answer) }) {
                first, _ in first
            }
            self.print(
                json: json,
                text: failures.map { "\($0.macAddress?.canonical ?? $0.mac)\t\($0.code.answer)" }.joined(
                    separator: "\n"))
            throw ExitCode(CLIFailure.serviceErrorExitCode)
        }
    }

    /// Prints `json` with `--json`, else `text` (if any).
    func print(json: [String: Any], text: String?) {
        if self.json {
            let data =
                (try? JSONSerialization.data(withJSONObject: json, options: [.sortedKeys, .withoutEscapingSlashes]))
                ?? Data()
            Swift.print(String(decoding: data, as: UTF8.self))
        } else if let text, !text.isEmpty {
            Swift.print(text)
        }
    }
}
