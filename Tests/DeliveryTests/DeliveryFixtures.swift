import Foundation
import Reporting
import XCTest

/// Every setting the delivery tests read from the environment, in one place.
///
///     TRUSTAUDIT_TEST_PYTHON=/usr/bin/python3   a Python 3 with aiosmtpd (found by probing otherwise)
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

    private static let candidates: [String] = {
        let environment = ProcessInfo.processInfo.environment
        var candidates = ["/usr/bin/python3", "/usr/local/bin/python3"]
        if let configured = environment["TRUSTAUDIT_TEST_PYTHON"] { candidates.insert(configured, at: 0) }
        candidates += (environment["PATH"] ?? "").split(separator: ":").map { "\($0)/python3" }
        return candidates.filter { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    /// Any Python 3 (the `email` package is in its standard library).
    static func python() throws -> String {
        guard let first = candidates.first else { throw unavailable("no python3 found (set TRUSTAUDIT_TEST_PYTHON)") }
        return first
    }

    /// A Python 3 that can `import aiosmtpd` (Debian's python3-aiosmtpd lives in /usr/bin/python3).
    static func pythonWithAiosmtpd() throws -> String {
        for candidate in candidates {
            let result = try? run(candidate, ["-c", "import aiosmtpd"])
            if result?.status == 0 { return candidate }
        }
        throw unavailable("no python3 with aiosmtpd among \(candidates) (apt install python3-aiosmtpd)")
    }

    @discardableResult
    static func run(_ executable: String, _ arguments: [String], input: [UInt8] = []) throws -> (
        status: Int32, output: Data, errors: String
    ) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let stdin = Pipe()
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        try stdin.fileHandleForWriting.write(contentsOf: input)
        try stdin.fileHandleForWriting.close()
        let output = try stdout.fileHandleForReading.readToEnd() ?? Data()
        let errors = try stderr.fileHandleForReading.readToEnd() ?? Data()
        process.waitUntilExit()
        return (process.terminationStatus, output, String(decoding: errors, as: UTF8.self))
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

/// Python's `email` parser (policy.default) on a message; returns what it saw.
enum PythonEmail {
    static let script = #"""
        import sys, json, base64, email, email.policy
        raw = sys.stdin.buffer.read()
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        defects = []
        for part in msg.walk():
            defects += [type(d).__name__ for d in part.defects]
        def text(kind):
            body = msg.get_body((kind,))
            return body.get_content() if body is not None else None
        print(json.dumps({
            "subject": str(msg["subject"]), "to": [a.addr_spec for a in msg["to"].addresses],
            "contentTypes": [p.get_content_type() for p in msg.walk()], "defects": defects,
            "text": text("plain"), "html": text("html"),
            "attachments": [[a.get_filename(), base64.b64encode(a.get_payload(decode=True)).decode()]
                            for a in msg.iter_attachments()],
        }))
        """#

    static func parse(_ message: [UInt8]) throws -> [String: Any] {
        let result = try DeliveryTestConfiguration.run(
            DeliveryTestConfiguration.python(), ["-c", script], input: message)
        guard result.status == 0, let json = try JSONSerialization.jsonObject(with: result.output) as? [String: Any]
        else {
            XCTFail("the Python parser failed: \(result.errors)")
            return [:]
        }
        return json
    }

    static func attachments(_ parsed: [String: Any]) -> [(String, [UInt8])] {
        (parsed["attachments"] as? [[String]] ?? []).map { ($0[0], Array(Data(base64Encoded: $0[1]) ?? Data())) }
    }
}
