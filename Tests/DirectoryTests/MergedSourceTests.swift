import Foundation
import XCTest

@testable import Directory

/// Several sources read at once on their own threads, delivered to one consumer: every entry
/// once, tagged with its source, and every thread ended when the call returns.
final class MergedSourceTests: XCTestCase {
    /// An export of `count` workstations of one site, as ldapsearch writes it.
    private func export(site: String, count: Int, trailer: String = "") -> LDIFReader {
        var text = "version: 1\n\n"
        for index in 0..<count {
            text += """
                dn: CN=\(site)-WKS-\(index),OU=Workstations,OU=\(site),DC=corp,DC=example
                objectClass: top
                objectClass: computer
                sAMAccountName: \(site)-WKS-\(index)$
                dNSHostName: \(site.lowercased())-wks-\(index).corp.example
                userAccountControl: 4096
                servicePrincipalName: HOST/\(site)-WKS-\(index)
                pwdLastSet: 13439118600000\(index % 10)000


                """
        }
        return LDIFReader(bytes: Array((text + trailer).utf8), name: "\(site.lowercased()).ldif")
    }

    private func distinguishedNames(_ reader: LDIFReader) throws -> [String] {
        var names: [String] = []
        try reader.forEachEntry { names.append($0.distinguishedName) }
        return names
    }

    func testMergedExportsDeliverEveryEntryOnceWithItsOrigin() throws {
        // One export smaller than a batch, two of several batches, so the shared queue fills.
        let sources = [
            export(site: "PARIS", count: 37),
            export(site: "BERLIN", count: MergedSource.batchSize * 3 + 11),
            export(site: "OSLO", count: MergedSource.batchSize * MergedSource.queuedBatchesPerSource * 2 + 5),
        ]
        var byOrigin: [[String]] = Array(repeating: [], count: sources.count)
        try MergedSource(sources).forEachEntry { origin, entry in byOrigin[origin].append(entry.distinguishedName) }
        for (origin, source) in sources.enumerated() {
            // Each source's entries, exactly once, in its own order, under its own origin.
            XCTAssertEqual(byOrigin[origin], try distinguishedNames(source), "origin \(origin)")
        }
        let metadata = try MergedSource(sources).readMetadata()
        XCTAssertEqual(metadata.map(\.name), ["paris.ldif", "berlin.ldif", "oslo.ldif"])
        XCTAssertEqual(Set(metadata.map(\.kind)), [.ldifExport])
    }

    func testAnErrorInOneSourceStopsTheOthersAfterTheEntriesBeforeIt() throws {
        let good = MergedSource.batchSize + 3
        let broken = export(
            site: "PARIS", count: good, trailer: "dn: CN=BAD,DC=corp,DC=example\nobjectSid:: AQUA*AAA\n")
        let endless = EndlessSource(site: "BERLIN")
        var fromBroken = 0
        var fromEndless = 0
        XCTAssertThrowsError(
            try MergedSource([broken, endless]).forEachEntry { origin, _ in
                if origin == 0 { fromBroken += 1 } else { fromEndless += 1 }
            }
        ) { error in
            XCTAssertEqual((error as? DirectoryError)?.code, .invalidBase64, "\(error)")
        }
        XCTAssertEqual(fromBroken, good, "every entry before the error is delivered first")
        XCTAssertTrue(endless.hasEnded, "the other source was stopped")
        XCTAssertLessThanOrEqual(fromEndless, endless.produced)
    }

    func testStoppingMidwayEndsEveryThread() throws {
        let endless = [EndlessSource(site: "PARIS"), EndlessSource(site: "BERLIN")]
        let large = export(site: "OSLO", count: MergedSource.batchSize * MergedSource.queuedBatchesPerSource * 4)
        struct Stop: Error {}
        var seen = 0
        XCTAssertThrowsError(
            try MergedSource(endless + [large]).forEachEntry { _, _ in
                seen += 1
                if seen == 5_000 { throw Stop() }
            }
        ) { error in XCTAssertTrue(error is Stop, "\(error)") }
        XCTAssertEqual(seen, 5_000)
        for source in endless {
            // Ended before the call returned, on a thread of its own, not the caller's.
            XCTAssertTrue(source.hasEnded, source.description)
            let thread = try XCTUnwrap(source.thread)
            XCTAssertFalse(thread === Thread.current)
            let deadline = Date().addingTimeInterval(2)
            while !thread.isFinished && Date() < deadline { usleep(1_000) }
            XCTAssertTrue(thread.isFinished, "\(source.description)'s thread still runs")
        }
    }

    func testTheRequestReachesEverySource() throws {
        let request = SourceRequest(
            attributes: ["sAMAccountName", "isDeleted"], controls: [.showDeleted], filter: "(isDeleted=TRUE)")
        let sources = [EndlessSource(site: "PARIS", limit: 3), EndlessSource(site: "BERLIN", limit: 3)]
        var count = 0
        try MergedSource(sources).forEachEntry(request) { _, _ in count += 1 }
        XCTAssertEqual(count, 6)
        XCTAssertEqual(sources.map(\.request), [request, request])
    }

    func testAtMostTheGivenNumberOfSourcesReadAtOnceAndAllAreRead() throws {
        let gauge = ConcurrencyGauge()
        let sources = (0..<5).map { SlowSource(name: "dc0\($0).corp.example", gauge: gauge) }
        var byOrigin = [Int](repeating: 0, count: sources.count)
        try MergedSource(sources, maximumConcurrentSources: 2).forEachEntry { origin, _ in byOrigin[origin] += 1 }
        XCTAssertEqual(byOrigin, [3, 3, 3, 3, 3])
        XCTAssertEqual(gauge.highest, 2, "two sources at once, never more, and the limit was reached")
    }

    func testNoSourceDeliversNothing() throws {
        var count = 0
        try MergedSource([]).forEachEntry { _, _ in count += 1 }
        XCTAssertEqual(count, 0)
    }
}

/// A source that makes computer entries until told to stop (or `limit`), and records how it ended.
private final class EndlessSource: DirectorySource, @unchecked Sendable {
    let site: String
    let limit: Int?
    private let lock = NSLock()
    private var _ended = false
    private var _produced = 0
    private var _thread: Thread?
    private var _request: SourceRequest?

    init(site: String, limit: Int? = nil) {
        self.site = site
        self.limit = limit
    }

    var description: String { "ldaps://dc01.\(site.lowercased()).corp.example" }
    var hasEnded: Bool { lock.withLock { _ended } }
    var produced: Int { lock.withLock { _produced } }
    var thread: Thread? { lock.withLock { _thread } }
    var request: SourceRequest? { lock.withLock { _request } }

    func readMetadata() throws -> SourceMetadata {
        SourceMetadata(kind: .domainController, name: description, domainControllerHostName: "dc01.corp.example")
    }

    func forEachEntry(_ request: SourceRequest, _ body: (DirectoryEntry) throws -> Void) throws {
        lock.withLock {
            _thread = Thread.current
            _request = request
        }
        defer { lock.withLock { _ended = true } }
        var index = 0
        while limit.map({ index < $0 }) ?? true {
            var entry = DirectoryEntry(distinguishedName: "CN=\(site)-SRV-\(index),OU=Servers,DC=corp,DC=example")
            try entry.append(Array("\(site)-SRV-\(index)$".utf8), to: "sAMAccountName")
            try entry.append(Array("computer".utf8), to: "objectClass")
            try body(entry)
            index += 1
            lock.withLock { _produced = index }
        }
    }
}

/// How many sources are reading at this moment, and the most there ever were.
private final class ConcurrencyGauge: @unchecked Sendable {
    private let lock = NSLock()
    private var current = 0
    private(set) var highest = 0

    func enter() {
        lock.lock()
        current += 1
        highest = max(highest, current)
        lock.unlock()
    }

    func leave() {
        lock.lock()
        current -= 1
        lock.unlock()
    }
}

/// A DC that takes a while to answer: three computers, 50 ms apart.
private final class SlowSource: DirectorySource, @unchecked Sendable {
    let name: String
    let gauge: ConcurrencyGauge

    init(name: String, gauge: ConcurrencyGauge) {
        self.name = name
        self.gauge = gauge
    }

    var description: String { name }

    func readMetadata() throws -> SourceMetadata { SourceMetadata(kind: .domainController, name: name) }

    func forEachEntry(_ request: SourceRequest, _ body: (DirectoryEntry) throws -> Void) throws {
        gauge.enter()
        defer { gauge.leave() }
        for index in 0..<3 {
            Thread.sleep(forTimeInterval: 0.05)
            try body(
                try DirectoryEntry(
                    distinguishedName: "CN=WKS-\(index),OU=Workstations,DC=corp,DC=example",
                    attributes: ["objectClass": [Array("computer".utf8)]]))
        }
    }
}
