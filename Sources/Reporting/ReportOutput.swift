import Foundation

/// Collects report text in a byte buffer and hands it to a file in large chunks.
///
/// A report for a million findings must not be built as one string first (it would hold the whole
/// file in memory twice), and one system call per row is slow; a 64 KiB buffer avoids both.
/// The in-memory form exists so tests and callers can render without touching the disk.
/// Not `Sendable`: one output per file, written from one thread.
public final class ReportOutput {
    private let fileHandle: FileHandle?
    private var buffer: [UInt8] = []
    private static let chunkSize = 1 << 16

    /// Writes through to `fileHandle`; the caller still owns the handle and closes it.
    public init(fileHandle: FileHandle) {
        self.fileHandle = fileHandle
        buffer.reserveCapacity(Self.chunkSize + 4096)
    }

    /// Keeps everything in memory; read it back with `text` or `bytes`.
    public init() {
        fileHandle = nil
    }

    public func write(_ text: String) throws {
        buffer.append(contentsOf: text.utf8)
        if fileHandle != nil && buffer.count >= Self.chunkSize { try flush() }
    }

    public func write(bytes: [UInt8]) throws {
        buffer.append(contentsOf: bytes)
        if fileHandle != nil && buffer.count >= Self.chunkSize { try flush() }
    }

    /// Appends raw UTF-8 bytes from a static string (separators, punctuation).
    @inline(__always)
    func write(_ text: StaticString) throws {
        buffer.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
        if fileHandle != nil && buffer.count >= Self.chunkSize { try flush() }
    }

    /// Appends one CSV record (fields formula-neutralised and quoted as `CSV.field` does) and its CRLF,
    /// without building the row as a String first.
    func writeCSVRow(_ fields: [String]) throws {
        // The row is built in a local array, moved out of the buffer and back, so each field's bytes
        // are not one exclusive access to a class property each (a computers.csv row has 20 fields).
        var row = buffer
        buffer = []
        for (index, field) in fields.enumerated() {
            if index > 0 { row.append(UInt8(ascii: ",")) }
            CSV.appendField(field, to: &row)
        }
        row.append(0x0D)
        row.append(0x0A)
        buffer = row
        if fileHandle != nil && buffer.count >= Self.chunkSize { try flush() }
    }

    /// Appends `text` as a JSON string literal, escaped as `JSON.quoted` does.
    func writeJSONString(_ text: String) throws {
        JSON.appendQuoted(text, to: &buffer)
        if fileHandle != nil && buffer.count >= Self.chunkSize { try flush() }
    }

    /// Hands the buffer to the file. Call it before closing the handle, or the tail is lost.
    public func flush() throws {
        guard let fileHandle, !buffer.isEmpty else { return }
        try fileHandle.write(contentsOf: buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    /// Everything written so far, for the in-memory form (a file output holds only the unflushed tail).
    public var bytes: [UInt8] { buffer }

    public var text: String { String(decoding: buffer, as: UTF8.self) }
}
