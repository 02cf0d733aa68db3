import Integrations
import ProvHookCore
import ProvisioningModel
import Testing

/// The native contract's body, read by `NativeWebhookSource.parse`: the optional `vendor` (the phone's brand) beside
/// `model`, and its refusals.
@Suite("Native contract: the body's fields")
struct NativeContractTests {
    static let mac = MACAddress("000413610FF5")!

    static func parse(_ body: String) -> Result<DeviceEvent, EventRejection> {
        do {
            return .success(try NativeWebhookSource.parse(Array(body.utf8)))
        } catch {
            return .failure(error)
        }
    }

    @Test("vendor arrives in device.added and device.updated as the phone's brand, beside model, as sent")
    func vendorIsTheBrand() throws {
        let added = try Self.parse(
            #"{"type":"device.added","mac":"000413610FF5","device_id":"pbx-42","extension":"201","model":"snomD785","vendor":"Snom"}"#
        ).get()
        #expect(
            added
                == .added(
                    mac: Self.mac, deviceID: "pbx-42", extensionNumber: "201", model: "snomD785", brand: "Snom"))
        let updated = try Self.parse(
            #"{"type":"device.updated","mac":"000413610FF5","previous_mac":"000413610FF6","model":"T54W","vendor":"Yealink Network"}"#
        ).get()
        #expect(
            updated
                == .updated(
                    mac: Self.mac, previousMAC: MACAddress("000413610FF6"), deviceID: nil, extensionNumber: nil,
                    model: "T54W", brand: "Yealink Network"))
        #expect(updated.brand == "Yealink Network", "passed on as text, not mapped to a vendor here")
    }

    @Test("vendor absent, null or an empty string: no brand")
    func noBrand() throws {
        for vendor in ["", #","vendor":null"#, #","vendor":"""#] {
            let event = try Self.parse(#"{"type":"device.added","mac":"000413610FF5","model":"D785"\#(vendor)}"#).get()
            #expect(
                event == .added(mac: Self.mac, deviceID: nil, extensionNumber: nil, model: "D785", brand: nil),
                "\(vendor)")
        }
    }

    @Test("vendor that is not a string is refused as invalid_field, naming the field")
    func vendorOfAnotherType() {
        for value in ["7", "true", #"["snom"]"#, #"{"name":"snom"}"#] {
            for type in ["device.added", "device.updated"] {
                let result = Self.parse(#"{"type":"\#(type)","mac":"000413610FF5","vendor":\#(value)}"#)
                #expect(
                    result == .failure(EventRejection(code: .invalidField, message: #""vendor" must be a string"#)),
                    "\(type) \(value)")
            }
        }
    }

    @Test("vendor longer than 64 characters is refused as invalid_field; 64 fit, counted in code points")
    func vendorTooLong() throws {
        let tooLong = EventRejection(code: .invalidField, message: #""vendor" must be at most 64 characters"#)
        #expect(
            Self.parse(
                #"{"type":"device.added","mac":"000413610FF5","vendor":"\#(String(repeating: "v", count: 65))"}"#)
                == .failure(tooLong))
        // 33 characters, but 66 code points (e + U+0301 each), as PostgreSQL counts them.
        #expect(
            Self.parse(
                #"{"type":"device.updated","mac":"000413610FF5","vendor":"\#(String(repeating: "e\u{0301}", count: 33))"}"#
            ) == .failure(tooLong))
        let fits = String(repeating: "v", count: 64)
        #expect(
            try Self.parse(#"{"type":"device.added","mac":"000413610FF5","vendor":"\#(fits)"}"#).get().brand == fits)
    }
}

/// The native contract's optional `serial`: the phone's serial number, checked where it arrives.
@Suite("Native contract: the serial number")
struct NativeContractSerialTests {
    static let mac = NativeContractTests.mac
    static func parse(_ body: String) -> Result<DeviceEvent, EventRejection> { NativeContractTests.parse(body) }

    @Test("serial arrives in device.added and device.updated as the phone's serial number, spaces around it dropped")
    func serialIsCarried() throws {
        let added = try Self.parse(
            #"{"type":"device.added","mac":"000413610FF5","model":"T54W","vendor":"Yealink","serial":"8011918034501234"}"#
        ).get()
        #expect(
            added
                == .added(
                    mac: Self.mac, deviceID: nil, extensionNumber: nil, model: "T54W", brand: "Yealink",
                    serial: "8011918034501234"))
        let updated = try Self.parse(
            #"{"type":"device.updated","mac":"000413610FF5","previous_mac":"000413610FF6","serial":"  0004F2AB-CD.EF/1:x_2\t"}"#
        ).get()
        #expect(updated.serial == "0004F2AB-CD.EF/1:x_2", "every allowed character, trimmed")
        #expect(
            updated
                == .updated(
                    mac: Self.mac, previousMAC: MACAddress("000413610FF6"), deviceID: nil, extensionNumber: nil,
                    model: nil, brand: nil, serial: "0004F2AB-CD.EF/1:x_2"))
        // A removal has no serial to give.
        #expect(try Self.parse(#"{"type":"device.removed","mac":"000413610FF5","serial":"1"}"#).get().serial == nil)
    }

    @Test("serial absent, null, empty or only spaces: none (the device keeps the one it has)")
    func noSerial() throws {
        for serial in ["", #","serial":null"#, #","serial":"""#, #","serial":"   ""#] {
            let event = try Self.parse(#"{"type":"device.added","mac":"000413610FF5"\#(serial)}"#).get()
            #expect(event.serial == nil, "\(serial)")
            #expect(event == .added(mac: Self.mac, deviceID: nil, extensionNumber: nil, model: nil), "\(serial)")
        }
    }

    @Test("serial that is not a serial number is refused as invalid_field, saying which character or why")
    func invalidSerial() throws {
        let cases: [(String, String)] = [
            ("7", #""serial" must be a string"#),
            (#"["123"]"#, #""serial" must be a string"#),
            (#""80 11""#, #""serial" may hold only ASCII letters, digits and - . _ : /, not a space"#),
            (
                #""80\u000711""#,
                #""serial" may hold only ASCII letters, digits and - . _ : /, not a control or space character (U+0007)"#
            ),
            (
                #""80\n11""#,
                #""serial" may hold only ASCII letters, digits and - . _ : /, not a control or space character (U+000A)"#
            ),
            (##""SN#1""##, ##""serial" may hold only ASCII letters, digits and - . _ : /, not "#""##),
            (#""S\u00e9rie""#, #""serial" may hold only ASCII letters, digits and - . _ : /, not U+00E9"#),
            (#""\#(String(repeating: "9", count: 65))""#, #""serial" must be at most 64 characters"#),
        ]
        for (value, message) in cases {
            for type in ["device.added", "device.updated"] {
                let result = Self.parse(#"{"type":"\#(type)","mac":"000413610FF5","serial":\#(value)}"#)
                #expect(
                    result == .failure(EventRejection(code: .invalidField, message: message)), "\(type) \(value)")
            }
        }
        let fits = String(repeating: "9", count: 64)
        #expect(
            try Self.parse(#"{"type":"device.added","mac":"000413610FF5","serial":" \#(fits) "}"#).get().serial
                == fits, "64 characters fit, the spaces around them aside")
    }
}
