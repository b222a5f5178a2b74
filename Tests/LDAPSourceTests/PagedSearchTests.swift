import Foundation
import LDAPClient
import XCTest

/// The paged search against a scripted server that pages: the next page is asked for while the
/// caller works on this one, and a caller that stops leaves the connection usable.
final class PagedSearchTests: XCTestCase {
    private static let computers = (0..<10).map { number in
        (
            dn: "CN=WKS-\(number),OU=Workstations,DC=corp,DC=example",
            attributes: [("sAMAccountName", ["WKS-\(number)$"]), ("objectClass", ["top", "computer"])]
        )
    }

    private func connection(_ server: ScriptedLDAPServer) throws -> LDAPConnection {
        let connection = try LDAPConnection(
            options: LDAPConnectionOptions(
                uri: "ldap://127.0.0.1:\(server.port)", networkTimeout: 3, operationTimeout: 5))
        try connection.simpleBind(dn: "svc-audit@corp.example", password: Array("Tr0ub4dor&3".utf8))
        return connection
    }

    func testTheNextPageIsAskedForWhileThisOneIsWorkedOn() throws {
        let server = try ScriptedLDAPServer(rootDSE: [], entries: Self.computers, pageSize: 4)
        defer { server.stop() }
        let connection = try connection(server)
        var read: [String] = []
        var requestsWhileWorking: [Int] = []
        try connection.search(base: "DC=corp,DC=example", pageSize: 4) { (page: LDAPSearchPage) in
            // Without the request ahead, the server would see page 2's request only after this returns.
            let deadline = Date().addingTimeInterval(5)
            while page.number < 3, server.searchRequests.count <= page.number, Date() < deadline { usleep(1000) }
            requestsWhileWorking.append(server.searchRequests.count)
            read += page.entries.map(\.dn)
        }
        XCTAssertEqual(read, Self.computers.map(\.dn), "every entry once, in order, across three pages")
        XCTAssertEqual(requestsWhileWorking, [2, 3, 3], "pages 2 and 3 were asked for while 1 and 2 were worked on")
    }

    func testACallerThatStopsEndsTheSearchAndTheConnectionGoesOn() throws {
        struct Stop: Error {}
        let server = try ScriptedLDAPServer(rootDSE: [], entries: Self.computers, pageSize: 4)
        defer { server.stop() }
        let connection = try connection(server)
        XCTAssertThrowsError(
            try connection.search(base: "DC=corp,DC=example", pageSize: 4) { (_: LDAPSearchPage) in throw Stop() }
        ) { error in
            XCTAssertTrue(error is Stop, "the caller's own error comes back: \(error)")
        }
        // Page 2, already asked for, was read; its cookie ended the search (a request of size 0).
        let requests = server.searchRequests
        XCTAssertEqual(requests.count, 3)
        XCTAssertEqual(requests.last.flatMap(ScriptedLDAPServer.pagingRequest(in:))?.size, 0)
        XCTAssertEqual(requests.last.flatMap(ScriptedLDAPServer.pagingRequest(in:))?.start, 8)

        let again = try connection.searchAll(base: "DC=corp,DC=example", pageSize: 4)
        XCTAssertEqual(again.map(\.dn), Self.computers.map(\.dn))
    }
}
