import Directory
import Foundation

/// Runs the collecting rules' `add` on a thread of their own, in the order the accounts came.
///
/// On a large domain the runner's thread was the audit's bottleneck (at a million computers it was
/// busy the whole read while the LDIF reader thread idled two thirds of the time), and the
/// collecting rules' indexing (host names, SPNs, names, the inventory) was about half of its
/// work. They need nothing from the per-account rules, only each account and whether it is
/// excluded, so they are fed in batches through a bounded queue and handed back, with everything
/// they collected, by `finish()`. The order they see the accounts in is the runner's, so their
/// findings are the same as when they ran inline.
final class CollectingRulesThread: @unchecked Sendable {
    /// Accounts handed over at a time, and batches that may wait.
    private static let batchSize = 256
    private static let queuedBatches = 16

    private typealias Batch = [(account: AccountView, excluded: Bool)]

    /// Owned by the thread until `finish()` has joined it.
    private final class Rules: @unchecked Sendable {
        var rules: [any CollectingRule]
        init(_ rules: [any CollectingRule]) { self.rules = rules }
    }

    private let queue = BoundedBatchQueue<Batch>(capacity: CollectingRulesThread.queuedBatches)
    private let owned: Rules
    private let done = DispatchSemaphore(value: 0)
    private var pending: Batch = []
    private var finished = false

    init(taking rules: [any CollectingRule]) {
        owned = Rules(rules)
        pending.reserveCapacity(Self.batchSize)
        // The thread holds the queue and the rules, not `self`: a runner dropped without
        // `finish()` still ends it (see deinit).
        let queue = self.queue
        let owned = self.owned
        let done = self.done
        let thread = Thread {
            while let batch = try? queue.pop() {
                // By index, so each account is lent to the rules, not copied out of the batch
                // (a copy retains every field of the view; a million of them showed in the profile).
                for position in batch.indices {
                    for index in owned.rules.indices {
                        owned.rules[index].add(batch[position].account, excluded: batch[position].excluded)
                    }
                }
            }
            done.signal()
        }
        thread.stackSize = 1 << 22
        thread.start()
    }

    deinit {
        if !finished {
            queue.finish(error: nil)
            done.wait()
        }
    }

    func add(_ account: AccountView, excluded: Bool) {
        pending.append((account, excluded))
        if pending.count == Self.batchSize { hand() }
    }

    private func hand() {
        let batch = pending
        pending = []
        pending.reserveCapacity(Self.batchSize)
        _ = queue.push(batch)
    }

    /// Waits until every account handed over was added and returns the rules.
    func finish() -> [any CollectingRule] {
        precondition(!finished, "finish() once")
        if !pending.isEmpty { hand() }
        queue.finish(error: nil)
        done.wait()
        finished = true
        return owned.rules
    }
}
