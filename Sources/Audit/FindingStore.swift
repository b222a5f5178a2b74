import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An audit's findings in report order: in memory, or on disk in sorted runs merged as they are read.
///
/// A first audit of a neglected domain, or a strict policy, gives a finding for nearly every
/// account: a million findings held until the reports are written cost gigabytes. Past
/// `findingsPerSpilledRun` the runner sorts the findings it holds and writes them to one
/// unlinked temporary file, one run per rule; reading merges a rule's runs in report order, so each
/// report is streamed from there and memory no longer grows with the findings. The order is the
/// same either way (runs are merged with ties going to the earlier run, the in-memory sort is
/// stable), so the reports are byte for byte the same.
///
/// Immutable once built; several reports read it at once, each with its own cursors.
public final class FindingStore: Sequence, Sendable {
    private let held: [Finding]?
    private let spill: SpilledFindings?
    /// How many findings, all rules together.
    public let count: Int

    /// Findings already in report order, held in memory.
    public init(_ findings: [Finding]) {
        held = findings
        spill = nil
        count = findings.count
    }

    init(spilled: SpilledFindings) {
        held = nil
        spill = spilled
        count = spilled.runs.indices.reduce(0) { $0 + spilled.count(ofRank: $1) }
    }

    public var isEmpty: Bool { count == 0 }

    /// Findings an audit holds before it sorts them and writes them to disk (`AuditRunner`'s
    /// default): about 11 MB of findings at a typical 700 bytes each. 65,536 held 45 MB at the
    /// peak of a million-computer audit for no gain in time (massif; 1M typical 431 -> 401 MB RSS,
    /// wall unchanged), and a few hundred runs merge in a heap of depth 8.
    public static let findingsPerSpilledRun = 1 << 14

    /// Whether the findings live on disk (tests and the benchmark tell the two paths apart by it).
    public var isSpilled: Bool { spill != nil }

    /// Why findings that should have gone to disk are held in memory after all (TMPDIR full,
    /// read-only, or not a directory): the reports are complete, but the audit's memory grows with
    /// its findings, which an admin running it nightly wants to hear. Nil otherwise.
    public var spillFailure: FindingSpillError? { spill?.failure }

    /// Every finding, in memory: the held array, or a spilled store read back whole. Reports
    /// iterate the store instead.
    public var all: [Finding] { held ?? Array(self) }

    public func makeIterator() -> AnyIterator<Finding> {
        if let held {
            var iterator = held.makeIterator()
            return AnyIterator { iterator.next() }
        }
        let spill = self.spill!
        var rank = 0
        var merge: RunMerge?
        return AnyIterator {
            while true {
                if let finding = merge?.next() { return finding }
                guard rank < spill.runs.count else { return nil }
                merge = RunMerge(spill: spill, runs: spill.runs[rank])
                rank += 1
            }
        }
    }

    /// One rule's part of the store, as report.html shows it: how many findings, how many of them
    /// new, and the first few with their positions.
    public struct RuleExcerpt: Sendable {
        public let rule: String
        public fileprivate(set) var count = 0
        public fileprivate(set) var newCount = 0
        public fileprivate(set) var first: [(index: Int, finding: Finding)] = []

        fileprivate mutating func add(_ index: Int, _ finding: Finding, isNew: Bool, limit: Int) {
            count += 1
            if isNew { newCount += 1 }
            if first.count < limit { first.append((index, finding)) }
        }
    }

    /// Per rule, in the order rules first appear: the counts and the first `limit` findings.
    ///
    /// A spilled store reads only those first findings of each rule (its counts are the runs'),
    /// not every finding again.
    public func excerpts(perRule limit: Int, isNew: (Int) -> Bool) -> [RuleExcerpt] {
        var excerpts: [RuleExcerpt] = []
        var slot: [String: Int] = [:]
        func add(_ index: Int, _ finding: Finding) {
            let position =
                slot[finding.rule]
                ?? {
                    slot[finding.rule] = excerpts.count
                    excerpts.append(RuleExcerpt(rule: finding.rule))
                    return excerpts.count - 1
                }()
            excerpts[position].add(index, finding, isNew: isNew(index), limit: limit)
        }
        if let held {
            for (index, finding) in held.enumerated() { add(index, finding) }
            return excerpts
        }
        let spill = self.spill!
        var offset = 0
        for (rank, runs) in spill.runs.enumerated() {
            let count = spill.count(ofRank: rank)
            defer { offset += count }
            guard count > 0 else { continue }
            guard let rule = spill.rule(ofRank: rank) else {
                // Rules outside the registry share this rank: read through.
                var merge = RunMerge(spill: spill, runs: runs)
                var index = offset
                while let finding = merge.next() {
                    add(index, finding)
                    index += 1
                }
                continue
            }
            var excerpt = RuleExcerpt(rule: rule)
            excerpt.count = count
            excerpt.newCount = (offset..<offset + count).reduce(0) { $0 + (isNew($1) ? 1 : 0) }
            var merge = RunMerge(spill: spill, runs: runs)
            while excerpt.first.count < limit, let finding = merge.next() {
                excerpt.first.append((offset + excerpt.first.count, finding))
            }
            slot[excerpt.rule] = excerpts.count
            excerpts.append(excerpt)
        }
        return excerpts
    }

    /// The rule ids of findings whose rule is not in `known`, in the order they first appear.
    ///
    /// A spilled store knows the rule of each registry rank that has findings and reads only the
    /// findings ranked last, of rules outside its registry (a runner gives none); one held in
    /// memory is read through.
    public func rules(notIn known: Set<String>) -> [String] {
        var found: [String] = []
        var seen = known
        func look(_ rule: String) {
            if seen.insert(rule).inserted { found.append(rule) }
        }
        guard let spill else {
            for finding in held! { look(finding.rule) }
            return found
        }
        for (rank, runs) in spill.runs.enumerated() where spill.count(ofRank: rank) > 0 {
            if let rule = spill.rule(ofRank: rank) {
                look(rule)
            } else {
                var merge = RunMerge(spill: spill, runs: runs)
                while let finding = merge.next() { look(finding.rule) }
            }
        }
        return found
    }

    /// The findings of one rule, each with its position among all findings (what
    /// `FindingChanges.change(at:)` is indexed by), in report order.
    public func enumerated(ofRule rule: String) -> AnySequence<(offset: Int, element: Finding)> {
        if let held {
            return AnySequence(held.enumerated().lazy.filter { $0.element.rule == rule })
        }
        let spill = self.spill!
        // Ranks are by rule, but rule ids outside the registry share the last one.
        let rank = spill.rank(of: rule)
        return AnySequence { () -> AnyIterator<(offset: Int, element: Finding)> in
            var merge = RunMerge(spill: spill, runs: spill.runs[rank])
            var offset = spill.firstOffset(ofRank: rank)
            return AnyIterator {
                while let finding = merge.next() {
                    offset += 1
                    if finding.rule == rule { return (offset - 1, finding) }
                }
                return nil
            }
        }
    }
}

/// Findings written to disk by `FindingSpill`: the file and, per rule rank, its sorted runs.
final class SpilledFindings: Sendable {
    /// `length` bytes at `offset` of the file, or, when the file could not be written, `held`.
    struct Run: Sendable {
        let offset: Int
        let length: Int
        let count: Int
        var held: [Finding]? = nil
    }

    let file: SpillFile?
    /// Per rank (`ruleOrder`'s, and one more, last, for rule ids outside it), its sorted runs.
    let runs: [[Run]]
    let ruleOrder: [String: Int]
    /// Why some or all runs are `held` in memory instead of on disk; nil when every run was written.
    let failure: FindingSpillError?
    /// The rule of each registry rank, by rank (the runner's ranks are dense).
    private let rankRules: [String]

    init(file: SpillFile?, runs: [[Run]], ruleOrder: [String: Int], failure: FindingSpillError?) {
        self.file = file
        self.runs = runs
        self.ruleOrder = ruleOrder
        self.failure = failure
        rankRules = ruleOrder.sorted { $0.value < $1.value }.map(\.key)
    }

    /// Where `rule`'s findings are: its registry rank, or the last one.
    func rank(of rule: String) -> Int { ruleOrder[rule] ?? ruleOrder.count }

    /// The one rule all findings of `rank` have; nil for the last rank, which holds any others.
    func rule(ofRank rank: Int) -> String? { rankRules.indices.contains(rank) ? rankRules[rank] : nil }

    func count(ofRank rank: Int) -> Int { runs[rank].reduce(0) { $0 + $1.count } }

    /// The position, among all findings, of the first finding of `rank`.
    func firstOffset(ofRank rank: Int) -> Int { (0..<rank).reduce(0) { $0 + count(ofRank: $1) } }
}

/// An unlinked temporary file: nothing is left behind however the process ends, and no other user
/// can open it (mkstemp creates it 0600).
final class SpillFile: Sendable {
    let descriptor: Int32

    /// `kind` names the file for the moment it exists (`trustaudit-findings-XXXXXX`).
    init(of kind: String = "findings") throws(FindingSpillError) {
        let directory = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array((directory + "/trustaudit-\(kind)-XXXXXX").utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else { throw FindingSpillError(directory: directory, errno: errno) }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    func append(_ bytes: [UInt8], at offset: Int) throws(FindingSpillError) {
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes {
                pwrite(descriptor, $0.baseAddress! + written, bytes.count - written, off_t(offset + written))
            }
            if result < 0 {
                if errno == EINTR { continue }
                throw FindingSpillError(directory: nil, errno: errno)
            }
            written += result
        }
    }

    /// Reads up to `count` bytes at `offset` into `buffer` from index `start`; a read error ends the run early, which the merge
    /// treats as a broken spill file (it cannot happen short of a failing disk).
    func read(into buffer: inout [UInt8], from start: Int, at offset: Int, count: Int) -> Int {
        buffer.withUnsafeMutableBytes { raw in
            var done = 0
            while done < count {
                let result = pread(descriptor, raw.baseAddress! + start + done, count - done, off_t(offset + done))
                if result < 0 && errno == EINTR { continue }
                if result <= 0 { break }
                done += result
            }
            return done
        }
    }
}

/// The temporary file for findings could not be written (the directory is full or not writable).
public struct FindingSpillError: Error, Sendable, CustomStringConvertible {
    /// The directory the file was to be made in; nil when a write to it failed.
    public let directory: String?
    public let reason: String

    init(directory: String?, errno code: Int32) {
        self.directory = directory
        reason = String(cString: strerror(code))
    }

    public var description: String {
        let place = directory.map { "in \($0)" } ?? "to its temporary file"
        return
            "cannot write findings \(place): \(reason); free space there or point TMPDIR at a directory with room"
    }
}

/// Writes the runner's findings to disk in sorted runs, one per rule rank per flush.
///
/// When the temporary file cannot be made or written (TMPDIR full or read-only), the runs are kept
/// in memory instead: the reports stay right, only the memory grows as it did before spilling.
struct FindingSpill {
    private static let writeSize = 1 << 20
    private var file: SpillFile?
    private var end = 0
    private var runs: [[SpilledFindings.Run]]
    private let ruleOrder: [String: Int]
    /// What the findings written so far count, by rank.
    private var tally: FindingTally
    /// Why the findings are held in memory after all; nil while they are written.
    private(set) var failure: FindingSpillError?

    init(ruleOrder: [String: Int]) {
        self.ruleOrder = ruleOrder
        runs = Array(repeating: [], count: ruleOrder.count + 1)
        tally = FindingTally(ranks: ruleOrder.count + 1)
        do {
            file = try SpillFile()
        } catch {
            failure = error
        }
    }

    /// Writes `findings`, already in report order, as one run per rule rank they hold.
    mutating func write(sorted findings: [Finding]) {
        var start = 0
        var bytes: [UInt8] = []
        while start < findings.count {
            let rank = ruleOrder[findings[start].rule] ?? ruleOrder.count
            var stop = start
            while stop < findings.count, (ruleOrder[findings[stop].rule] ?? ruleOrder.count) == rank { stop += 1 }
            defer { start = stop }
            for finding in findings[start..<stop] { tally.add(finding, rank: rank) }
            if let file, failure == nil {
                // Written a megabyte at a time: a run's encoded findings at once were a peak of their own.
                var written = 0
                do {
                    bytes.removeAll(keepingCapacity: true)
                    for finding in findings[start..<stop] {
                        FindingRecord.encode(finding, into: &bytes)
                        if bytes.count >= Self.writeSize {
                            try file.append(bytes, at: end + written)
                            written += bytes.count
                            bytes.removeAll(keepingCapacity: true)
                        }
                    }
                    try file.append(bytes, at: end + written)
                    written += bytes.count
                    runs[rank].append(SpilledFindings.Run(offset: end, length: written, count: stop - start))
                    end += written
                    continue
                } catch {
                    failure = error
                }
            }
            let held = Array(findings[start..<stop])
            runs[rank].append(SpilledFindings.Run(offset: 0, length: 0, count: held.count, held: held))
        }
    }

    /// The store, without the rules in `withheld`, and what its findings count.
    func finish(withholding withheld: Set<String>) -> (SpilledFindings, FindingTally.Counts) {
        var runs = self.runs
        let dropped = Set(withheld.compactMap { ruleOrder[$0] })
        for rank in dropped { runs[rank] = [] }
        return (
            SpilledFindings(file: file, runs: runs, ruleOrder: ruleOrder, failure: failure),
            tally.counts(withholding: dropped)
        )
    }
}

/// Merges the sorted runs of one rule rank, in report order; ties go to the earlier run, so the
/// result is what one stable sort of everything would give.
struct RunMerge {
    private var cursors: [RunCursor]
    /// Cursor indexes ordered as a binary min-heap by their current finding.
    private var heap: [Int] = []

    init(spill: SpilledFindings, runs: [SpilledFindings.Run]) {
        cursors = runs.map { RunCursor(file: spill.file, run: $0) }
        for index in cursors.indices where cursors[index].current != nil {
            heap.append(index)
            siftUp(heap.count - 1)
        }
    }

    mutating func next() -> Finding? {
        guard let top = heap.first else { return nil }
        let finding = cursors[top].current!.finding
        cursors[top].advance()
        if cursors[top].current == nil {
            let last = heap.removeLast()
            if !heap.isEmpty {
                heap[0] = last
                siftDown(0)
            }
        } else {
            siftDown(0)
        }
        return finding
    }

    private func precedes(_ lhs: Int, _ rhs: Int) -> Bool {
        let left = cursors[lhs].current!
        let right = cursors[rhs].current!
        let order = left.key.compare(right.key)
        return order != 0 ? order < 0 : lhs < rhs
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard precedes(heap[child], heap[parent]) else { return }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            guard left < heap.count else { return }
            var least = left
            if left + 1 < heap.count, precedes(heap[left + 1], heap[left]) { least = left + 1 }
            guard precedes(heap[least], heap[parent]) else { return }
            heap.swapAt(least, parent)
            parent = least
        }
    }
}

/// Reads one run's records through a small buffer (or walks a run held in memory).
struct RunCursor {
    private let file: SpillFile?
    private let held: [Finding]?
    private var heldIndex = 0
    private var position: Int
    private let end: Int
    private var buffer: [UInt8] = []
    private var bufferCount = 0
    private var cursor = 0
    /// The finding at the cursor and where it goes in report order (what the merge compares by).
    private(set) var current: (finding: Finding, key: ReportOrderKey)?

    private static let bufferSize = 1 << 15

    init(file: SpillFile?, run: SpilledFindings.Run) {
        self.file = file
        held = run.held
        position = run.offset
        end = run.offset + run.length
        advance()
    }

    mutating func advance() {
        current = nil
        if let held {
            guard heldIndex < held.count else { return }
            current = (held[heldIndex], ReportOrderKey(held[heldIndex], ruleOrder: nil))
            heldIndex += 1
            return
        }
        guard let length = bytes(4).map({ FindingRecord.length($0) }), let record = bytes(length) else { return }
        let finding = FindingRecord.decode(record)
        current = (finding, ReportOrderKey(finding, ruleOrder: nil))
    }

    /// The next `count` bytes of the run, refilling the buffer as needed; nil at the run's end.
    private mutating func bytes(_ count: Int) -> ArraySlice<UInt8>? {
        if bufferCount - cursor < count {
            var next = Array(buffer[cursor..<bufferCount])
            let carried = next.count
            let fetch = min(max(Self.bufferSize, count - carried), end - position)
            next.append(contentsOf: repeatElement(0, count: fetch))
            let read = file?.read(into: &next, from: carried, at: position, count: fetch) ?? 0
            position += read
            buffer = next
            bufferCount = carried + read
            cursor = 0
            guard bufferCount >= count else { return nil }
        }
        defer { cursor += count }
        return buffer[cursor..<cursor + count]
    }
}
