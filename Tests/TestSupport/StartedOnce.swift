import Foundation

/// A throwaway server that a test process starts at most once, whichever test asks first.
///
/// Tests run concurrently: the lock is held for the whole start, so the others wait for that one
/// attempt and share its outcome (a failure too: starting again would only fail again, slower).
final class StartedOnce<Value: Sendable, Failure: Error>: @unchecked Sendable {
    private let lock = NSLock()
    private var settled: Result<Value, Failure>?
    private let start: @Sendable () -> Result<Value, Failure>

    init(_ start: @escaping @Sendable () -> Result<Value, Failure>) { self.start = start }

    func outcome() -> Result<Value, Failure> {
        lock.lock()
        defer { lock.unlock() }
        if let settled { return settled }
        let result = start()
        settled = result
        return result
    }
}
