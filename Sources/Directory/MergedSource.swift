import Dispatch
import Foundation

/// Several sources read at once, each on its own thread, their entries handed to one consumer.
///
/// For one account seen by several DCs (or an export beside a live read): every source runs on
/// a thread of its own and hands batches, tagged with its origin (its index in `sources`),
/// through one `BoundedBatchQueue`, so memory stays bounded however fast the sources are, and
/// `body` is called on the caller's thread. Each source's entries arrive in its own order; how
/// sources interleave is not defined. The first error stops every source and is thrown after
/// the batches queued before it; an error thrown by `body` stops them too. Either way the call
/// returns only once every source's thread has ended.
///
/// Not `Sendable`: it holds the sources, which (like `LDAPDirectorySource`) may not be. Each
/// source is used by one thread at a time: the caller's for `readMetadata()`, its own during
/// `forEachBatch`, which waits for those threads to end before it returns.
public final class MergedSource {
    /// Entries of one source, in its order.
    public struct Batch: Sendable {
        /// The index in `sources` of the source the entries came from.
        public var origin: Int
        public var entries: [DirectoryEntry]
    }

    public let sources: [any DirectorySource]

    /// Entries per batch handed from a source's thread, and batches that may wait in the queue
    /// for each source (the LDIF reader's numbers: memory as for one pipelined read per source).
    static let batchSize = 512
    static let queuedBatchesPerSource = 8

    /// How many sources read at once; the others wait for one to finish (a domain of fifty DCs is
    /// not fifty connections and threads at once). Nil: all of them.
    public let maximumConcurrentSources: Int?

    public init(_ sources: [any DirectorySource], maximumConcurrentSources: Int? = nil) {
        self.sources = sources
        self.maximumConcurrentSources = maximumConcurrentSources.map { max(1, $0) }
    }

    /// "corp.ldif + ldaps://dc01.corp.example": every source, in order.
    public var description: String { sources.map(\.description).joined(separator: " + ") }

    /// Each source's metadata, in the order of `sources` (so `metadata[batch.origin]` describes a
    /// batch's source). Live sources connect here, one after the other, on the caller's thread.
    public func readMetadata() throws -> [SourceMetadata] {
        try sources.map { try $0.readMetadata() }
    }

    /// Reads `request` from every source at once and calls `body` with each batch.
    public func forEachBatch(_ request: SourceRequest = .audit, _ body: (Batch) throws -> Void) throws {
        try forEachBatch(requests: Array(repeating: request, count: sources.count), body)
    }

    /// Reads `requests[i]` from source i, every source at once, and calls `body` with each batch.
    public func forEachBatch(requests: [SourceRequest], _ body: (Batch) throws -> Void) throws {
        precondition(requests.count == sources.count, "one request per source")
        guard !sources.isEmpty else { return }
        let queue = BoundedBatchQueue<Batch>(
            capacity: Self.queuedBatchesPerSource * sources.count, producers: sources.count)
        let turns = maximumConcurrentSources.map { DispatchSemaphore(value: $0) }
        for (origin, source) in sources.enumerated() {
            let lent = Lent(source)
            let thread = Thread {
                turns?.wait()
                defer { turns?.signal() }
                Self.run(lent.source, origin: origin, request: requests[origin], into: queue)
            }
            thread.stackSize = 1 << 22
            thread.start()
        }
        defer { queue.cancelAndWait() }
        while let batch = try queue.pop() { try body(batch) }
    }

    /// Reads `request` from every source at once and calls `body` with each entry and its origin.
    public func forEachEntry(
        _ request: SourceRequest = .audit, _ body: (_ origin: Int, _ entry: DirectoryEntry) throws -> Void
    ) throws {
        try forEachBatch(request) { batch in
            for entry in batch.entries { try body(batch.origin, entry) }
        }
    }

    /// One source's thread: reads it to the end, or until the consumer or another source stops.
    private static func run(
        _ source: any DirectorySource, origin: Int, request: SourceRequest, into queue: BoundedBatchQueue<Batch>
    ) {
        var entries: [DirectoryEntry] = []
        entries.reserveCapacity(batchSize)
        do {
            try source.forEachEntry(request) { entry in
                entries.append(entry)
                if entries.count == batchSize {
                    guard queue.push(Batch(origin: origin, entries: entries)) else {
                        throw BoundedBatchQueue<Batch>.Cancelled()
                    }
                    entries = []
                    entries.reserveCapacity(batchSize)
                }
            }
            if !entries.isEmpty { _ = queue.push(Batch(origin: origin, entries: entries)) }
            queue.finish(error: nil)
        } catch is BoundedBatchQueue<Batch>.Cancelled {
            queue.finish(error: nil)
        } catch {
            // The entries before the error are delivered, as a read of this source alone would.
            if !entries.isEmpty { _ = queue.push(Batch(origin: origin, entries: entries)) }
            queue.finish(error: error)
        }
    }

    /// A source handed to its thread. Unchecked: only that thread touches it until the queue
    /// says the thread is done, and `forEachBatch` does not return before then.
    private final class Lent: @unchecked Sendable {
        let source: any DirectorySource
        init(_ source: any DirectorySource) { self.source = source }
    }
}

@available(*, unavailable)
extension MergedSource: Sendable {}
