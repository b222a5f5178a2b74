import Foundation
import XCTest

@testable import Directory

/// What a source is told to read and what it says about itself; and the queue between threads.
final class SourceRequestTests: XCTestCase {
    private let export = Array(
        """
        dn: CN=WKS-0142,OU=Workstations,DC=corp,DC=example
        objectClass: computer
        sAMAccountName: WKS-0142$
        objectGUID:: EoSY84r0ZkC3ERxW66bmqA==
        isDeleted: FALSE
        pwdLastSet: 134391186000000000

        """.utf8)

    private func names(_ source: any DirectorySource, _ request: SourceRequest? = nil) throws -> [String] {
        var names: [String] = []
        let collect: (DirectoryEntry) -> Void = { names += $0.attributes.keys.sorted() }
        if let request { try source.forEachEntry(request, collect) } else { try source.forEachEntry(collect) }
        return names
    }

    func testAnExportKeepsTheRequestedAttributes() throws {
        let reader = LDIFReader(bytes: export, name: "corp.ldif", keptAttributes: nil)
        XCTAssertEqual(
            try names(reader, SourceRequest(attributes: ["sAMAccountName", "isDeleted"])),
            ["isdeleted", "samaccountname"])
        XCTAssertEqual(
            try names(reader, .audit), ["isdeleted", "objectclass", "objectguid", "pwdlastset", "samaccountname"],
            "the audit's request keeps the audited attributes")
        // No attributes asked for: all, as in an LDAP search; filter and controls do not apply to a file.
        XCTAssertEqual(
            try names(reader, SourceRequest(attributes: [], controls: [.showDeleted], filter: "(isDeleted=TRUE)")),
            ["isdeleted", "objectclass", "objectguid", "pwdlastset", "samaccountname"])
    }

    func testAnExportWithoutARequestKeepsWhatItWasConfiguredFor() throws {
        // Through the protocol too: the reader's own keptAttributes, not the audit's request.
        let all: any DirectorySource = LDIFReader(bytes: export, name: "corp.ldif", keptAttributes: nil)
        XCTAssertEqual(try names(all), ["isdeleted", "objectclass", "objectguid", "pwdlastset", "samaccountname"])
        let audited: any DirectorySource = LDIFReader(bytes: export, name: "corp.ldif")
        XCTAssertEqual(try names(audited), ["isdeleted", "objectclass", "objectguid", "pwdlastset", "samaccountname"])
    }

    func testAnExportDescribesItself() throws {
        let metadata = try LDIFReader(path: "/srv/exports/corp.example.ldif").readMetadata()
        XCTAssertEqual(metadata, SourceMetadata(kind: .ldifExport, name: "/srv/exports/corp.example.ldif"))
        XCTAssertFalse(metadata.isGlobalCatalog)
        XCTAssertNil(metadata.domainControllerHostName)
        XCTAssertNil(metadata.currentTime)
    }

    func testShowDeletedIsTheCriticalADControl() {
        XCTAssertEqual(ServerControl.showDeleted.oid, "1.2.840.113556.1.4.417")
        XCTAssertTrue(ServerControl.showDeleted.isCritical)
        XCTAssertNil(ServerControl.showDeleted.value)
        XCTAssertEqual(SourceRequest.audit.attributes, AuditedAttributes.singleSource)
        XCTAssertEqual(SourceRequest.audit.controls, [])
        XCTAssertNil(SourceRequest.audit.filter)
    }

    // MARK: BoundedBatchQueue

    func testAFullQueueHoldsTheProducerUntilTheConsumerTakes() throws {
        let queue = BoundedBatchQueue<[Int]>(capacity: 2)
        XCTAssertTrue(queue.push([1]))
        XCTAssertTrue(queue.push([2]))
        let pushed = Flag()
        let producer = Thread {
            _ = queue.push([3])
            pushed.set()
            queue.finish(error: nil)
        }
        producer.start()
        usleep(100_000)
        XCTAssertFalse(pushed.isSet, "a third batch must wait while two are queued")
        XCTAssertEqual(try queue.pop(), [1])
        XCTAssertEqual(try queue.pop(), [2])
        XCTAssertEqual(try queue.pop(), [3])
        XCTAssertNil(try queue.pop())
        XCTAssertTrue(pushed.isSet)
    }

    func testTheQueueEndsOnceEveryProducerFinished() throws {
        let queue = BoundedBatchQueue<String>(capacity: 4, producers: 2)
        XCTAssertTrue(queue.push("PARIS"))
        queue.finish(error: nil)
        XCTAssertEqual(try queue.pop(), "PARIS")
        let late = Thread {
            usleep(50_000)
            _ = queue.push("BERLIN")
            queue.finish(error: nil)
        }
        late.start()
        XCTAssertEqual(try queue.pop(), "BERLIN", "one producer finished is not the end")
        XCTAssertNil(try queue.pop())
    }

    func testTheFirstErrorStopsTheOtherProducersAndComesAfterTheQueuedBatches() throws {
        struct Broken: Error, Equatable { var site: String }
        let queue = BoundedBatchQueue<String>(capacity: 4, producers: 2)
        XCTAssertTrue(queue.push("PARIS-1"))
        queue.finish(error: Broken(site: "PARIS"))
        XCTAssertFalse(queue.push("BERLIN-1"), "another producer is told to stop")
        queue.finish(error: Broken(site: "BERLIN"))
        XCTAssertEqual(try queue.pop(), "PARIS-1")
        XCTAssertThrowsError(try queue.pop()) { XCTAssertEqual($0 as? Broken, Broken(site: "PARIS")) }
    }

    func testCancelWaitsForEveryProducer() {
        let queue = BoundedBatchQueue<Int>(capacity: 1, producers: 2)
        let ended = Flag()
        for delay in [10_000, 80_000] as [UInt32] {
            Thread {
                while queue.push(1) { usleep(1_000) }
                usleep(delay)
                if delay == 80_000 { ended.set() }
                queue.finish(error: nil)
            }.start()
        }
        _ = try? queue.pop()
        queue.cancelAndWait()
        XCTAssertTrue(ended.isSet, "cancelAndWait returned before the slower producer finished")
    }
}

private final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}
