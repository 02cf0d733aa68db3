import Foundation

/// Splits a SQL file into its statements, so each can be sent on its own: PostgresNIO speaks only the extended
/// query protocol, which takes one statement at a time.
///
/// It understands what can hide a `;`: quoted strings and identifiers, line and block comments, and
/// dollar-quoted bodies such as `$$ … $$` or `$fn$ … $fn$`.
enum SQLScript {
    static func statements(_ script: String) -> [String] {
        let characters = Array(script.unicodeScalars)
        var statements: [String] = []
        var current = String.UnicodeScalarView()
        var index = 0

        func flush() {
            // Leading comment lines are dropped, so a statement reads from its first keyword in error messages.
            let lines = String(current).split(separator: "\n", omittingEmptySubsequences: false)
            let body = lines.drop {
                $0.trimmingCharacters(in: .whitespaces).hasPrefix("--")
                    || $0.trimmingCharacters(in: .whitespaces).isEmpty
            }
            let text = body.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
            if !text.isEmpty { statements.append(text) }
            current = String.UnicodeScalarView()
        }
        func copy(until end: Int) {
            current.append(contentsOf: characters[index..<min(end, characters.count)])
            index = min(end, characters.count)
        }
        func find(_ needle: [Unicode.Scalar], from start: Int) -> Int? {
            guard !needle.isEmpty, start <= characters.count - needle.count else { return nil }
            for position in start...(characters.count - needle.count)
            where Array(characters[position..<position + needle.count]) == needle {
                return position
            }
            return nil
        }

        while index < characters.count {
            let scalar = characters[index]
            let next: Unicode.Scalar? = index + 1 < characters.count ? characters[index + 1] : nil
            switch scalar {
            case "'", "\"":
                var end = index + 1
                while end < characters.count {
                    if characters[end] == scalar {
                        if end + 1 < characters.count, characters[end + 1] == scalar {
                            end += 2
                            continue
                        }
                        break
                    }
                    end += 1
                }
                copy(until: end + 1)
            case "-" where next == "-":
                let end = characters[index...].firstIndex(of: "\n") ?? characters.count
                copy(until: end)
            case "/" where next == "*":
                copy(until: (find(["*", "/"], from: index + 2) ?? characters.count) + 2)
            case "$":
                // A dollar-quote tag: $$ or $identifier$.
                var end = index + 1
                while end < characters.count,
                    characters[end] == "_" || characters[end].properties.isAlphabetic
                        || (end > index + 1 && ("0"..."9").contains(characters[end]))
                {
                    end += 1
                }
                if end < characters.count, characters[end] == "$" {
                    let tag = Array(characters[index...end])
                    let close = find(tag, from: end + 1).map { $0 + tag.count } ?? characters.count
                    copy(until: close)
                } else {
                    copy(until: index + 1)
                }
            case ";":
                index += 1
                flush()
            default:
                copy(until: index + 1)
            }
        }
        flush()
        return statements
    }
}
