// libFuzzer target: the strict XML-RPC decoder must answer every input with a value or a typed error, never crash
// or hang. Built by fuzz/run.sh with `swiftc -sanitize=fuzzer` straight from Sources/XMLRPC.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzXMLRPC(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    let decoder = XMLRPCDecoder(maxBodyBytes: 1 << 16, maxDepth: 64)
    _ = try? decoder.decodeResponse(bytes)
    _ = try? decoder.decodeCall(bytes)
    return 0
}
