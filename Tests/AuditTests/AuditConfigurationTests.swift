import Foundation
import XCTest

@testable import Audit
@testable import Directory

final class AuditConfigurationTests: XCTestCase {
    private func parse(_ json: String) throws -> AuditConfiguration {
        try AuditConfiguration.parse(Data(json.utf8), file: "trustaudit.json")
    }

    private func assertError(
        _ json: String, key: String, reason: String, file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertThrowsError(try parse(json), file: file, line: line) { error in
            guard let error = error as? ConfigurationError else {
                return XCTFail("unexpected \(error)", file: file, line: line)
            }
            XCTAssertEqual(error.file, "trustaudit.json", file: file, line: line)
            XCTAssertEqual(error.key, key, file: file, line: line)
            XCTAssertEqual(error.reason, reason, file: file, line: line)
        }
    }

    func testDefaults() throws {
        let configuration = try parse("{}")
        XCTAssertEqual(configuration.stalePasswordDays, 60)
        XCTAssertEqual(configuration.passwordRotationDays, 30)
        XCTAssertEqual(
            configuration.requiredSPNs,
            [
                SPNRequirement(serviceClass: "HOST", scope: .all, severity: .high),
                SPNRequirement(serviceClass: "RestrictedKrbHost", scope: .all, severity: .medium),
                SPNRequirement(serviceClass: "TERMSRV", scope: .servers, severity: .low),
            ])
        XCTAssertEqual(configuration.severities, [:])
        XCTAssertNil(configuration.remediationServer)
        XCTAssertEqual(configuration.clusterStalePasswordDays, 1095)
        XCTAssertEqual(configuration.duplicateSPNExclusions, [])
    }

    // MARK: clusterStalePasswordDays and duplicateSPNExclusions

    func testClusterThresholdAndDuplicateSPNExclusions() throws {
        let configuration = try parse(
            #"{"clusterStalePasswordDays": 730, "duplicateSPNExclusions": ["HTTP/Intranet.Corp.Example", "MSSQLSvc/*:1433", "kadmin/*"]}"#
        )
        XCTAssertEqual(configuration.clusterStalePasswordDays, 730)
        XCTAssertEqual(
            configuration.duplicateSPNExclusions.map(\.description),
            ["http/intranet.corp.example", "mssqlsvc/*:1433", "kadmin/*"])
        func excluded(_ spn: String) -> Bool {
            configuration.duplicateSPNExclusions.contains { $0.matches(ServicePrincipalName(spn)) }
        }
        XCTAssertTrue(excluded("http/INTRANET.corp.example"), "case-insensitive, as AD compares SPNs")
        XCTAssertFalse(excluded("HTTP/intranet"), "the short form is another SPN")
        XCTAssertFalse(excluded("HTTP/intranet.corp.example:8080"), "a port is part of the SPN")
        XCTAssertTrue(excluded("MSSQLSvc/sql01.corp.example:1433"))
        XCTAssertTrue(excluded("MSSQLSvc/sql02:1433"))
        XCTAssertFalse(excluded("MSSQLSvc/sql01.corp.example"), "no port: not what MSSQLSvc/*:1433 names")
        XCTAssertFalse(excluded("MSSQLSvc/sql01.corp.example:14330"))
        XCTAssertTrue(excluded("kadmin/changepw"))
        XCTAssertFalse(excluded("kadmin/changepw/corp.example"), "a service name is part of the SPN")
        XCTAssertFalse(excluded("HOST/kadmin"))
    }

    func testBadDuplicateSPNExclusionsAreErrors() {
        let key = "duplicateSPNExclusions"
        assertError(
            #"{"duplicateSPNExclusions": "HTTP/*"}"#, key: key,
            reason: "must be a list of SPNs (HTTP/web01.corp.example, or HTTP/* for any host)")
        assertError(
            #"{"duplicateSPNExclusions": [42]}"#, key: key, reason: "must be a list of SPN strings, not a number")
        let notAnSPN = "is not an SPN (service class/host, such as HTTP/web01.corp.example or HTTP/*)"
        for text in ["HTTP", "HTTP/", "/web01", "", "*"] {
            assertError(#"{"duplicateSPNExclusions": ["\#(text)"]}"#, key: key, reason: "'\(text)' \(notAnSPN)")
        }
        let star = "may only stand for the whole host (HTTP/*, MSSQLSvc/*:1433)"
        for text in ["*/web01", "HTTP/web*", "HTTP/*.corp.example", "MSSQLSvc/*:*"] {
            assertError(#"{"duplicateSPNExclusions": ["\#(text)"]}"#, key: key, reason: "'\(text)' '*' \(star)")
        }
        assertError(
            #"{"duplicateSPNExclusions": ["HTTP/web 01"]}"#, key: key,
            reason: "'HTTP/web 01' holds a space or a control character, which no SPN does")
        // A control character is shown escaped in the error, not sent to the terminal.
        XCTAssertThrowsError(try parse(#"{"duplicateSPNExclusions": ["HTTP/web\u001b[2J"]}"#)) { error in
            let reason = (error as? ConfigurationError)?.reason ?? ""
            XCTAssertTrue(reason.hasSuffix("' holds a space or a control character, which no SPN does"), reason)
            XCTAssertFalse(reason.contains("\u{1B}"), reason)
        }
        assertError(
            #"{"clusterStalePasswordDays": 0}"#, key: "clusterStalePasswordDays",
            reason: "must be a whole number of days from 1 to 3650")
    }

    func testAFullFile() throws {
        let configuration = try parse(
            """
            {
              "stalePasswordDays": 90,
              "passwordRotationDays": 45,
              "remediationServer": "dc01.corp.example",
              "severities": {"disabled-account": "LOW", "missing-account": "critical"},
              "requiredSPNs": {
                "termsrv": {"requiredOn": "all"},
                "WSMAN": {"requiredOn": "servers", "severity": "info"},
                "RestrictedKrbHost": {"severity": "high"}
              },
              "exclude": {
                "accounts": ["KIOSK-01$", " lab-pc07 "],
                "organizationalUnits": ["OU=Lab, OU=Workstations, DC=corp, DC=example"]
              }
            }
            """)
        XCTAssertEqual(configuration.stalePasswordDays, 90)
        XCTAssertEqual(configuration.passwordRotationDays, 45)
        XCTAssertEqual(configuration.remediationServer, "dc01.corp.example")
        XCTAssertEqual(configuration.severities, ["disabled-account": .low, "missing-account": .critical])
        XCTAssertEqual(
            configuration.requiredSPNs,
            [
                SPNRequirement(serviceClass: "HOST", scope: .all, severity: .high),
                SPNRequirement(serviceClass: "RestrictedKrbHost", scope: .all, severity: .high),
                SPNRequirement(serviceClass: "TERMSRV", scope: .all, severity: .low),
                SPNRequirement(serviceClass: "WSMAN", scope: .servers, severity: .info),
            ])
        XCTAssertEqual(configuration.excludedAccounts, ["kiosk-01", "lab-pc07"])
        XCTAssertEqual(configuration.excludedContainers, ["ou=lab,ou=workstations,dc=corp,dc=example"])
        XCTAssertEqual(configuration.severity(for: "disabled-account", default: .medium), .low)
        XCTAssertEqual(configuration.severity(for: "stale-password", default: .medium), .medium)
    }

    func testUnknownKeysAreErrors() {
        assertError(
            #"{"stalePaswordDays": 90}"#, key: "stalePaswordDays",
            reason:
                "unknown key; known keys are stalePasswordDays, clusterStalePasswordDays, passwordRotationDays, requiredSPNs, duplicateSPNExclusions, severities, exclude, remediationServer, maxClockSkewMinutes, replicationFailureHours"
        )
        assertError(
            #"{"severities": {"stale-passwords": "low"}}"#, key: "severities.stale-passwords",
            reason:
                "unknown rule; rules are disabled-account, stale-password, missing-spn, duplicate-spn, missing-account, "
                + "duplicate-hostname, conflict-object, deleted-account, password-not-replicated, "
                + "dc-clock-skew, replication-failure")
        assertError(
            #"{"requiredSPNs": {"WSMAN": {"required": "all"}}}"#, key: "requiredSPNs.WSMAN.required",
            reason: "unknown key; use requiredOn and severity")
        assertError(
            #"{"exclude": {"computers": ["WKS-0001"]}}"#, key: "exclude.computers",
            reason: "unknown key; use accounts and organizationalUnits")
    }

    func testBadValuesAreErrors() {
        let days = "must be a whole number of days from 1 to 3650"
        assertError(#"{"stalePasswordDays": "90"}"#, key: "stalePasswordDays", reason: days)
        assertError(#"{"stalePasswordDays": 0}"#, key: "stalePasswordDays", reason: days)
        assertError(#"{"stalePasswordDays": 3651}"#, key: "stalePasswordDays", reason: days)
        assertError(#"{"stalePasswordDays": 60.5}"#, key: "stalePasswordDays", reason: days)
        assertError(#"{"stalePasswordDays": true}"#, key: "stalePasswordDays", reason: days)
        assertError(
            #"{"passwordRotationDays": 1000}"#, key: "passwordRotationDays",
            reason: "must be a whole number of days from 1 to 999")
        assertError(#"{"remediationServer": ""}"#, key: "remediationServer", reason: "must be a DC host name")
        assertError(
            #"{"severities": {"missing-spn": "urgent"}}"#, key: "severities.missing-spn",
            reason: "must be one of info, low, medium, high, critical")
        assertError(
            #"{"severities": ["missing-spn"]}"#, key: "severities", reason: "must be an object of rule id to severity")
        assertError(
            #"{"requiredSPNs": {"TERMSRV": {"requiredOn": "workstations"}}}"#, key: "requiredSPNs.TERMSRV.requiredOn",
            reason: "must be one of all, servers, paired, none")
        assertError(
            #"{"requiredSPNs": {"HTTP/web": {"requiredOn": "all"}}}"#, key: "requiredSPNs.HTTP/web",
            reason: "a service class is the part before '/', such as HOST or TERMSRV")
        assertError(
            #"{"requiredSPNs": {"TERMSRV": "all"}}"#, key: "requiredSPNs.TERMSRV",
            reason: "must be an object with \"requiredOn\" and optionally \"severity\"")
        assertError(
            #"{"exclude": {"accounts": "WKS-0001"}}"#, key: "exclude.accounts", reason: "must be a list of strings")
        assertError(
            #"{"exclude": {"organizationalUnits": ["Lab"]}}"#, key: "exclude.organizationalUnits",
            reason: "'Lab' is not a distinguished name (OU=Lab,DC=corp,DC=example)")
        assertError("[]", key: "", reason: "the top level must be a JSON object")
        XCTAssertThrowsError(try parse("{ not json")) { error in
            XCTAssertEqual((error as? ConfigurationError)?.key, "")
            XCTAssertTrue((error as? ConfigurationError)?.reason.hasPrefix("not valid JSON") ?? false, "\(error)")
        }
    }

    func testErrorDescriptionNamesFileAndKey() {
        XCTAssertEqual(
            ConfigurationError(file: "t.json", key: "stalePasswordDays", reason: "must be").description,
            "t.json: stalePasswordDays: must be")
        XCTAssertEqual(
            ConfigurationError(file: "t.json", key: "", reason: "cannot read the file").description,
            "t.json: cannot read the file")
        XCTAssertThrowsError(try AuditConfiguration.load(from: "/nonexistent/trustaudit.json")) { error in
            XCTAssertEqual(
                error as? ConfigurationError,
                ConfigurationError(file: "/nonexistent/trustaudit.json", key: "", reason: "no such file"))
        }
    }

    func testExclusionByAccountAndByContainer() throws {
        let configuration = try parse(
            #"{"exclude": {"accounts": ["WKS-0042$"], "organizationalUnits": ["OU=Lab,OU=Workstations,DC=corp,DC=example"]}}"#
        )
        let objects = try Fixture.objects(
            Fixture.computer("WKS-0042") + Fixture.computer("wks-0043")
                + Fixture.computer("LAB-PC07", container: "OU=Lab,OU=Workstations,DC=corp,DC=example")
                + Fixture.computer("LAB-PC08", container: "OU=Bench,OU=lab,OU=Workstations,DC=CORP,DC=example")
                + Fixture.computer("LAB-PC09", container: "OU=Laboratory,OU=Workstations,DC=corp,DC=example"))
        XCTAssertEqual(objects.map(configuration.isExcluded), [true, false, true, true, false])
    }
}
