/// A streaming JSON writer: keys come out in the order they are written, values go straight to the output.
///
/// Foundation's encoders build the whole document in memory and (on Linux) do not keep key order;
/// findings.json must stream a million findings and diff cleanly between runs.
///
/// Containers opened with `inline: true` (and everything inside them) are written on one line,
/// so each finding is one line: small, greppable, and one diff hunk per changed finding.
/// Misuse (a key outside an object, a value where a key is due) is a programming error and traps.
/// Not `Sendable`: it shares its output.
public final class JSONWriter {
    private struct Container {
        var isObject: Bool
        var count = 0
        var inline: Bool
    }

    private let output: ReportOutput
    private let indent: String
    private var stack: [Container] = []
    private var afterKey = false

    public init(output: ReportOutput, indent: Int = 2) {
        self.output = output
        self.indent = String(repeating: " ", count: indent)
    }

    public func beginObject(inline: Bool = false) throws {
        try beforeValue()
        try output.write("{")
        stack.append(Container(isObject: true, inline: inline || (stack.last?.inline ?? false)))
    }

    public func endObject() throws {
        try end(isObject: true, close: "}")
    }

    public func beginArray(inline: Bool = false) throws {
        try beforeValue()
        try output.write("[")
        stack.append(Container(isObject: false, inline: inline || (stack.last?.inline ?? false)))
    }

    public func endArray() throws {
        try end(isObject: false, close: "]")
    }

    public func key(_ name: String) throws {
        precondition(
            stack.last?.isObject == true && !afterKey, "JSONWriter: a key must come inside an object, before its value")
        try separator()
        try output.writeJSONString(name)
        try output.write(": " as StaticString)
        afterKey = true
    }

    public func value(_ text: String?) throws {
        try beforeValue()
        if let text { try output.writeJSONString(text) } else { try output.write("null" as StaticString) }
    }

    public func value(_ number: Int) throws {
        try beforeValue()
        try output.write(String(number))
    }

    public func value(_ number: Int64) throws {
        try beforeValue()
        try output.write(String(number))
    }

    /// Non-finite numbers have no JSON form and are written as null.
    public func value(_ number: Double?) throws {
        try beforeValue()
        guard let number, number.isFinite else { try output.write("null"); return }
        try output.write(number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number))
    }

    public func value(_ flag: Bool) throws {
        try beforeValue()
        try output.write(flag ? "true" : "false")
    }

    public func null() throws {
        try beforeValue()
        try output.write("null")
    }

    /// Shorthand for a key and a string value.
    public func field(_ name: String, _ text: String?) throws {
        try key(name)
        try value(text)
    }

    public func field(_ name: String, _ number: Int) throws {
        try key(name)
        try value(number)
    }

    private func beforeValue() throws {
        if afterKey {
            afterKey = false
            return
        }
        precondition(stack.last?.isObject != true, "JSONWriter: a value inside an object needs a key first")
        if !stack.isEmpty { try separator() }
    }

    private func separator() throws {
        let index = stack.count - 1
        let container = stack[index]
        if container.inline {
            if container.count > 0 { try output.write(", " as StaticString) }
        } else {
            try output.write(container.count > 0 ? ",\n" : "\n")
            try output.write(String(repeating: indent, count: stack.count))
        }
        stack[index].count += 1
    }

    private func end(isObject: Bool, close: String) throws {
        guard let container = stack.popLast(), container.isObject == isObject, !afterKey else {
            preconditionFailure("JSONWriter: \(close) does not close the open container")
        }
        if container.count > 0 && !container.inline {
            try output.write("\n" + String(repeating: indent, count: stack.count))
        }
        try output.write(close)
        if stack.isEmpty { try output.write("\n") }
    }
}

/// JSON string literals.
public enum JSON {
    /// `text` as a JSON string literal with its quotes.
    ///
    /// Escapes the quote, the backslash and every control character (C0, DEL), plus U+2028 and U+2029:
    /// legal in JSON but line terminators in older JavaScript, which breaks anyone who pastes the
    /// output into a script or an HTML page.
    public static func quoted(_ text: String) -> String {
        var bytes: [UInt8] = []
        appendQuoted(text, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Appends `text` as a JSON string literal, working on its UTF-8 bytes: every escaped character is
    /// ASCII except U+2028 and U+2029, whose encodings (E2 80 A8, E2 80 A9) are matched as bytes.
    static func appendQuoted(_ text: String, to output: inout [UInt8]) {
        var text = text
        output.append(UInt8(ascii: "\""))
        text.withUTF8 { bytes in
            var start = 0
            var index = 0
            let count = bytes.count
            while index < count {
                let byte = bytes[index]
                var escape: (UInt8, UInt32)?  // (short escape letter or 0, scalar for \u)
                var length = 1
                switch byte {
                case UInt8(ascii: "\""): escape = (UInt8(ascii: "\""), 0)
                case UInt8(ascii: "\\"): escape = (UInt8(ascii: "\\"), 0)
                case 0x0A: escape = (UInt8(ascii: "n"), 0)
                case 0x0D: escape = (UInt8(ascii: "r"), 0)
                case 0x09: escape = (UInt8(ascii: "t"), 0)
                case 0x08: escape = (UInt8(ascii: "b"), 0)
                case 0x0C: escape = (UInt8(ascii: "f"), 0)
                case 0x00..<0x20, 0x7F: escape = (0, UInt32(byte))
                case 0xE2:
                    if index + 2 < count && bytes[index + 1] == 0x80
                        && (bytes[index + 2] == 0xA8 || bytes[index + 2] == 0xA9)
                    {
                        escape = (0, bytes[index + 2] == 0xA8 ? 0x2028 : 0x2029)
                        length = 3
                    }
                default: break
                }
                guard let (letter, scalar) = escape else {
                    index += 1
                    continue
                }
                output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index]))
                output.append(UInt8(ascii: "\\"))
                if letter != 0 {
                    output.append(letter)
                } else {
                    output.append(UInt8(ascii: "u"))
                    for shift in stride(from: 12, through: 0, by: -4) {
                        output.append(hexDigits[Int((scalar >> UInt32(shift)) & 0xF)])
                    }
                }
                index += length
                start = index
            }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<count]))
        }
        output.append(UInt8(ascii: "\""))
    }
}
