import Foundation

/// `application/x-www-form-urlencoded` bodies and query strings, with PHP-style nested keys as Kazoo writes them
/// (`data[doc][mac_address]=…`, `list[]=a&list[]=b`), read into the same shape `JSONSerialization` gives a JSON body.
enum FormBody {
    /// The fields of `text`; nil when a key or value is not valid percent-encoding of UTF-8.
    static func parse(_ text: String) -> [String: Any]? {
        var root: [String: Any] = [:]
        // Split among scalars, for the reason `path` gives.
        for pair in text.unicodeScalars.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map {
                Substring(String($0))
            }
            guard let key = Self.decode(parts[0]), !key.isEmpty,
                let value = Self.decode(parts.count == 2 ? parts[1] : "")
            else { return nil }
            guard let path = Self.path(key) else { return nil }
            root = Self.set(value, at: path[...], in: root)
        }
        return root
    }

    private static func decode(_ text: Substring) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }

    /// `a[b][]` → ["a", "b", ""]; nil for an unbalanced bracket.
    ///
    /// Brackets are found among the key's Unicode scalars, not its characters: a `[` followed by a combining mark
    /// (or an emoji modifier) is one `Character` that is not `[`, and would hide the bracket.
    static func path(_ key: String) -> [String]? {
        let scalars = key.unicodeScalars
        guard let open = scalars.firstIndex(of: "[") else { return [key] }
        var path = [String(scalars[..<open])]
        var rest = scalars[open...]
        while !rest.isEmpty {
            guard rest.first == "[", let close = rest.firstIndex(of: "]") else { return nil }
            path.append(String(rest[rest.index(after: rest.startIndex)..<close]))
            rest = rest[rest.index(after: close)...]
        }
        return path
    }

    private static func set(_ value: String, at path: ArraySlice<String>, in object: [String: Any]) -> [String: Any] {
        var object = object
        guard let key = path.first else { return object }
        let rest = path.dropFirst()
        if rest.isEmpty {
            object[key] = value
        } else if rest.first == "" {
            object[key] = ((object[key] as? [Any]) ?? []) + [value]
        } else {
            object[key] = Self.set(value, at: rest, in: (object[key] as? [String: Any]) ?? [:])
        }
        return object
    }
}
