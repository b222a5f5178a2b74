import Foundation
import Reporting
import XCTest

/// Every setting the delivery tests read from the environment, in one place.
///
///     TRUSTAUDIT_TEST_PYTHON=/usr/bin/python3   a Python 3 with aiosmtpd (TestSupport.MailTestTools)
///     CI=true                                    a missing Python, aiosmtpd or openssl fails instead of skipping
struct DeliveryTestConfiguration {
    static let isCI = ProcessInfo.processInfo.environment["CI"] == "true"

    /// Skips the test (or fails it under CI=true) with a printed reason.
    static func unavailable(_ reason: String) -> Error {
        if isCI {
            return NSError(
                domain: "DeliveryTests", code: 1, userInfo: [NSLocalizedDescriptionKey: "CI=true: \(reason)"])
        }
        print("skipping: \(reason)")
        return XCTSkip(reason)
    }
}

enum DeliveryFixtures {
    static let html = "<h1>Büro Köln</h1>\n<script>alert(1)</script>\n<p>3 findings</p>\n"
    static let text = "Büro Köln: 3 findings\n.one line starts with a dot\n.\nthe line above is a lone dot\n"
    static let csv = Array("account,rule\r\nWKS-0042$,stale-password\r\nLAB-PC-Ü1,missing-account\r\n".utf8)

    static func message(to recipients: [String] = ["ops@corp.example"]) throws -> MailMessage {
        try MailMessage(
            from: MailAddress("\"TrustAudit Büro Köln\" <audit@corp.example>"),
            to: recipients.map { try MailAddress($0) }, subject: "TrustAudit: 3 Befunde für Büro Köln",
            date: Date(timeIntervalSince1970: 1_795_586_400), textBody: text, htmlBody: html,
            attachments: [
                (fileName: "findings.csv", contentType: "text/csv; charset=utf-8", data: csv),
                (fileName: "Bericht Köln.html", contentType: "text/html; charset=utf-8", data: Array(html.utf8)),
            ])
    }
}
