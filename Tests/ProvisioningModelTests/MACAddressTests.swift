import ProvisioningModel
import Testing

@Suite("MAC address parsing")
struct MACAddressTests {
    @Test(
        "common spellings parse to 12 uppercase hex digits",
        arguments: [
            "00:04:13:61:0f:f5", "00-04-13-61-0F-F5", "0004.1361.0ff5", "000413610FF5", "000413610ff5",
            "00:04:13:61:0F:f5",
        ])
    func goodSpellings(text: String) throws {
        #expect(try MACAddress(parsing: text).canonical == "000413610FF5")
    }

    @Test(
        "bad spellings are refused with a reason",
        arguments: [
            ("", MACAddressError.empty),
            ("000413610FF", .wrongLength(digits: 11)),
            ("000413610FF5A", .wrongLength(digits: 13)),
            ("00:04:13:61:0f", .badGrouping(separator: ":")),
            ("0:04:13:61:0f:f5:", .badGrouping(separator: ":")),
            ("0004:1361:0ff5", .badGrouping(separator: ":")),
            ("00-04-13-61-0F-F5-00", .badGrouping(separator: "-")),
            ("000.4136.10ff5", .badGrouping(separator: ".")),
            ("00:04-13:61:0f:f5", .mixedSeparators),
            ("00:04:13:61:0g:f5", .invalidCharacter("g")),
            ("000413610FG5", .invalidCharacter("G")),
            (" 000413610FF5", .invalidCharacter(" ")),
            ("00 04 13 61 0f f5", .invalidCharacter(" ")),
            ("00:04:13:61:0f:f\u{0}", .invalidCharacter("\u{0}")),
            ("０００４１３６１０ＦＦ５", .invalidCharacter("０")),
        ])
    func badSpellings(text: String, error: MACAddressError) {
        #expect(throws: error) { try MACAddress(parsing: text) }
    }

    @Test("the reason names what to fix")
    func reasons() {
        #expect(MACAddressError.badGrouping(separator: ":").description.contains("00:04:13:61:0f:f5"))
        #expect(MACAddressError.wrongLength(digits: 11).description.contains("12 hex digits"))
    }

    @Test("the vendor prefix is the first six digits; comparison ignores the input's case")
    func ouiAndEquality() throws {
        let mac = try MACAddress(parsing: "58:9e:c6:00:00:01")
        #expect(mac.oui == "589EC6")
        #expect(mac == MACAddress("589EC6000001"))
    }
}
