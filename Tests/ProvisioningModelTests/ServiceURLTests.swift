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
}
