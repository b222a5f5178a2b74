import XCTest

@testable import Audit
@testable import Directory

final class MissingAccountRuleTests: XCTestCase {
    private static let domain =
        Fixture.computer("WKS-0042")
        + Fixture.computer("SMITHJOHNPC", commonName: "Smith, John PC")
        + Fixture.computer("WKS-0077", dnsHostName: "")  // no dNSHostName
        + Fixture.computer("APP01-OLD", container: "OU=Servers,DC=corp,DC=example", dnsHostName: "app01.corp.example")
        + Fixture.groupManagedServiceAccount
        + Fixture.user("svc-sql", spns: ["MSSQLSvc/sql01.corp.example:1433"])

    /// The names in `inventory` that have no account, as reported.
    private func missing(_ inventory: String, configuration: AuditConfiguration = AuditConfiguration()) throws
        -> [Finding]
    {
        var index = MissingAccountRule(inventory: Inventory.parse(inventory, source: "inventory.txt"))
        for object in try Fixture.objects(Self.domain) { index.add(object) }
        return index.findings(in: Fixture.context(configuration))
    }

    func testShortNameFQDNCommonNameAndCaseAllMatch() throws {
        let inventory = """
            WKS-0042
            wks-0042
            WKS-0042.CORP.EXAMPLE
            wks-0042$
            Smith, John PC
            smithjohnpc.corp.example
            wks-0077.corp.example
            APP01-OLD
            app01
            """
        XCTAssertEqual(try missing(inventory), [])
    }

    func testUnknownNamesAreReportedAsWritten() throws {
        let inventory =
            "# CMDB export\n\nWKS-0042\n  WKS-9999 (retired?)  \t\nwks-0042.other.example\ngmsa-intranet\nsvc-sql\n"
        let result = try missing(inventory)
        XCTAssertEqual(
            result.map(\.account), ["WKS-9999 (retired?)", "wks-0042.other.example", "gmsa-intranet", "svc-sql"])
        let odd = try XCTUnwrap(result.first)
        XCTAssertEqual(odd.rule, "missing-account")
        XCTAssertEqual(odd.severity, .high)
        XCTAssertNil(odd.distinguishedName)
        XCTAssertEqual(
            odd.message,
            "WKS-9999 (retired?) (inventory.txt line 4) has no computer account in corp.example: it cannot log on to the domain (\"The security database on the server does not have a computer account for this workstation trust relationship\")."
        )
        XCTAssertEqual(odd.detailKeys, ["inventoryFile", "inventoryLine"])
        XCTAssertEqual(odd.detail("inventoryFile"), .string("inventory.txt"))
        XCTAssertEqual(odd.detail("inventoryLine"), .integer(4))
    }

    func testRemediationForAShortNameAndAnFQDN() throws {
        let result = try missing("WKS-0500\nlt-0501.corp.example\n")
        guard result.count == 2 else { return XCTFail("expected two findings, got \(result.map(\.account))") }
        XCTAssertEqual(
            result[0].remediation,
            """
            If the machine is still in service, rejoin it (Add-Computer -DomainName corp.example -Credential (Get-Credential) -Restart), \
            or recreate its account and repair the channel from the machine:
              New-ADComputer -Name 'WKS-0500' -SamAccountName 'WKS-0500' -Path '<OU distinguished name>' -Server corp.example
              then on the machine: Test-ComputerSecureChannel -Repair -Credential (Get-Credential)
            If it was decommissioned, remove it from the inventory.
            """)
        XCTAssertTrue(
            result[1].remediation.contains(
                "  New-ADComputer -Name 'lt-0501' -SamAccountName 'lt-0501' -DNSHostName 'lt-0501.corp.example' -Path '<OU distinguished name>' -Server corp.example\n"
            ), result[1].remediation)
    }

    /// The index keeps keys as hashes and checks each candidate against the item itself: a key
    /// shared by several items matches them all, and a key that is only a prefix, a suffix or a
    /// different kind of key (a short name against an FQDN's first label) matches none. Thousands of
    /// names make the index grow several times.
    func testTheIndexMatchesExactKeysOfEveryItemThatSharesThem() throws {
        var names = (0..<3000).map { "filler-\($0).corp.example" }
        names += [
            "wks-0077.corp.example", "WKS-0077.branch.example", "wks-0077.lab.example$",  // one label, three FQDNs
            "wks-007", "wks-00777", "xwks-0042", "wks-0042.", ".wks-0042",  // near misses
        ]
        var index = MissingAccountRule(
            inventory: Inventory.parse(names.joined(separator: "\n"), source: "inventory.txt"))
        for object in try Fixture.objects(Self.domain) { index.add(object) }
        for filler in 0..<3000 where filler % 3 != 0 {
            index.add(
                try Fixture.object(Fixture.computer("FILLER-\(filler)", dnsHostName: "filler-\(filler).corp.example")))
        }
        let missing = Set(index.findings(in: Fixture.context()).map(\.account))
        let expected = Set(stride(from: 0, to: 3000, by: 3).map { "filler-\($0).corp.example" })
            .union(["wks-007", "wks-00777", "xwks-0042", "wks-0042.", ".wks-0042"])
        XCTAssertEqual(missing, expected, "WKS-0077, without dNSHostName, answers for all three FQDNs of its name")
    }

    func testANameListedTwiceIsOneFinding() throws {
        let result = try missing("WKS-0500\nwks-0500\nWKS-0500\n")
        XCTAssertEqual(result.map(\.account), ["WKS-0500"])
        XCTAssertEqual(result.first?.detail("inventoryLine"), .integer(1))
    }

    /// FS01 was renamed from FS-OLD and serves files.corp.example: each name it answers to is in use.
    func testAdditionalNamesAreNotMissing() throws {
        let fs01 = adding(
            Fixture.computer("FS01", container: "OU=Servers,DC=corp,DC=example"),
            "msDS-AdditionalDnsHostName: files.corp.example", "msDS-AdditionalDnsHostName: FS-OLD.corp.example.",
            "msDS-AdditionalSamAccountName: FS-OLD$")
        var index = MissingAccountRule(
            inventory: Inventory.parse(
                "fs-old\nFS-OLD.corp.example\nfiles\nFILES.corp.example\nfs02\n", source: "inv.txt"))
        for object in try Fixture.objects(fs01) { index.add(object) }
        XCTAssertEqual(index.findings(in: Fixture.context()).map(\.account), ["fs02"])
        XCTAssertTrue(MissingAccountRule.attributes.contains("msDS-AdditionalDnsHostName"))
        XCTAssertTrue(MissingAccountRule.attributes.contains("msDS-AdditionalSamAccountName"))
    }

    func testDeletedAndConflictObjectsAnswerForNoMachine() throws {
        let conflict = Fixture.computer(
            "$DUPLICATE-4e2", container: "OU=HR,DC=corp,DC=example", commonName: "PC9", dnsHostName: "pc9.corp.example")
        var index = MissingAccountRule(
            inventory: Inventory.parse("WKS-0142\npc9\nwks-0143.corp.example\n", source: "inv.txt"))
        for object in try Fixture.objects(DeletedAccountRuleTests.tombstone + conflict) { index.add(object) }
        let result = index.findings(in: Fixture.context())
        XCTAssertEqual(result.map(\.account), ["WKS-0142", "pc9", "wks-0143.corp.example"])
        XCTAssertEqual(
            result[0].message,
            "WKS-0142 (inv.txt line 1) has no computer account in corp.example: its account was deleted on 2026-11-20 from OU=Workstations,DC=corp,DC=example; see deleted-account: it cannot log on to the domain (\"The security database on the server does not have a computer account for this workstation trust relationship\")."
        )
        XCTAssertTrue(
            result[0].remediation.hasPrefix(
                "Its deleted account may be restored instead; see the deleted-account finding.\nIf the machine is still in service"
            ))
        XCTAssertFalse(result[1].message.contains("deleted"), "a conflict object is no deleted account")
        XCTAssertFalse(result[2].message.contains("deleted"))
        XCTAssertTrue(result[1].remediation.hasPrefix("If the machine is still in service"))
    }

    func testADeletedAccountBesideALiveOneIsNotMissing() throws {
        for ldif in [
            DeletedAccountRuleTests.tombstone + Fixture.computer("WKS-0142"),
            Fixture.computer("WKS-0142") + DeletedAccountRuleTests.tombstone,
        ] {
            var index = MissingAccountRule(inventory: Inventory.parse("WKS-0142\n", source: "inv.txt"))
            for object in try Fixture.objects(ldif) { index.add(object) }
            XCTAssertEqual(index.findings(in: Fixture.context()), [])
        }
    }

    func testSeverityOverride() throws {
        var configuration = AuditConfiguration()
        configuration.severities["missing-account"] = .medium
        XCTAssertEqual(try missing("WKS-0500", configuration: configuration).first?.severity, .medium)
    }
}

final class InventoryTests: XCTestCase {
    func testParsingKeepsNamesAsWrittenAndSkipsBlanksAndComments() {
        let text =
            "\u{FEFF}# CMDB export 2026-11-20\nWKS-0042  \n\n   \n\t# indented comment\n  wks-0043.corp.example\n  WKS-9999 (retired?)\n#\nLAST"
        let inventory = Inventory.parse(text, source: "cmdb.txt")
        XCTAssertEqual(inventory.source, "cmdb.txt")
        XCTAssertEqual(
            inventory.items.map(\.name), ["WKS-0042", "wks-0043.corp.example", "WKS-9999 (retired?)", "LAST"])
        XCTAssertEqual(inventory.items.map(\.line), [2, 6, 7, 9])
    }

    /// An inventory saved on Windows (Excel, a CMDB export) ends its lines with CRLF.
    ///
    /// Swift treats "\r\n" as one Character, so a Character split would read a CRLF export as one
    /// line (or, when it starts with a comment, as nothing at all).
    func testCRLFInventoryIsSplitIntoLines() throws {
        let inventory = Inventory.parse(
            "# CMDB export\r\nWKS-0042  \r\n\r\nwks-0043.corp.example\r\n", source: "cmdb.txt")
        let names = inventory.items.map(\.name)
        XCTAssertEqual(names, ["WKS-0042", "wks-0043.corp.example"])
        XCTAssertEqual(inventory.items.map(\.line), [2, 4])
    }

    /// The items are kept packed in one buffer: names of every length, non-ASCII ones trimmed of a
    /// no-break space, and a name right after an empty one must each come back whole, on their line.
    func testPackedItemsReadBackAsParsedWhateverTheirLengthOrScript() {
        let long = String(repeating: "w", count: 300) + ".corp.example"
        let text = "Ünïcodé-PC\n\u{00A0}ПК-БУХ-01\u{00A0}\nX\n\n\(long)\r\n工作站-7\n"
        let inventory = Inventory.parse(text, source: "cmdb.txt")
        XCTAssertEqual(inventory.items.map(\.name), ["Ünïcodé-PC", "ПК-БУХ-01", "X", long, "工作站-7"])
        XCTAssertEqual(inventory.items.map(\.line), [1, 2, 3, 5, 6])
        XCTAssertEqual(inventory.items[3], Inventory.Item(name: long, line: 5))
        let rebuilt = Inventory(source: "cmdb.txt", items: Array(inventory.items))
        XCTAssertEqual(rebuilt, inventory)
        XCTAssertNotEqual(Inventory(source: "cmdb.txt", items: Array(inventory.items.dropLast())), inventory)
    }

    func testEmptyInventory() {
        XCTAssertEqual(Inventory.parse("", source: "empty.txt").items, [])
        XCTAssertEqual(Inventory.parse("\n\n# nothing\n", source: "empty.txt").items, [])
    }

    func testLoadReportsAnUnreadableFile() {
        XCTAssertThrowsError(try Inventory.load(path: "/nonexistent/inventory.txt")) { error in
            XCTAssertEqual(
                error as? InventoryError,
                InventoryError(
                    file: "/nonexistent/inventory.txt", reason: "cannot read the inventory file: no such file"))
        }
    }
}
