import Foundation
import UntrustedInput

/// The machines that should exist, from a CMDB export or a migration list: one name per line.
///
/// Inventories are messy, so nothing is rejected or dropped: whitespace is trimmed, blank lines and
/// lines starting with `#` are skipped, and every other line is a name, kept exactly as written so the
/// report shows what the admin's own list says.
public struct Inventory: Sendable, Equatable {
    public struct Item: Sendable, Equatable {
        public let name: String
        /// 1-based line in the inventory file.
        public let line: Int

        public init(name: String, line: Int) {
            self.name = name
            self.line = line
        }
    }

    /// The items in file order, kept as one buffer of UTF-8 names with their ends and lines: a
    /// million-name CMDB export is kept for the whole audit, and an `[Item]` of Strings cost 38 MB
    /// of it (massif), this about 22. An `Item` is made when one is read.
    public struct Items: RandomAccessCollection, Sendable, Equatable, ExpressibleByArrayLiteral {
        private var names: [UInt8] = []
        private var ends: [UInt32] = []
        private var lines: [UInt32] = []

        init(reservingNames byteCount: Int, items count: Int) {
            names.reserveCapacity(byteCount)
            ends.reserveCapacity(count)
            lines.reserveCapacity(count)
        }

        public init(_ items: some Sequence<Item>) {
            for item in items { append(name: item.name.utf8, line: item.line) }
        }

        public init(arrayLiteral items: Item...) { self.init(items) }

        mutating func append(name: some Collection<UInt8>, line: Int) {
            names.append(contentsOf: name)
            ends.append(UInt32(names.count))
            lines.append(UInt32(clamping: line))
        }

        public var startIndex: Int { 0 }
        public var endIndex: Int { ends.count }

        public subscript(position: Int) -> Item {
            let start = position == 0 ? 0 : Int(ends[position - 1])
            let name = names.withUnsafeBufferPointer {
                String(decoding: UnsafeBufferPointer(rebasing: $0[start..<Int(ends[position])]), as: UTF8.self)
            }
            return Item(name: name, line: Int(lines[position]))
        }
    }

    public let source: String
    public let items: Items

    public init(source: String, items: [Item]) {
        self.source = source
        self.items = Items(items)
    }

    init(source: String, items: Items) {
        self.source = source
        self.items = items
    }

    public static func load(path: String) throws -> Inventory {
        let text: String
        do {
            text = try InputFile.readText(path, kind: "inventory", limit: InputFile.Limit.inventory)
        } catch {
            throw InventoryError(
                file: path,
                reason: error.code == .notFound ? "cannot read the inventory file: no such file" : error.reason)
        }
        return parse(text, source: path)
    }

    public static func parse(_ text: String, source: String) -> Inventory {
        var lineFeeds = 0
        for byte in text.utf8 where byte == UInt8(ascii: "\n") { lineFeeds += 1 }
        var items = Items(reservingNames: text.utf8.count, items: lineFeeds + 1)
        var lineNumber = 0
        // Split on the LF scalar: Swift treats CR LF as one Character, so a Character split would
        // read a Windows (Excel, CMDB) export as one line. The CR is trimmed below with other whitespace.
        for rawLine in text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            var line = Substring(rawLine)
            if lineNumber == 1, line.first == "\u{FEFF}" { line = line.dropFirst() }  // a BOM from Excel
            let name = Self.trimmed(line)
            if name.isEmpty || name.hasPrefix("#") { continue }
            items.append(name: name.utf8, line: lineNumber)
        }
        return Inventory(source: source, items: items)
    }

    /// `line` without leading and trailing white space: bytewise when both ends are ASCII (a CMDB
    /// export of a hundred thousand names would otherwise spend most of its load in Foundation),
    /// through Foundation's white space set when an end is not (a no-break space, say).
    private static func trimmed(_ line: Substring) -> String {
        let utf8 = line.utf8
        var start = utf8.startIndex
        var end = utf8.endIndex
        func isASCIISpace(_ byte: UInt8) -> Bool { byte == 0x20 || (byte >= 0x09 && byte <= 0x0D) }
        while start < end, isASCIISpace(utf8[start]) { start = utf8.index(after: start) }
        while start < end, isASCIISpace(utf8[utf8.index(before: end)]) { end = utf8.index(before: end) }
        guard start < end else { return "" }
        guard utf8[start] < 0x80, utf8[utf8.index(before: end)] < 0x80 else {
            return line.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return String(line[start..<end])
    }
}

public struct InventoryError: Error, Sendable, Equatable, CustomStringConvertible {
    public let file: String
    public let reason: String
    public var description: String { "\(TerminalText.escaped(file)): \(reason)" }
}
