import ProvisioningModel
import Testing

@Suite("The MAC-prefix table and PROVHOOK_VENDOR_PREFIXES")
struct VendorPrefixesTests {
    /// The table of shared/reference/provisioning-services.md, "Which vendor a phone is". `589EC6` is listed there
    /// under Snom as well (Snom-made Gigaset IP PRO), but the OUI is Gigaset's, and a PBX's brand settles such a phone.
    static let reference: [(oui: String, vendor: Vendor)] = [
        ("000413", .snom),
        ("001565", .yealink), ("805EC0", .yealink), ("805E0C", .yealink), ("249AD8", .yealink),
        ("0004F2", .poly), ("64167F", .poly),
        ("002104", .gigaset), ("589EC6", .gigaset), ("7C2F80", .gigaset), ("14B370", .gigaset),
        ("0C383E", .fanvil), ("00A859", .fanvil), ("E0E656", .fanvil),
        ("080023", .panasonic), ("0080F0", .panasonic), ("BCC342", .panasonic),
        ("001FC1", .htek),
        ("0C1105", .akuvox),
        ("000B82", .grandstream), ("C074AD", .grandstream), ("EC74D7", .grandstream),
    ]

    func mac(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> MACAddress {
        try #require(MACAddress(text), sourceLocation: sourceLocation)
    }

    @Test("the generated table holds every OUI of the reference, mapped to its vendor", arguments: Self.reference)
    func referenceTable(oui: String, vendor: Vendor) throws {
        #expect(VendorPrefixes.defaults.vendorByPrefix[oui] == vendor)
        #expect(VendorPrefixes.defaults.vendor(of: try self.mac(oui + "A1B2C3")) == vendor)
    }

    @Test("the generated table is OUIs of known vendors only; Panasonic is its phone business alone")
    func generatedShape() {
        let table = VendorPrefixes.defaults.vendorByPrefix
        #expect(table.keys.allSatisfy { $0.count == 6 && $0 == $0.uppercased() && $0.allSatisfy(\.isHexDigit) })
        #expect(table.values.allSatisfy { $0.isKnown })
        #expect(Set(table.values) == Set(Vendor.known), "every known vendor has a prefix")
        #expect(table.filter { $0.value == .panasonic }.keys.sorted() == ["0080F0", "080023", "BCC342"])
        #expect(VendorPrefixes.defaults.sendablePrefixes == nil, "unset, the setting restricts nothing")
    }

    @Test("a MAC outside every prefix has no vendor")
    func noVendor() throws {
        #expect(VendorPrefixes.defaults.vendor(of: try self.mac("AABBCC000001")) == nil)
        #expect(VendorPrefixes.defaults.allowsSending(try self.mac("AABBCC000001")))
    }

    @Test("the longest matching prefix wins, whoever gave the shorter one")
    func longestPrefixWins() throws {
        let prefixes = try VendorPrefixes(parsing: "fanvil:001565AB; grandstream:001565AB12 ;snom:001565AB1234")
        #expect(prefixes.vendor(of: try self.mac("001565AB1234")) == .snom)
        #expect(prefixes.vendor(of: try self.mac("001565AB1299")) == .grandstream)
        #expect(prefixes.vendor(of: try self.mac("001565AB9999")) == .fanvil)
        #expect(prefixes.vendor(of: try self.mac("001565CD0001")) == .yealink, "the registry's OUI still applies")
        let defaults = VendorPrefixes.defaults
        #expect(
            try VendorPrefixes(parsing: "akuvox:00156500", over: defaults).vendor(of: self.mac("001565000001"))
                == .akuvox)
    }

    @Test("a plain list keeps its old meaning: its prefixes are Snom's and only they may be sent")
    func plainList() throws {
        let prefixes = try VendorPrefixes(parsing: " 000413 , 00087b,589ec6,")
        #expect(prefixes.sendablePrefixes == ["000413", "00087B", "589EC6"])
        #expect(prefixes.vendor(of: try self.mac("589EC6000001")) == .snom, "overrides the registry's Gigaset")
        #expect(prefixes.vendor(of: try self.mac("00087B000001")) == .snom)
        #expect(prefixes.allowsSending(try self.mac("589ec6000001")))
        #expect(!prefixes.allowsSending(try self.mac("001565010203")), "Yealink is outside the list")
        #expect(prefixes.vendor(of: try self.mac("001565010203")) == .yealink, "the defaults still name it")
        #expect(try VendorPrefixes(parsing: "00041361").allowsSending(self.mac("000413610FF5")))
        #expect(try !VendorPrefixes(parsing: "00041361").allowsSending(self.mac("000413620FF5")))
    }

    @Test("VENDOR:PREFIX,…;… assigns prefixes to vendors, adds to the defaults and restricts nothing")
    func vendorForm() throws {
        let prefixes = try VendorPrefixes(parsing: "snom:000413;yealink:001565,805ec0; Polycom : 64167F ;cisco:00AABB;")
        #expect(prefixes.sendablePrefixes == nil)
        #expect(prefixes.vendor(of: try self.mac("64167F000001")) == .poly)
        #expect(prefixes.vendor(of: try self.mac("00AABB000001")) == Vendor(rawValue: "cisco"))
        #expect(prefixes.vendor(of: try self.mac("0C1105000001")) == .akuvox, "the defaults remain")
        #expect(prefixes.allowsSending(try self.mac("AABBCC000001")))
        let overridden = try VendorPrefixes(parsing: "fanvil:001565")
        #expect(overridden.vendor(of: try self.mac("001565000001")) == .fanvil, "the operator overrides")
        #expect(try VendorPrefixes(parsing: "snom:000413;SNOM:000413").vendorByPrefix["000413"] == .snom)
    }

    @Test(
        "a bad setting is refused, naming the entry to fix",
        arguments: [
            ("", VendorPrefixesError.empty), (" , ,", .empty), (";;:", .emptyVendor(entry: ":")),
            ("snom:000413;:001565", .emptyVendor(entry: ":001565")),
            ("snom:000413; 001565 ", .missingVendor(entry: "001565")),
            ("snom: ,", .noPrefixes(entry: "snom: ,")),
            ("cisco systems:000413", .invalidVendor("cisco systems")),
            ("snom:00041g", .notHex(prefix: "00041g")), ("0004l3", .notHex(prefix: "0004l3")),
            ("00-04-13", .notHex(prefix: "00-04-13")), ("snom:00:04:13", .notHex(prefix: "00:04:13")),
            ("00041", .tooShort(prefix: "00041")), ("snom:0004", .tooShort(prefix: "0004")),
            ("0004131", .oddLength(prefix: "0004131")), ("yealink:00156500A", .oddLength(prefix: "00156500A")),
            ("000413AABBCCD", .tooLong(prefix: "000413AABBCCD")),
            ("snom:000413AABBCC00", .tooLong(prefix: "000413AABBCC00")),
            ("snom:000413;yealink:00087B,000413", .conflictingVendors(prefix: "000413", .snom, .yealink)),
            ("snom:000413;polycom:000413", .conflictingVendors(prefix: "000413", .snom, .poly)),
        ])
    func badSettings(setting: String, error: VendorPrefixesError) {
        #expect(throws: error) { try VendorPrefixes(parsing: setting) }
    }

    @Test("the messages quote the entry and say what a prefix is")
    func messages() {
        #expect(VendorPrefixesError.oddLength(prefix: "0004131").description.contains(#""0004131""#))
        #expect(VendorPrefixesError.notHex(prefix: "00:04:13").description.contains("without separators"))
        #expect(VendorPrefixesError.tooLong(prefix: "000413AABBCCD").description.contains("13 hex digits"))
        #expect(VendorPrefixesError.emptyVendor(entry: ":001565").description.contains(#"":001565""#))
        let conflict = VendorPrefixesError.conflictingVendors(prefix: "000413", .snom, .yealink).description
        #expect(conflict.contains("000413") && conflict.contains("snom") && conflict.contains("yealink"))
        let long = VendorPrefixesError.notHex(prefix: "\u{1B}" + String(repeating: "z", count: 500)).description
        #expect(long.count < 200 && !long.contains("\u{1B}"))
    }
}
