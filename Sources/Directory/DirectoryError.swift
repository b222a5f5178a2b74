/// Why a directory source could not be read, with where it happened.
///
/// Equality compares `code` only, so tests can assert the kind of failure without
/// depending on the exact wording.
public struct DirectoryError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case fileNotReadable = "file-not-readable"
        case continuationBeforeEntry = "continuation-before-entry"
        case invalidBase64 = "invalid-base64"
        case missingDistinguishedName = "missing-dn"
        case malformedLine = "malformed-line"
        case unsupportedChangeType = "unsupported-changetype"
        case invalidUTF8 = "invalid-utf8"
    }

    public let code: Code
    /// The file (or other source) the problem is in.
    public let source: String
    /// 1-based line number, when the problem has one.
    public let line: Int?
    public let reason: String

    public init(_ code: Code, source: String, line: Int?, reason: String) {
        self.code = code
        self.source = source
        self.line = line
        self.reason = reason
    }

    public var description: String {
        if let line { return "\(source):\(line): \(reason)" }
        return "\(source): \(reason)"
    }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
}
