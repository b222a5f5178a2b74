/// A JSON value as RFC 8259 defines it, objects keeping their members in file order.
///
/// Order is kept so that of two bad keys the first in the file is reported, every run alike.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// The number's text as written, so an integer is never rounded through a Double.
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([(key: String, value: JSONValue)])

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.number(let a), .number(let b)): return a == b
        case (.string(let a), .string(let b)): return a == b
        case (.array(let a), .array(let b)): return a == b
        case (.object(let a), .object(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }

    /// The value as a whole number, when it is written as one (`60`, not `60.0`, `6e1` or `true`).
    public var integer: Int? {
        guard case .number(let text) = self, !text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) else {
            return nil
        }
        return Int(text)
    }

    /// The member named `key` of an object; nil when there is none or this is not an object.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    public var string: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    /// What the value is, as a message to a person says it ("a string", "an object").
    public var kindDescription: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "a list"
        case .object: return "an object"
        }
    }
}

/// A strict RFC 8259 parser for files a person writes (the configuration).
///
/// Foundation's JSONSerialization accepts a trailing comma, and a lenient parser lets a config
/// that another tool would reject slip through; so this one accepts exactly RFC 8259: no trailing
/// commas, comments, single quotes, leading zeros, NaN, unescaped control characters or lone
/// surrogates. Duplicate member names are refused too (RFC 8259 leaves them undefined, and which one
/// wins is the kind of ambiguity a security setting must not have). Nesting is capped, so a file of
/// a million `[` cannot exhaust the stack.
public enum StrictJSON {
    public static let maximumDepth = 64

    public static func parse(_ bytes: [UInt8]) throws(JSONSyntaxError) -> JSONValue {
        var parser = Parser(bytes: bytes)
        // A UTF-8 byte order mark is tolerated (RFC 8259 §8.1 allows ignoring it); Windows editors write one.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { parser.index = 3 }
        parser.skipWhitespace()
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.index == bytes.count else { throw parser.error("unexpected text after the JSON value") }
        return value
    }

    struct Parser {
        let bytes: [UInt8]
        var index = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        func error(_ reason: String, at position: Int? = nil) -> JSONSyntaxError {
            let position = min(position ?? index, bytes.count)
            var line = 1
            var column = 1
            for byte in bytes[0..<position] {
                if byte == 0x0A {
                    line += 1
                    column = 1
                } else if byte & 0xC0 != 0x80 {
                    column += 1
                }
            }
            return JSONSyntaxError(line: line, column: column, reason: reason)
        }

        mutating func skipWhitespace() {
            while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
        }

        mutating func value(depth: Int) throws(JSONSyntaxError) -> JSONValue {
            guard index < bytes.count else { throw error("the file ends where a value was expected") }
            switch bytes[index] {
            case UInt8(ascii: "{"): return try object(depth: depth + 1)
            case UInt8(ascii: "["): return try array(depth: depth + 1)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): return try literal("true", .bool(true))
            case UInt8(ascii: "f"): return try literal("false", .bool(false))
            case UInt8(ascii: "n"): return try literal("null", .null)
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
            default: throw error("expected a value, found \(found())")
            }
        }

        func found() -> String {
            guard index < bytes.count else { return "the end of the file" }
            let byte = bytes[index]
            if byte >= 0x21 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
            return "byte 0x\(String(byte, radix: 16, uppercase: true))"
        }

        mutating func literal(_ word: StaticString, _ value: JSONValue) throws(JSONSyntaxError) -> JSONValue {
            let length = word.utf8CodeUnitCount
            let expected = UnsafeBufferPointer(start: word.utf8Start, count: length)
            guard index + length <= bytes.count, bytes[index..<index + length].elementsEqual(expected) else {
                throw error("expected a value, found \(found()) (strings need double quotes)")
            }
            index += length
            return value
        }

        mutating func object(depth: Int) throws(JSONSyntaxError) -> JSONValue {
            guard depth <= StrictJSON.maximumDepth else { throw error("nested more than 64 levels deep") }
            index += 1
            var members: [(key: String, value: JSONValue)] = []
            var seen: Set<String> = []
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object(members)
            }
            while true {
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                    if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                        throw error("a trailing comma before '}' (JSON allows none)")
                    }
                    throw error("expected a member name in double quotes, found \(found())")
                }
                let keyStart = index
                let key = try string()
                guard seen.insert(key).inserted else {
                    throw error("the member \"\(key)\" appears twice in one object", at: keyStart)
                }
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else {
                    throw error("expected ':' after \"\(key)\", found \(found())")
                }
                index += 1
                skipWhitespace()
                members.append((key, try value(depth: depth)))
                skipWhitespace()
                guard index < bytes.count else { throw error("the file ends inside an object (missing '}')") }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                guard bytes[index] == UInt8(ascii: "}") else { throw error("expected ',' or '}', found \(found())") }
                index += 1
                return .object(members)
            }
        }

        mutating func array(depth: Int) throws(JSONSyntaxError) -> JSONValue {
            guard depth <= StrictJSON.maximumDepth else { throw error("nested more than 64 levels deep") }
            index += 1
            var elements: [JSONValue] = []
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(elements)
            }
            while true {
                skipWhitespace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                    throw error("a trailing comma before ']' (JSON allows none)")
                }
                elements.append(try value(depth: depth))
                skipWhitespace()
                guard index < bytes.count else { throw error("the file ends inside a list (missing ']')") }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                guard bytes[index] == UInt8(ascii: "]") else { throw error("expected ',' or ']', found \(found())") }
                index += 1
                return .array(elements)
            }
        }

        mutating func number() throws(JSONSyntaxError) -> JSONValue {
            let start = index
            func digits(_ parser: inout Parser) -> Int {
                let from = parser.index
                while parser.index < parser.bytes.count,
                    (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(parser.bytes[parser.index])
                {
                    parser.index += 1
                }
                return parser.index - from
            }
            if bytes[index] == UInt8(ascii: "-") { index += 1 }
            let integerStart = index
            let integerDigits = digits(&self)
            guard integerDigits > 0 else { throw error("a number needs digits after '-'") }
            if integerDigits > 1 && bytes[integerStart] == UInt8(ascii: "0") {
                throw error("a number cannot have a leading zero", at: integerStart)
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                guard digits(&self) > 0 else { throw error("a number needs digits after '.'") }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                    index += 1
                }
                guard digits(&self) > 0 else { throw error("a number needs digits in its exponent") }
            }
            return .number(String(decoding: bytes[start..<index], as: UTF8.self))
        }

        mutating func string() throws(JSONSyntaxError) -> String {
            let start = index
            index += 1
            // What the escapes met so far decoded to, with the text before them; a string without
            // an escape is the file's bytes as they are.
            var decoded: [UInt8] = []
            var escaped = false
            var runStart = index
            while true {
                guard index < bytes.count else { throw error("the file ends inside a string", at: start) }
                let byte = bytes[index]
                switch byte {
                case UInt8(ascii: "\""):
                    defer { index += 1 }
                    guard escaped else { return String(decoding: bytes[runStart..<index], as: UTF8.self) }
                    decoded += bytes[runStart..<index]
                    return String(decoding: decoded, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    decoded += bytes[runStart..<index]
                    index += 1
                    decoded += try escape().utf8
                    escaped = true
                    runStart = index
                case 0x00..<0x20:
                    throw error("a control character inside a string (write it as an escape such as \\n)")
                default:
                    if byte >= 0x80 { try validateUTF8() } else { index += 1 }
                }
            }
        }

        /// Steps over one multi-byte UTF-8 sequence, refusing malformed ones (RFC 8259 §8.1).
        mutating func validateUTF8() throws(JSONSyntaxError) {
            let lead = bytes[index]
            let length: Int
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0...0xEF: length = 3
            case 0xF0...0xF4: length = 4
            default: throw error("the file is not valid UTF-8")
            }
            guard index + length <= bytes.count else { throw error("the file is not valid UTF-8") }
            guard String(validating: bytes[index..<index + length], as: UTF8.self) != nil else {
                throw error("the file is not valid UTF-8")
            }
            index += length
        }

        mutating func escape() throws(JSONSyntaxError) -> Unicode.Scalar {
            guard index < bytes.count else { throw error("the file ends inside a string") }
            let byte = bytes[index]
            index += 1
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
                let first = try hex4()
                if (0xD800...0xDBFF).contains(first) {
                    guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"),
                        bytes[index + 1] == UInt8(ascii: "u")
                    else { throw error("a lone UTF-16 surrogate \\u\(String(first, radix: 16)) in a string") }
                    index += 2
                    let second = try hex4()
                    guard (0xDC00...0xDFFF).contains(second) else {
                        throw error("a lone UTF-16 surrogate \\u\(String(first, radix: 16)) in a string")
                    }
                    return Unicode.Scalar(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00))!
                }
                guard let scalar = Unicode.Scalar(first) else {
                    throw error("a lone UTF-16 surrogate \\u\(String(first, radix: 16)) in a string")
                }
                return scalar
            default:
                index -= 1
                throw error("\\\(found()) is not a JSON escape")
            }
        }

        mutating func hex4() throws(JSONSyntaxError) -> UInt32 {
            guard index + 4 <= bytes.count else { throw error("\\u needs four hex digits") }
            var value: UInt32 = 0
            for _ in 0..<4 {
                guard let digit = Character(Unicode.Scalar(bytes[index])).hexDigitValue else {
                    throw error("\\u needs four hex digits")
                }
                value = value << 4 | UInt32(digit)
                index += 1
            }
            return value
        }
    }
}

/// Where and why a JSON text is not RFC 8259 JSON. Equality compares the position only.
public struct JSONSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    public let line: Int
    public let column: Int
    public let reason: String

    public var description: String { "line \(line), column \(column): \(reason)" }

    public static func == (lhs: JSONSyntaxError, rhs: JSONSyntaxError) -> Bool {
        lhs.line == rhs.line && lhs.column == rhs.column
    }
}
