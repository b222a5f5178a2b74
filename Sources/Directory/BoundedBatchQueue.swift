import Foundation

/// Batches from producer threads to one consumer, at most `capacity` waiting.
///
/// A producer blocks when the queue is full (so a slow consumer bounds memory); the consumer
/// blocks when it is empty. Either side can stop the other: a producer with `finish(error:)`, the
/// consumer with `cancelAndWait()`, which also waits until every producer has let go of
/// everything. With several producers (a `MergedSource`) the queue ends once each has called
/// `finish(error:)`; the first error stops the others at their next `push` and reaches the
/// consumer after the batches queued before it.
///
/// Generic so the LDIF reader thread and the merge of several sources share one implementation;
/// a batch is moved through, never copied element by element.
public final class BoundedBatchQueue<Element>: @unchecked Sendable {
    /// Thrown by a producer's own loop when `push` returned false, to unwind without an error.
    public struct Cancelled: Error {
        public init() {}
    }

    private let condition = NSCondition()
    private let capacity: Int
    /// Consumed slots are emptied at once so a batch's memory goes as soon as it is handed over.
    private var batches: [Element?] = []
    private var head = 0
    /// Producers that have not called `finish(error:)` yet.
    private var running: Int
    private var failure: Error?
    /// Set by `cancelAndWait()` or by the first error: producers should stop.
    private var stopping = false

    /// A queue holding at most `capacity` batches, fed by `producers` threads.
    public init(capacity: Int, producers: Int = 1) {
        self.capacity = max(1, capacity)
        running = max(1, producers)
    }

    /// Queues a batch, waiting while the queue is full. False when the consumer has gone away or
    /// another producer failed; the producer should stop (the batch was not queued).
    public func push(_ batch: Element) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while batches.count - head >= capacity && !stopping { condition.wait() }
        if stopping { return false }
        batches.append(batch)
        condition.broadcast()
        return true
    }

    /// Called once by each producer when it is done; an error (the first one counts) stops the others.
    public func finish(error: Error?) {
        condition.lock()
        running -= 1
        if let error, failure == nil {
            failure = error
            stopping = true
        }
        condition.broadcast()
        condition.unlock()
    }

    /// The next batch; nil at the end; throws a producer's error once the batches queued before it
    /// are consumed.
    public func pop() throws -> Element? {
        condition.lock()
        defer { condition.unlock() }
        while head == batches.count && running > 0 && failure == nil { condition.wait() }
        if head < batches.count {
            let batch = batches[head]
            batches[head] = nil
            head += 1
            if head > 64 && head * 2 > batches.count {
                batches.removeFirst(head)
                head = 0
            }
            condition.broadcast()
            return batch!
        }
        if let failure { throw failure }
        return nil
    }

    /// Stops the producers (those still running) and waits until each has called `finish(error:)`.
    public func cancelAndWait() {
        condition.lock()
        stopping = true
        batches = []
        head = 0
        condition.broadcast()
        while running > 0 { condition.wait() }
        condition.unlock()
    }
}
