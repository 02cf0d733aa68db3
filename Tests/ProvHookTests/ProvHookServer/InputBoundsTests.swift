import Foundation
import ProvHookCore
import ProvisioningModel
import Testing

/// Small rules at the edges of provhook's input, each with the realistic mistake it guards against.
@Suite("input bounds: loopback detection, CSV field lengths")
struct InputBoundsTests {
    @Test("TLS to PostgreSQL defaults to off only for a loopback address, not for a name that starts with 127.")
    func loopbackOnlyByAddress() throws {
        for host in ["127.0.0.1", "127.8.9.10", "localhost", "[::1]"] {
            #expect(try DatabaseURL("postgres://u@\(host):5432/d").sslMode == "disable", "\(host)")
        }
        for host in ["127.evil.example", "127.0.0.1.nip.io", "10.0.0.1", "db.example.com", "1270.0.0.1"] {
            #expect(try DatabaseURL("postgres://u@\(host):5432/d").sslMode == "require", "\(host)")
        }
        #expect(try DatabaseURL("postgres://u@127.evil.example/d?sslmode=disable").sslMode == "disable")
    }

    @Test("the CSV import counts a field's length in code points, as the webhooks and PostgreSQL do")
    func csvCountsCodePoints() throws {
        // 150 characters, but 300 code points (e + U+0301 each): over the 200 a webhook allows.
        let long = String(repeating: "e\u{0301}", count: 150)
        let fits = String(repeating: "e\u{0301}", count: 100)
        let csv = "mac,device_id,extension,model\n000413000E01,\(long),,\n000413000E02,\(fits),,\n"
        let file = try DeviceImportFile(bytes: Array(csv.utf8), tenant: "acme")
        #expect(file.refused.map(\.line) == [2] && file.refused.first?.reason.contains("device_id") == true)
        #expect(file.rows.map(\.mac.canonical) == ["000413000E02"])
    }
}
