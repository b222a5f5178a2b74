import Audit

/// RFC 4180 CSV that is safe to open in a spreadsheet.
///
/// Encoding: UTF-8 *without* a byte order mark by default. The CSV is read by scripts first (Python's
/// csv module, `Import-Csv`, awk, diff between two runs), and to most of them a BOM is three bytes of
/// the first column's name (`\u{FEFF}rule`), which breaks lookups by header. Excel users who need the
/// BOM to see non-ASCII names correctly can ask for it (`FindingsCSV.write(byteOrderMark: true)`) or
/// use Excel's Data > From Text/CSV, which detects UTF-8.
///
/// Line ends are CRLF as the RFC says; line breaks *inside* a quoted cell are left as they are.
public enum CSV {
    public static let lineEnding = "\r\n"
    public static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]

    /// The characters that make a spreadsheet treat a cell as a formula or a DDE command
    /// (OWASP "CSV Injection"). Directory data is written by whoever can create a computer account,
    /// so a name like `=cmd|' /C calc'!A0` must reach Excel as text.
    static let formulaTriggers: Set<Unicode.Scalar> = ["=", "+", "-", "@", "\t", "\r"]

    /// The value with a leading `'` when it would start a formula. The quote is visible in the
    /// cell; that is the price of not executing it, and it shows the reader the value was odd.
    public static func neutralized(_ value: String) -> String {
        // Scalars, not Characters: "\r\n" is one Character and would not compare equal to "\r".
        guard let first = value.unicodeScalars.first, formulaTriggers.contains(first) else { return value }
        return "'" + value
    }

    /// One cell: neutralised, then quoted when it holds `"`, `,`, CR or LF.
    public static func field(_ value: String) -> String {
        var bytes: [UInt8] = []
        appendField(value, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends one cell's bytes. Works on UTF-8 directly: every character that matters here is ASCII,
    /// and an ASCII byte never occurs inside a multi-byte sequence, so doubling the `"` bytes doubles
    /// exactly the quote scalars.
    static func appendField(_ value: String, to output: inout [UInt8]) {
        var value = value
        value.withUTF8 { bytes in
            var needsQuotes = false
            for byte in bytes
            where byte == UInt8(ascii: "\"") || byte == UInt8(ascii: ",") || byte == 0x0D || byte == 0x0A {
                needsQuotes = true
                break
            }
            if needsQuotes { output.append(UInt8(ascii: "\"")) }
            if let first = bytes.first, isFormulaTrigger(first) { output.append(UInt8(ascii: "'")) }
            if needsQuotes {
                var start = 0
                for index in 0..<bytes.count where bytes[index] == UInt8(ascii: "\"") {
                    output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start...index]))
                    output.append(UInt8(ascii: "\""))
                    start = index + 1
                }
                output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start...]))
                output.append(UInt8(ascii: "\""))
            } else {
                output.append(contentsOf: bytes)
            }
        }
    }

    /// The bytes of `formulaTriggers` (all ASCII, so the first byte is the first scalar).
    @inline(__always) static func isFormulaTrigger(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "=") || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "@")
            || byte == 0x09 || byte == 0x0D
    }

    /// One record with its CRLF.
    public static func row(_ fields: [String]) -> String {
        var bytes: [UInt8] = []
        for (index, field) in fields.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            appendField(field, to: &bytes)
        }
        bytes.append(0x0D)
        bytes.append(0x0A)
        return String(decoding: bytes, as: UTF8.self)
    }

    public static func writeRow(_ fields: [String], to output: ReportOutput) throws {
        try output.writeCSVRow(fields)
    }
}

/// `findings.csv`: one row per finding, for spreadsheets and scripts.
///
/// Columns: `rule,severity,account,dn,message,remediation,details,change`. `dn` is empty for accounts
/// that do not exist (missing-account). `remediation` keeps one command per line inside its cell.
/// `details` is `key=value; key=value` with lists joined by `|`; it is for reading, not parsing
/// (a value may itself hold `;`): scripts should read `findings.json` or the per-rule CSVs instead.
/// `change` (added last, so existing column positions hold) is `new` or `persisting` when the run
/// was compared with a baseline, and empty otherwise.
public enum FindingsCSV {
    public static let fileName = "findings.csv"
    public static let header = ["rule", "severity", "account", "dn", "message", "remediation", "details", "change"]

    public static func write(
        _ findings: some Sequence<Finding>, changes: FindingChanges? = nil, to output: ReportOutput,
        byteOrderMark: Bool = false
    ) throws {
        if byteOrderMark { try output.write(bytes: CSV.byteOrderMark) }
        try CSV.writeRow(header, to: output)
        for (index, finding) in findings.enumerated() {
            try CSV.writeRow(
                [
                    finding.rule, finding.severity.rawValue, finding.account, finding.distinguishedName ?? "",
                    finding.message, finding.remediation, details(finding.details),
                    changes?.change(at: index)?.rawValue ?? "",
                ], to: output)
        }
    }

    static func details(_ details: [(key: String, value: DetailValue)]) -> String {
        details.map { "\($0.key)=\(text($0.value))" }.joined(separator: "; ")
    }

    static func text(_ value: DetailValue) -> String {
        switch value {
        case .string(let string): return string
        case .integer(let number): return String(number)
        case .bool(let flag): return flag ? "true" : "false"
        case .strings(let list): return list.joined(separator: "|")
        case .null: return ""
        }
    }
}
