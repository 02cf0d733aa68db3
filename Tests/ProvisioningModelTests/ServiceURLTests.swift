import ProvisioningModel
import Testing

@Suite("A provisioning service's URL")
struct ServiceURLTests {
    @Test("an origin spells out the scheme's default port and lowercases the host, so that links compare")
    func origin() throws {
        #expect(try ServiceURL("https://API.sraps.snom.com/api/v1/").origin == "https://api.sraps.snom.com:443")
        #expect(try ServiceURL("http://127.0.0.1:8083/xmlrpc/").origin == "http://127.0.0.1:8083")
        #expect(try ServiceURL("https://a.example:443/x").origin == ServiceURL("HTTPS://a.example/y").origin)
        #expect(try ServiceURL("https://a.example/x?page=2").hasQueryOrFragment)
    }

    @Test(
        "no other scheme, no host-less URL, no credentials",
        arguments: [
            ("ftp://a.example/", ServiceURL.Problem.notAbsoluteHTTP), ("/api/v1/", .notAbsoluteHTTP),
            ("https:///x", .notAbsoluteHTTP), ("https://user:secret@a.example/", .holdsCredentials),
            ("https://user@a.example/", .holdsCredentials),
        ])
    func refused(text: String, problem: ServiceURL.Problem) {
        #expect(throws: problem) { try ServiceURL(text) }
    }

    struct Refused: Error, Equatable { let reason: String }

    @Test("a refusal is the caller's own error, in the same words for every service, and never repeats the URL")
    func refusal() throws {
        func parse(_ text: String, example: String? = nil) throws(Refused) -> ServiceURL {
            try ServiceURL(text, example: example, credentials: "give them to the account") { Refused(reason: $0) }
        }
        #expect(try parse("https://a.example/x").path == "/x")
        #expect(throws: Refused(reason: "must be an absolute http or https URL such as https://a.example/")) {
            try parse("a.example", example: "https://a.example/")
        }
        #expect(throws: Refused(reason: "must be an absolute http or https URL")) { try parse("ftp://a.example/") }
        #expect(throws: Refused(reason: "must not hold credentials; give them to the account")) {
            try parse("https://user:hunter2@a.example/")
        }
    }
}
