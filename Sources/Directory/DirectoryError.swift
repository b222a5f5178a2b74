import UntrustedInput

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
        /// A line (or a folded value) longer than any AD export writes: a file with no line ends, or not LDIF.
        case lineTooLong = "line-too-long"
        /// A raw carriage return inside a line: CR-only (classic Mac) line ends, or a CR that should be base64.
        case carriageReturnInLine = "cr-inside-line"
        /// One entry larger than the compact storage can index (4 GiB, or 65,000 attribute names).
        case entryTooLarge = "entry-too-large"
        /// The export ended without a single entry: an empty file, or only comments.
        case noEntries = "no-entries"
        /// A replPropertyMetaData or msDS-ReplAttributeMetaData value that is not the documented layout
        /// (too short, an unknown version, a count that runs past its end, XML that is not one element).
        case malformedReplicationMetadata = "malformed-replication-metadata"
        /// A repsFrom value that is not a REPS_FROM (MS-DRSR 5.170): too short, an unknown version, an
        /// offset or size that points outside it.
        case malformedReplicaLink = "malformed-reps-from"
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

    /// The source name is escaped: a file name, like the values the reasons quote, may hold controls.
    public var description: String {
        let source = TerminalText.escaped(source)
        if let line { return "\(source):\(line): \(reason)" }
        return "\(source): \(reason)"
    }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
}
