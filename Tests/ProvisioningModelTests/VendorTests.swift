import Foundation
import ProvisioningModel
import Testing

@Suite("A phone's vendor from the brand a PBX gives")
struct VendorTests {
    @Test(
        "brands as Kazoo, Wazo and FusionPBX spell them, and their aliases, map to the known vendors",
        arguments: [
            ("snom", Vendor.snom), ("Snom", .snom), ("  Snom Technology ", .snom), ("SNOM  technology GmbH", .snom),
            ("yealink", .yealink), ("Yealink\n", .yealink), ("Xiamen Yealink", .yealink),
            ("polycom", .poly), ("Polycom", .poly), ("poly", .poly), ("Poly", .poly),
            ("gigaset", .gigaset), ("Gigaset", .gigaset), ("fanvil", .fanvil), ("Fanvil", .fanvil),
            ("panasonic", .panasonic), ("Panasonic", .panasonic), ("htek", .htek), ("Htek", .htek),
            ("hanlong", .htek), ("Hanlong Technology", .htek), ("akuvox", .akuvox), ("\tAkuvox", .akuvox),
            ("grandstream", .grandstream), ("Grandstream Networks", .grandstream),
        ])
    func aliases(brand: String, vendor: Vendor) {
        #expect(Vendor(brand: brand) == vendor)
    }

    @Test(
        "an unknown but well-formed brand is kept as a vendor of its own, by its lowercase slug",
        arguments: [
            ("cisco", "cisco"), ("Aastra", "aastra"), (" 2N ", "2n"), ("Mitel-6800", "mitel-6800"),
            (String(repeating: "x", count: 32), String(repeating: "x", count: 32)),
        ])
    func unknownBrand(brand: String, slug: String) throws {
        let vendor = try #require(Vendor(brand: brand))
        #expect(vendor.rawValue == slug)
        #expect(!vendor.isKnown)
        #expect(vendor.displayName == slug)
        #expect(vendor == Vendor(rawValue: slug))
    }

    @Test(
        "an empty or malformed brand gives no vendor",
        arguments: [
            "", "   ", "\n", "cisco systems", "snom/gigaset", "a_b", "-snom", "yéalink", "snom\u{0}",
            String(repeating: "x", count: 33), "ｓｎｏｍ",
        ])
    func malformedBrand(brand: String) {
        #expect(Vendor(brand: brand) == nil)
    }

    @Test("a raw value must already be a slug: no case folding, no aliases")
    func rawValue() {
        #expect(Vendor(rawValue: "snom") == .snom)
        #expect(Vendor(rawValue: "Snom") == nil)
        #expect(Vendor(rawValue: "polycom")?.isKnown == false, "an alias is resolved by init(brand:) only")
        #expect(Vendor(rawValue: "") == nil)
    }

    @Test("the known vendors are the reference's nine, each with its own slug and display name")
    func known() {
        #expect(
            Vendor.known.map(\.rawValue) == [
                "snom", "yealink", "poly", "gigaset", "fanvil", "panasonic", "htek", "akuvox", "grandstream",
            ])
        #expect(Vendor.known.allSatisfy { Vendor(rawValue: $0.rawValue) == $0 && $0.isKnown })
        #expect(Set(Vendor.known.map(\.displayName)).count == Vendor.known.count)
        #expect(Vendor.poly.displayName == "Poly")
        #expect("\(Vendor.htek)" == "htek")
    }

    @Test("a vendor is coded as its slug, and a stored text that is not a slug is refused")
    func codable() throws {
        let data = try JSONEncoder().encode([Vendor.poly, Vendor(brand: "cisco")])
        #expect(String(decoding: data, as: UTF8.self) == #"["poly","cisco"]"#)
        #expect(try JSONDecoder().decode([Vendor].self, from: data) == [.poly, Vendor(rawValue: "cisco")])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([Vendor].self, from: Data(#"["Snom"]"#.utf8)) }
    }
}

@Suite("The vendor of a device: the brand first, then the MAC prefix")
struct VendorResolutionTests {
    let snomMAC = MACAddress("000413610FF5")!
    let gigasetMAC = MACAddress("589EC6000001")!

    @Test("a brand the PBX gives wins over the prefix")
    func brandWins() {
        #expect(Vendor.resolve(brand: "Yealink", mac: self.snomMAC, prefixes: .defaults) == .yealink)
        #expect(Vendor.resolve(brand: "snom", mac: self.gigasetMAC, prefixes: .defaults) == .snom)
        #expect(Vendor.resolve(brand: "cisco", mac: self.snomMAC, prefixes: .defaults) == Vendor(rawValue: "cisco"))
    }

    @Test("without a usable brand, the prefix decides")
    func prefixDecides() throws {
        #expect(Vendor.resolve(brand: nil, mac: self.snomMAC, prefixes: .defaults) == .snom)
        #expect(Vendor.resolve(brand: " ", mac: self.gigasetMAC, prefixes: .defaults) == .gigaset)
        #expect(Vendor.resolve(brand: "snom/gigaset", mac: self.gigasetMAC, prefixes: .defaults) == .gigaset)
        let operators = try VendorPrefixes(parsing: "snom:589EC6")
        #expect(Vendor.resolve(brand: nil, mac: self.gigasetMAC, prefixes: operators) == .snom)
    }

    @Test("neither a brand nor a known prefix: no vendor")
    func neither() throws {
        let unknown = try #require(MACAddress("AABBCC000001"))
        #expect(Vendor.resolve(brand: nil, mac: unknown, prefixes: .defaults) == nil)
        #expect(Vendor.resolve(brand: "", mac: unknown, prefixes: .defaults) == nil)
    }
}
