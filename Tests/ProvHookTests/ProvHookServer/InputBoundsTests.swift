import Foundation
import ProvisioningModel
import Testing

@testable import ProvHookCore

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

    @Test("the CSV import's optional vendor column is each row's brand, bounded and checked like model")
    func csvVendorColumn() throws {
        let long = String(repeating: "e\u{0301}", count: 101)
        let csv = """
            vendor,mac,device_id,extension,model
            Snom,000413000E01,d1,101,D785
            ,000413000E02,d2,102,D785
            \(long),000413000E03,d3,103,D785
            "Yea\u{7}link",000413000E04,d4,104,T54W

            """
        let file = try DeviceImportFile(bytes: Array(csv.utf8), tenant: "acme")
        #expect(file.rows.map(\.brand) == ["Snom", nil], "an empty field is no brand")
        #expect(
            file.rows.first?.event
                == .added(
                    mac: MACAddress("000413000E01")!, deviceID: "d1", extensionNumber: "101", model: "D785",
                    brand: "Snom"))
        #expect(
            file.refused
                == [
                    .init(line: 4, mac: "000413000E03", reason: "vendor is longer than 200 characters"),
                    .init(line: 5, mac: "000413000E04", reason: "vendor holds a control character"),
                ])
        let payload = try JSONSerialization.jsonObject(with: Data(try #require(file.rows.first).payload))
        #expect((payload as? [String: Any])?["vendor"] as? String == "Snom", "the payload keeps the vendor as read")

        // Without the column, or with it empty, a row keeps the key it had before the column existed; another
        // brand is another event.
        let plain = try DeviceImportFile(
            bytes: Array("mac,device_id,extension,model\n000413000E02,d2,102,D785\n".utf8), tenant: "acme")
        let row = try #require(plain.rows.first)
        #expect(row.brand == nil && row.event.brand == nil)
        #expect(file.rows[1].eventID == row.eventID)
        var branded = row
        branded.brand = "Snom"
        #expect(branded.eventID != row.eventID)
        var rebranded = branded
        rebranded.brand = "Yealink"
        #expect(rebranded.eventID != branded.eventID)
    }
}
