import Foundation

extension Sequence<UInt8> {
    /// Lowercase hex, two digits a byte.
    var hex: String { self.map { String(format: "%02x", $0) }.joined() }
}
