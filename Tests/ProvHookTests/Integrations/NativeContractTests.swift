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
