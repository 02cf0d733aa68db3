import Foundation
import ProvisioningModel
import Testing

@testable import ProvHookCore

/// Small rules at the edges of provhook's input, each with the realistic mistake it guards against.
@Suite("input bounds: loopback detection, CSV field lengths, serial numbers")
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

    @Test(
        "a serial number: 1 to 64 ASCII letters, digits and - . _ : /, spaces around it dropped; anything else says why"
    )
    func serialNumber() throws {
        #expect(try DeviceSerial.normalized("8011918034501234") == "8011918034501234")
        #expect(try DeviceSerial.normalized(" \t0004F2AB-CD.EF/1:x_2\n") == "0004F2AB-CD.EF/1:x_2")
        #expect(try DeviceSerial.normalized("") == nil)
        #expect(try DeviceSerial.normalized(" \u{A0} ") == nil, "nothing but white space is none")
        #expect(try DeviceSerial.normalized(String(repeating: "A", count: 64))?.count == 64)
        let refusals: [(String, String)] = [
            (String(repeating: "A", count: 65), "must be at most 64 characters"),
            ("80 11", "may hold only ASCII letters, digits and - . _ : /, not a space"),
            (
                "80\u{0}11",
                "may hold only ASCII letters, digits and - . _ : /, not a control or space character (U+0000)"
            ),
            ("SN#1", ##"may hold only ASCII letters, digits and - . _ : /, not "#""##),
            ("Seri\u{301}e", "may hold only ASCII letters, digits and - . _ : /, not U+0301"),
            ("\u{1F4DE}1", "may hold only ASCII letters, digits and - . _ : /, not U+1F4DE"),
        ]
        for (text, reason) in refusals {
            #expect(throws: DeviceSerial.Invalid(reason: reason), "\(text.debugDescription)") {
                try DeviceSerial.normalized(text)
            }
        }
        // What a PBX's API gives: a serial number, or none.
        #expect(DeviceSerial.lenient(" 123 ") == "123")
        #expect(
            DeviceSerial.lenient("12 3") == nil && DeviceSerial.lenient(123) == nil && DeviceSerial.lenient(nil) == nil)
    }

    @Test("the CSV import's optional serial column is each row's serial number, checked; a bad one refuses its row")
    func csvSerialColumn() throws {
        let csv = """
            mac,device_id,extension,model,serial
            000413000E01,d1,101,T54W,8011918034501234
            000413000E02,d2,102,T54W,
            000413000E03,d3,103,T54W,"80 11"
            000413000E04,d4,104,T54W,\(String(repeating: "9", count: 65))
            000413000E05,d5,105,T54W,SN#5

            """
        let file = try DeviceImportFile(bytes: Array(csv.utf8), tenant: "acme")
        #expect(file.rows.map(\.serial) == ["8011918034501234", nil], "an empty field is no serial")
        #expect(
            file.rows.first?.event
                == .added(
                    mac: MACAddress("000413000E01")!, deviceID: "d1", extensionNumber: "101", model: "T54W",
                    serial: "8011918034501234"))
        #expect(
            file.refused
                == [
                    .init(
                        line: 4, mac: "000413000E03",
                        reason: "serial may hold only ASCII letters, digits and - . _ : /, not a space"),
                    .init(line: 5, mac: "000413000E04", reason: "serial must be at most 64 characters"),
                    .init(
                        line: 6, mac: "000413000E05",
                        reason: ##"serial may hold only ASCII letters, digits and - . _ : /, not "#""##),
                ])
        let payload = try JSONSerialization.jsonObject(with: Data(try #require(file.rows.first).payload))
        #expect((payload as? [String: Any])?["serial"] as? String == "8011918034501234", "the payload keeps it")
        let bare = try JSONSerialization.jsonObject(with: Data(file.rows[1].payload)) as? [String: Any]
        #expect(bare?["serial"] == nil, "no serial, no key")

        // Without the column, or with it empty, a row keeps the key it had before the column existed; another serial
        // is another event; a serial alone and a brand alone of the same text are two events.
        let plain = try DeviceImportFile(
            bytes: Array("mac,device_id,extension,model\n000413000E02,d2,102,T54W\n".utf8), tenant: "acme")
        let row = try #require(plain.rows.first)
        #expect(file.rows[1].eventID == row.eventID)
        var serialed = row
        serialed.serial = "123"
        #expect(serialed.eventID != row.eventID)
        var reserialed = serialed
        reserialed.serial = "124"
        #expect(reserialed.eventID != serialed.eventID)
        var branded = row
        branded.brand = "123"
        #expect(branded.eventID != serialed.eventID)
    }
}
