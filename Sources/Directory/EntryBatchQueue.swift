import Foundation

/// Batches of entries from the reader thread to the consumer, at most `capacity` waiting.
///
/// The reader blocks when the queue is full (so a slow consumer bounds memory); the consumer blocks
/// when it is empty. Either side can stop the other: the reader with `finish(error:)`, the consumer
/// with `cancelAndWait()`, which also waits until the reader thread has let go of everything.
final class EntryBatchQueue: @unchecked Sendable {
    struct Cancelled: Error {}

    private let condition = NSCondition()
    private let capacity: Int
    private var batches: [[DirectoryEntry]] = []
    private var head = 0
    private var finished = false
    private var failure: Error?
    private var cancelled = false

    init(capacity: Int) { self.capacity = capacity }

    /// False when the consumer has gone away; the reader should stop.
    func push(_ batch: [DirectoryEntry]) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while batches.count - head >= capacity && !cancelled { condition.wait() }
        if cancelled { return false }
        batches.append(batch)
        condition.broadcast()
        return true
    }

    func finish(error: Error?) {
        condition.lock()
        finished = true
        failure = error
        condition.broadcast()
        condition.unlock()
    }

    /// The next batch; nil at the end; throws the reader's error once the batches before it are consumed.
    func pop() throws -> [DirectoryEntry]? {
        condition.lock()
        defer { condition.unlock() }
        while head == batches.count && !finished { condition.wait() }
        if head < batches.count {
            let batch = batches[head]
            batches[head] = []
            head += 1
            if head > 64 && head * 2 > batches.count {
                batches.removeFirst(head)
                head = 0
            }
            condition.broadcast()
            return batch
        }
        if let failure { throw failure }
        return nil
    }

    /// Stops the reader (if it still runs) and waits for it to finish.
    func cancelAndWait() {
        condition.lock()
        cancelled = true
        batches = []
        head = 0
        condition.broadcast()
        while !finished { condition.wait() }
        condition.unlock()
    }
}
