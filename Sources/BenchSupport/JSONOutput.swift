import Foundation

/// Prints one JSON object on a line of stdout, keys sorted.
public func printJSON(_ object: some Encodable) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    let data = (try? encoder.encode(object)) ?? Data("{}".utf8)
    print(String(decoding: data, as: UTF8.self))
}

/// The value at `quantile` (0...1) of sorted samples, by the nearest-rank method.
public func percentile(_ sorted: [Double], _ quantile: Double) -> Double {
    guard !sorted.isEmpty else { return 0 }
    let rank = Int((quantile * Double(sorted.count)).rounded(.up))
    return sorted[min(sorted.count, max(1, rank)) - 1]
}

/// Rounds to `places` decimals, for display and JSON.
public func rounded(_ value: Double, _ places: Int = 2) -> Double {
    let scale = pow(10, Double(places))
    return (value * scale).rounded() / scale
}
