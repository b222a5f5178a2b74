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
        precondition(stack.last?.isObject == true && !afterKey, "JSONWriter: a key must come inside an object, before its value")
        try separator()
        try output.write(JSON.quoted(name))
        try output.write(": ")
        afterKey = true
    }

    public func value(_ text: String?) throws {
        try beforeValue()
        try output.write(text.map(JSON.quoted) ?? "null")
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
            if container.count > 0 { try output.write(", ") }
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
        let needsEscape = text.unicodeScalars.contains { scalar in
            scalar.value < 0x20 || scalar == "\"" || scalar == "\\" || scalar.value == 0x7F || scalar.value == 0x2028
                || scalar.value == 0x2029
        }
        guard needsEscape else { return "\"" + text + "\"" }
        var result = "\""
        result.unicodeScalars.reserveCapacity(text.unicodeScalars.count + 16)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case "\u{08}": result += "\\b"
            case "\u{0C}": result += "\\f"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F || scalar.value == 0x2028 || scalar.value == 0x2029 {
                    let hex = String(scalar.value, radix: 16, uppercase: false)
                    result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }
}
