// libFuzzer target: MAC parsing either refuses with a reason or yields 12 uppercase hex digits that parse again
// to the same value. Built by fuzz/run.sh from Sources/ProvisioningModel/MACAddress.swift alone.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMAC(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    if let mac = try? MACAddress(parsing: text) {
        precondition(mac.canonical.utf8.count == 12)
        precondition(mac.canonical.allSatisfy { $0.isHexDigit && !$0.isLowercase })
        precondition(MACAddress(mac.canonical) == mac)
    }
    return 0
}
