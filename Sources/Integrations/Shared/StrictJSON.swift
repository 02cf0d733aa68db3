/// A strict reading of a JSON text, before `JSONSerialization` is trusted with it.
///
/// `JSONSerialization` keeps one of two members with the same name and says nothing, so a body may mean one thing to
/// a check that reads its bytes (the Kazoo hmac covers the bytes of the first `data`) and another to the code that
/// acts on the parsed object (which kept the last). This scan walks the whole text once, checks the grammar of
/// RFC 8259, finds a member name given twice in any object at any depth (names compared as Swift strings, after
/// escapes are decoded: `"d\u0061ta"` is `"data"`), and gives the raw bytes of each top-level member, so that what
/// is verified and what is read are the same bytes. A text it accepts without a duplicate has one meaning.
///
/// It is bounded: one pass over at most the listener's 64 KiB, nesting at most `maxDepth` deep (the recursion is
/// bounded by it), and it never traps on hostile input: every index is checked before it is read.
enum StrictJSON {
    /// The nesting allowed (objects and arrays); a Kazoo document is a handful of levels deep.
    static let maxDepth = 64

    /// One member of the top-level object, in the order sent, duplicates included.
    struct Member: Sendable, Equatable {
        /// The name, escapes decoded.
        var name: String
        /// The value's bytes, as sent.
        var value: Range<Int>
    }

    /// What the scan found in a text whose top level is an object.
    struct Scan: Sendable, Equatable {
        /// The top-level members, in order, duplicates included.
        var members: [Member]
        /// Where the first name given twice is, as a path (`data.doc.mac_address`, `list[2].id`); nil when none is.
        var duplicate: String?

        /// The members called `name`.
        func members(named name: String) -> [Member] { self.members.filter { $0.name == name } }
    }

    /// Why a text was not read.
    enum Failure: Error, Equatable, Sendable {
        /// Not JSON, or JSON whose top level is not an object; the message says where.
        case invalid(String)
        /// Nested deeper than `maxDepth`.
        case tooDeep
    }

    /// Scans `bytes`, a whole JSON text whose top level must be an object.
    static func scan(_ bytes: [UInt8], maxDepth: Int = Self.maxDepth) -> Result<Scan, Failure> {
        var scanner = Scanner(bytes: bytes, maxDepth: maxDepth)
        return scanner.document()
    }

    /// The string a JSON string literal's bytes (quotes included) stand for; nil if they are not one.
    static func string(_ literal: ArraySlice<UInt8>) -> String? {
        var scanner = Scanner(bytes: Array(literal), maxDepth: 1)
        guard let value = try? scanner.string(), scanner.index == scanner.bytes.count else { return nil }
        return value
    }

    /// The integer a JSON number's bytes stand for, if they are an integer (no fraction or exponent) that fits.
    static func integer(_ literal: ArraySlice<UInt8>) -> Int64? {
        guard !literal.isEmpty, literal.count <= 19,
            literal.allSatisfy({ $0 == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) })
        else { return nil }
        return Int64(String(decoding: literal, as: UTF8.self))
    }

    private struct Scanner {
        let bytes: [UInt8]
        let maxDepth: Int
        var index = 0
        var duplicate: String?
        /// Where the scan is: the names and array positions from the top level down, rendered only for a duplicate
        /// (building a path for every value would cost as much as the body times its depth).
        var trail: [Component] = []

        enum Component {
            case name(String)
            case position(Int)
        }

        init(bytes: [UInt8], maxDepth: Int) {
            (self.bytes, self.maxDepth) = (bytes, maxDepth)
        }

        mutating func document() -> Result<Scan, Failure> {
            do {
                self.skipSpace()
                guard self.peek == UInt8(ascii: "{") else { throw Failure.invalid("the top level is not an object") }
                var members: [Member] = []
                try self.object(depth: 1, members: &members)
                self.skipSpace()
                guard self.index == self.bytes.count else { throw self.invalid("text after the object") }
                return .success(Scan(members: members, duplicate: self.duplicate))
            } catch let failure as Failure {
                return .failure(failure)
            } catch {
                return .failure(.invalid("\(error)"))
            }
        }

        /// The trail as `data.doc.mac_address` or `list[2].id`, at most 128 characters.
        var path: String {
            var text = ""
            for component in self.trail {
                switch component {
                case .name(let name):
                    if !text.isEmpty { text += "." }
                    text += name.prefix(64)
                case .position(let position): text += "[\(position)]"
                }
                if text.count > 128 { return String(text.prefix(128)) + "…" }
            }
            return text
        }

        var peek: UInt8? { self.index < self.bytes.count ? self.bytes[self.index] : nil }

        func invalid(_ what: String) -> Failure { .invalid("\(what) at byte \(self.index)") }

        mutating func skipSpace() {
            while let byte = self.peek, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D {
                self.index += 1
            }
        }

        mutating func expect(_ byte: UInt8) throws(Failure) {
            guard self.peek == byte else { throw self.invalid("expected \(String(UnicodeScalar(byte)))") }
            self.index += 1
        }

        /// Any value, inside a container at `depth`.
        mutating func value(depth: Int) throws(Failure) {
            self.skipSpace()
            switch self.peek ?? 0 {
            case UInt8(ascii: "{"):
                var ignored: [Member] = []
                try self.object(depth: depth + 1, members: &ignored)
            case UInt8(ascii: "["): try self.array(depth: depth + 1)
            case UInt8(ascii: "\""): _ = try self.string()
            case UInt8(ascii: "t"): try self.literal("true")
            case UInt8(ascii: "f"): try self.literal("false")
            case UInt8(ascii: "n"): try self.literal("null")
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try self.number()
            default: throw self.invalid("expected a value")
            }
        }

        /// An object at `depth` (the top level is 1). Only the top level's caller keeps `members`.
        mutating func object(depth: Int, members: inout [Member]) throws(Failure) {
            guard depth <= self.maxDepth else { throw .tooDeep }
            try self.expect(UInt8(ascii: "{"))
            var names = Set<String>()
            self.skipSpace()
            if self.peek == UInt8(ascii: "}") {
                self.index += 1
                return
            }
            while true {
                self.skipSpace()
                let name = try self.string()
                self.trail.append(.name(name))
                // Swift strings compare by canonical equivalence, as the dictionary JSONSerialization fills does: two
                // names that would be one key there are a duplicate here.
                if !names.insert(name).inserted, self.duplicate == nil { self.duplicate = self.path }
                self.skipSpace()
                try self.expect(UInt8(ascii: ":"))
                self.skipSpace()
                let start = self.index
                try self.value(depth: depth)
                self.trail.removeLast()
                if depth == 1 { members.append(Member(name: name, value: start..<self.index)) }
                self.skipSpace()
                switch self.peek ?? 0 {
                case UInt8(ascii: ","): self.index += 1
                case UInt8(ascii: "}"):
                    self.index += 1
                    return
                default: throw self.invalid("expected , or }")
                }
            }
        }

        mutating func array(depth: Int) throws(Failure) {
            guard depth <= self.maxDepth else { throw .tooDeep }
            try self.expect(UInt8(ascii: "["))
            self.skipSpace()
            if self.peek == UInt8(ascii: "]") {
                self.index += 1
                return
            }
            var position = 0
            while true {
                self.trail.append(.position(position))
                try self.value(depth: depth)
                self.trail.removeLast()
                position += 1
                self.skipSpace()
                switch self.peek ?? 0 {
                case UInt8(ascii: ","): self.index += 1
                case UInt8(ascii: "]"):
                    self.index += 1
                    return
                default: throw self.invalid("expected , or ]")
                }
            }
        }

        mutating func literal(_ word: StaticString) throws(Failure) {
            let expected = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
            guard self.bytes.count - self.index >= expected.count,
                self.bytes[self.index..<(self.index + expected.count)].elementsEqual(expected)
            else { throw self.invalid("expected \(word)") }
            self.index += expected.count
        }

        /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
        mutating func number() throws(Failure) {
            func digits(_ scanner: inout Scanner) -> Int {
                var count = 0
                while let byte = scanner.peek, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) {
                    scanner.index += 1
                    count += 1
                }
                return count
            }
            if self.peek == UInt8(ascii: "-") { self.index += 1 }
            if self.peek == UInt8(ascii: "0") {
                self.index += 1
            } else if digits(&self) == 0 {
                throw self.invalid("expected a digit")
            }
            if self.peek == UInt8(ascii: ".") {
                self.index += 1
                guard digits(&self) > 0 else { throw self.invalid("expected a digit") }
            }
            if self.peek == UInt8(ascii: "e") || self.peek == UInt8(ascii: "E") {
                self.index += 1
                if self.peek == UInt8(ascii: "+") || self.peek == UInt8(ascii: "-") { self.index += 1 }
                guard digits(&self) > 0 else { throw self.invalid("expected a digit") }
            }
        }

        /// A string literal; answers what it stands for (escapes decoded, UTF-8 checked).
        mutating func string() throws(Failure) -> String {
            try self.expect(UInt8(ascii: "\""))
            var scalars = String.UnicodeScalarView()
            var run = self.index  // start of the bytes since the last escape
            func flush(_ scanner: Scanner, upTo end: Int) throws(Failure) {
                guard let text = String(validating: scanner.bytes[run..<end], as: UTF8.self) else {
                    throw scanner.invalid("a string that is not UTF-8")
                }
                scalars.append(contentsOf: text.unicodeScalars)
            }
            while let byte = self.peek {
                switch byte {
                case UInt8(ascii: "\""):
                    try flush(self, upTo: self.index)
                    self.index += 1
                    return String(scalars)
                case UInt8(ascii: "\\"):
                    try flush(self, upTo: self.index)
                    self.index += 1
                    scalars.append(try self.escape())
                    run = self.index
                case 0x00..<0x20:
                    throw self.invalid("a control character in a string")
                default:
                    self.index += 1
                }
            }
            throw self.invalid("an unterminated string")
        }

        /// The character an escape stands for, the backslash read; a surrogate pair is one.
        mutating func escape() throws(Failure) -> Unicode.Scalar {
            guard let byte = self.peek else { throw self.invalid("an unterminated escape") }
            self.index += 1
            switch byte {
            case UInt8(ascii: "\""): return "\""
            case UInt8(ascii: "\\"): return "\\"
            case UInt8(ascii: "/"): return "/"
            case UInt8(ascii: "b"): return "\u{08}"
            case UInt8(ascii: "f"): return "\u{0C}"
            case UInt8(ascii: "n"): return "\n"
            case UInt8(ascii: "r"): return "\r"
            case UInt8(ascii: "t"): return "\t"
            case UInt8(ascii: "u"):
                let first = try self.hex4()
                if (0xD800..<0xDC00).contains(first) {
                    guard self.peek == UInt8(ascii: "\\") else { throw self.invalid("a lone surrogate") }
                    self.index += 1
                    guard self.peek == UInt8(ascii: "u") else { throw self.invalid("a lone surrogate") }
                    self.index += 1
                    let second = try self.hex4()
                    guard (0xDC00..<0xE000).contains(second),
                        let scalar = Unicode.Scalar(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00))
                    else { throw self.invalid("a lone surrogate") }
                    return scalar
                }
                guard let scalar = Unicode.Scalar(first) else { throw self.invalid("a lone surrogate") }
                return scalar
            default: throw self.invalid("an unknown escape")
            }
        }

        mutating func hex4() throws(Failure) -> UInt32 {
            guard self.bytes.count - self.index >= 4 else { throw self.invalid("a short \\u escape") }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let byte = self.bytes[self.index]
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: throw self.invalid("a \\u escape that is not hexadecimal")
                }
                value = value << 4 | UInt32(digit)
                self.index += 1
            }
            return value
        }
    }
}
