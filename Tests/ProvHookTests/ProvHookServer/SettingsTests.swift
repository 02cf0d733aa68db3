import Foundation
import ProvHookCore
import ProvHookTestSupport
import ProvisioningModel
import SnomXMLRPC
import Testing
import VendorHTTP
import VendorRegistry

@Suite("Settings")
struct SettingsTests {
    @Test("a flag wins over the variable, which wins over the default")
    func precedence() throws {
        let settings = Settings(environment: [
            "PROVHOOK_REDIRECT_USER": "env-user", "PROVHOOK_REDIRECT_PASSWORD": "env-pass",
            "PROVHOOK_REDIRECT_CONCURRENCY": "4",
        ])
        let fromEnv = try settings.redirectConfiguration()
        #expect(fromEnv.user == "env-user")
        #expect(fromEnv.endpoint == "https://secure-provisioning.snom.com:8083/xmlrpc/")
        #expect(fromEnv.connection.maxConnections == 4)
        let fromFlags = try settings.redirectConfiguration(
            url: "https://127.0.0.1:9/xmlrpc/", user: "flag-user", concurrency: 2)
        #expect(fromFlags.user == "flag-user")
        #expect(fromFlags.endpoint == "https://127.0.0.1:9/xmlrpc/")
        #expect(fromFlags.connection.maxConnections == 2)
    }

    @Test("an http:// endpoint, which would send the password in clear, is refused unless explicitly allowed")
    func plainHTTP() throws {
        let environment = [
            "PROVHOOK_REDIRECT_USER": "u", "PROVHOOK_REDIRECT_PASSWORD": "p4ss",
            "PROVHOOK_REDIRECT_URL": "http://127.0.0.1:9/xmlrpc/",
        ]
        #expect {
            try Settings(environment: environment).redirectConfiguration()
        } throws: { error in
            let text = String(describing: error)
            return text.contains("PROVHOOK_REDIRECT_ALLOW_HTTP") && !text.contains("p4ss")
        }
        var allowed = environment
        allowed["PROVHOOK_REDIRECT_ALLOW_HTTP"] = "1"
        #expect(try Settings(environment: allowed).redirectConfiguration().endpoint == "http://127.0.0.1:9/xmlrpc/")
    }

    @Test("a URL template with credentials is refused")
    func templateCredentials() {
        #expect(throws: URLTemplateError.containsCredentials) {
            try URLTemplate("https://user:pass@prov.example.com/<mac>.xml")
        }
        #expect(throws: URLTemplateError.containsCredentials) { try URLTemplate("ftp://anon@prov.example.com/<mac>") }
        #expect(
            (try? URLTemplate("https://prov.example.com/<mac>.xml?owner=a@b")) != nil, "an @ after the host is fine")
    }

    @Test("the database password can come from a file, and wins over one in the URL; messages hide it")
    func databasePasswordFile() async throws {
        try await TemporaryFile.with("from-file-Pa55\n") { path in
            let settings = Settings(environment: [
                "PROVHOOK_DATABASE_URL": "postgres://provhook:in-url@db.example:5432/provhook",
                "PROVHOOK_DATABASE_PASSWORD_FILE": path,
            ])
            let url = try #require(try settings.databaseURL(nil))
            #expect(url.password == "from-file-Pa55" && url.user == "provhook" && url.host == "db.example")
            #expect(!url.description.contains("from-file-Pa55") && !url.description.contains("in-url"))
        }
        #expect(try Settings(environment: [:]).databaseURL(nil) == nil)
        let unreadable = Settings(environment: [
            "PROVHOOK_DATABASE_URL": "postgres://p@db/p", "PROVHOOK_DATABASE_PASSWORD_FILE": "/nonexistent/pw",
        ])
        #expect(throws: ConfigurationError.self) { try unreadable.databaseURL(nil) }
    }

    @Test("the password can come from a file, without its trailing newline")
    func passwordFile() async throws {
        try await TemporaryFile.with("from-file\n") { path async throws in
            let settings = Settings(environment: [
                "PROVHOOK_REDIRECT_USER": "u", "PROVHOOK_REDIRECT_PASSWORD_FILE": path,
            ])
            #expect(try settings.redirectConfiguration().password == "from-file")
        }
    }

    @Test("missing and invalid settings are clear errors that hold no secret")
    func errors() {
        #expect(throws: ConfigurationError.self) { try Settings(environment: [:]).redirectConfiguration() }
        let bad = Settings(environment: [
            "PROVHOOK_REDIRECT_USER": "u", "PROVHOOK_REDIRECT_PASSWORD": "p4ss", "PROVHOOK_REDIRECT_CONCURRENCY": "0",
        ])
        #expect {
            try bad.redirectConfiguration()
        } throws: { error in
            let text = String(describing: error)
            return text.contains("PROVHOOK_REDIRECT_CONCURRENCY") && !text.contains("p4ss")
        }
    }
}
