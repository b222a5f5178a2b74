import Foundation
import XCTest

@testable import Reporting

/// Renders messages and reads them back with a real MIME parser: Python's `email` package with
/// the modern policy. Skipped without a Python 3 unless CI=true.
final class MailMessageTests: XCTestCase {
    static let date = Date(timeIntervalSince1970: 1_795_586_400)  // Wed, 25 Nov 2026 06:00:00 UTC

    func testRenderedMessageParsesAsMIME() throws {
        let csv = Array("account,rule\r\nLAB-PC-Ü1,missing-account\r\n\"=cmd\",duplicate-spn\r\n".utf8)
        let binary = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let html =
            "<p>Büro Köln</p>\n<script>alert('x')</script>\n<p>" + String(repeating: "lang ", count: 60) + "</p>\n"
        let text =
            "Büro Köln: 3 findings\n\n.a line with a leading dot\n.\nFrom the start  \n"
            + String(repeating: "wörter ", count: 40)
        let subject = "TrustAudit: Prüfbericht Büro Köln – 3 kritische Befunde am 25.11.2026 für corp.example"
        let message = try MailMessage(
            from: MailAddress("\"TrustAudit Büro Köln\" <audit@corp.example>"),
            to: MailAddress.list(
                "ops@corp.example, \"Night, Shift\" <night@corp.example>, Jörg Müller <jm@corp.example>"),
            subject: subject, date: Self.date, textBody: text, htmlBody: html,
            attachments: [
                (fileName: "findings.csv", contentType: "text/csv; charset=utf-8", data: csv),
                (
                    fileName: "Prüfbericht Köln 2026-11-25 mit einem recht langen Namen.json",
                    contentType: "application/json", data: Array("{\"ü\":1}".utf8)
                ),
                (fileName: "blob.bin", contentType: "application/octet-stream", data: binary),
            ])
        let raw = message.rendered()
        let parsed = try PythonEmail.parse(raw)

        XCTAssertEqual(parsed["defects"] as? [String], [], "the parser found defects")
        XCTAssertLessThanOrEqual(parsed["maxLineLength"] as? Int ?? 999, 78)
        XCTAssertEqual(parsed["bareLineEnds"] as? Int, 0, "every line must end in CRLF")
        XCTAssertEqual(parsed["mimeVersion"] as? String, "1.0")
        XCTAssertEqual(parsed["subject"] as? String, subject)
        XCTAssertEqual(parsed["date"] as? Double, Self.date.timeIntervalSince1970)
        XCTAssertEqual(parsed["messageID"] as? String, message.messageID)
        XCTAssertTrue(message.messageID.hasPrefix("<") && message.messageID.hasSuffix("@corp.example>"))
        XCTAssertEqual(parsed["from"] as? [[String]], [["TrustAudit Büro Köln", "audit@corp.example"]])
        XCTAssertEqual(
            parsed["to"] as? [[String]],
            [["", "ops@corp.example"], ["Night, Shift", "night@corp.example"], ["Jörg Müller", "jm@corp.example"]])

        let rawText = String(decoding: raw, as: UTF8.self)
        XCTAssertTrue(rawText.contains("\r\nSubject: =?UTF-8?B?"), "a non-ASCII subject is an encoded word")
        XCTAssertTrue(rawText.contains("\r\nDate: Wed, 25 Nov 2026 06:00:00 +0000\r\n"))

        let parts = try XCTUnwrap(parsed["parts"] as? [[String: Any]])
        XCTAssertEqual(
            parts.map { $0["contentType"] as? String },
            [
                "multipart/mixed", "multipart/alternative", "text/plain", "text/html", "text/csv", "application/json",
                "application/octet-stream",
            ])
        XCTAssertEqual(parts[2]["charset"] as? String, "utf-8")
        XCTAssertEqual(parts[2]["transferEncoding"] as? String, "quoted-printable")
        XCTAssertEqual(parts[3]["charset"] as? String, "utf-8")
        XCTAssertEqual(parsed["text"] as? String, text.replacingOccurrences(of: "\n", with: "\r\n"))
        XCTAssertEqual(parsed["html"] as? String, html.replacingOccurrences(of: "\n", with: "\r\n"))

        let attachments = try XCTUnwrap(parsed["attachments"] as? [[String: Any]])
        XCTAssertEqual(attachments.map { $0["filename"] as? String }, message.attachments.map(\.fileName))
        XCTAssertEqual(attachments.map { $0["disposition"] as? String }, ["attachment", "attachment", "attachment"])
        XCTAssertEqual(attachments.map { $0["transferEncoding"] as? String }, ["base64", "base64", "base64"])
        for (attachment, expected) in zip(attachments, message.attachments) {
            XCTAssertEqual(PythonEmail.bytes(attachment["data"]), expected.data, expected.fileName)
        }
    }

    func testPlainASCIIHeadersStayReadable() throws {
        let message = try MailMessage(
            from: MailAddress("audit@corp.example"), to: [MailAddress("TrustAudit Ops <ops@corp.example>")],
            subject: "TrustAudit: 0 findings", date: Self.date, messageID: "<fixed.1@corp.example>", textBody: "ok",
            htmlBody: "<p>ok</p>")
        let raw = String(decoding: message.rendered(), as: UTF8.self)
        XCTAssertTrue(raw.hasPrefix("From: audit@corp.example\r\nTo: TrustAudit Ops <ops@corp.example>\r\n"))
        XCTAssertTrue(raw.contains("\r\nSubject: TrustAudit: 0 findings\r\n"))
        XCTAssertTrue(raw.contains("\r\nMessage-ID: <fixed.1@corp.example>\r\nMIME-Version: 1.0\r\n"))
        let parsed = try PythonEmail.parse(message.rendered())
        XCTAssertEqual(parsed["defects"] as? [String], [])
        XCTAssertEqual((parsed["attachments"] as? [[String: Any]])?.count, 0)
        XCTAssertEqual(parsed["text"] as? String, "ok")
    }

    func testLongHeadersFoldWithinLineLimit() throws {
        let recipients = try (1...12).map { try MailAddress("Operator Number \($0) <operator-\($0)@corp.example>") }
        let subject = String(repeating: "stale password findings ", count: 8).trimmingCharacters(in: .whitespaces)
        let message = try MailMessage(
            from: MailAddress("audit@corp.example"), to: recipients, subject: subject, date: Self.date,
            textBody: "x", htmlBody: "y")
        let parsed = try PythonEmail.parse(message.rendered())
        XCTAssertEqual(parsed["defects"] as? [String], [])
        XCTAssertLessThanOrEqual(parsed["maxLineLength"] as? Int ?? 999, 78)
        XCTAssertEqual(parsed["subject"] as? String, subject)
        XCTAssertEqual((parsed["to"] as? [[String]])?.map { $0[1] }, recipients.map(\.address))
    }

    func testHostileHeaderValuesCannotAddHeaders() throws {
        let from = try MailAddress("audit@corp.example")
        let to = [try MailAddress("ops@corp.example")]
        for subject in ["x\r\nBcc: evil@x", "x\nBcc: evil@x", "x\rBcc: evil@x"] {
            XCTAssertThrowsError(
                try MailMessage(from: from, to: to, subject: subject, textBody: "", htmlBody: "")
            ) { error in
                XCTAssertEqual(
                    error as? MailMessageError, MailMessageError(code: .invalidHeader, value: "", reason: ""))
                XCTAssertFalse("\(error)".contains("\n"), "the error prints the value escaped: \(error)")
            }
        }
        XCTAssertThrowsError(try MailAddress("\"Evil\r\nBcc: evil@x\" <a@corp.example>"))
        XCTAssertThrowsError(try MailAddress(address: "a@corp.example\r\nBcc: evil@x"))
        XCTAssertThrowsError(try MailAddress(address: "a@corp.example", displayName: "Evil\nBcc: evil@x"))
        XCTAssertThrowsError(
            try MailMessage(
                from: from, to: to, subject: "s", textBody: "", htmlBody: "",
                attachments: [(fileName: "a.csv", contentType: "text/csv\r\nBcc: evil@x", data: [])])
        ) { XCTAssertEqual(($0 as? MailMessageError)?.code, .invalidAttachment) }

        // Without line breaks, look-alikes stay inside their own header.
        let sneaky = try MailMessage(
            from: MailAddress(address: "audit@corp.example", displayName: "Evil\" <x@evil.example>, y@evil.example"),
            to: to, subject: "=?UTF-8?B?QmNjOiBldmlsQHg=?= Bcc: evil@x", date: Self.date, textBody: "", htmlBody: "",
            attachments: [(fileName: "a\r\nb\".csv", contentType: "text/csv", data: [1])])
        let parsed = try PythonEmail.parse(sneaky.rendered())
        XCTAssertEqual(parsed["defects"] as? [String], [])
        XCTAssertEqual(parsed["subject"] as? String, "=?UTF-8?B?QmNjOiBldmlsQHg=?= Bcc: evil@x")
        XCTAssertEqual(
            parsed["from"] as? [[String]], [["Evil\" <x@evil.example>, y@evil.example", "audit@corp.example"]])
        XCTAssertFalse((parsed["headerNames"] as? [String] ?? []).contains { $0.lowercased() == "bcc" })
        XCTAssertEqual((parsed["attachments"] as? [[String: Any]])?.first?["filename"] as? String, "a\r\nb\".csv")
    }

    /// Refused values print through the one policy for untrusted text: ESC, BEL and U+202E are
    /// shown, not sent to the terminal.
    func testErrorsShowControlsEscaped() throws {
        XCTAssertThrowsError(try MailAddress("ops\u{1B}]0;owned\u{07}@corp.example")) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains(#""ops\e]0;owned\u{0007}@corp.example""#), text)
            XCTAssertFalse(text.unicodeScalars.contains { $0.value < 0x20 }, text)
        }
        XCTAssertThrowsError(try MailAddress(address: "a\u{202E}moc.elpmaxe@corp.example")) { error in
            XCTAssertEqual((error as? MailMessageError)?.value, #"a\u{202E}moc.elpmaxe@corp.example"#)
            XCTAssertFalse("\(error)".unicodeScalars.contains("\u{202E}"), "\(error)")
        }
    }

    func testAddressParsing() throws {
        XCTAssertEqual(try MailAddress("a@x.example").address, "a@x.example")
        XCTAssertNil(try MailAddress("a@x.example").displayName)
        let quoted = try MailAddress("\"Ops, \\\"Night\\\"\" <ops@corp.example>")
        XCTAssertEqual(quoted.displayName, "Ops, \"Night\"")
        XCTAssertEqual(quoted.address, "ops@corp.example")
        XCTAssertEqual(try MailAddress("Jörg Müller <jm@corp.example>").displayName, "Jörg Müller")
        XCTAssertNil(try MailAddress("<a@x.example>").displayName)
        XCTAssertEqual(try MailAddress("a@x.example").domain, "x.example")
        XCTAssertEqual(
            try MailAddress.list("a@x.example, \"B, C\" <b@y.example>,").map(\.address), ["a@x.example", "b@y.example"])

        for bad in [
            "ops.corp.example", "a b@x.example", "a@", "@x.example", "a@x..example", "Name <ops>", "ä@x.example",
        ] {
            XCTAssertThrowsError(try MailAddress(bad), bad) { error in
                XCTAssertEqual((error as? MailMessageError)?.code, .invalidAddress)
                XCTAssertTrue("\(error)".contains(bad.contains("<") ? "ops" : bad), "names the address: \(error)")
            }
        }
        XCTAssertThrowsError(try MailAddress.list(" , ")) {
            XCTAssertEqual(($0 as? MailMessageError)?.code, .noRecipients)
        }
    }

    func testDateFormat() {
        XCTAssertEqual(MailMessage.rfc5322Date(Self.date), "Wed, 25 Nov 2026 06:00:00 +0000")
        XCTAssertEqual(
            MailMessage.rfc5322Date(Self.date, timeZone: TimeZone(identifier: "Europe/Berlin")!),
            "Wed, 25 Nov 2026 07:00:00 +0100")
        XCTAssertEqual(
            MailMessage.rfc5322Date(Self.date, timeZone: TimeZone(secondsFromGMT: -(3 * 3600 + 1800))!),
            "Wed, 25 Nov 2026 02:30:00 -0330")
    }

    /// The Date header as the Calendar-and-`String(format:)` code wrote it before UTCTime, in zones
    /// with half-hour and 45-minute offsets and across daylight saving changes.
    func testDateFormatMatchesTheCalendarInEveryZone() throws {
        func calendarDate(_ date: Date, _ timeZone: TimeZone) -> String {
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = timeZone
            let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: date)
            let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
            let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
            let offset = timeZone.secondsFromGMT(for: date) / 60
            return String(
                format: "%@, %02d %@ %04d %02d:%02d:%02d %@%02d%02d", days[parts.weekday! - 1], parts.day!,
                months[parts.month! - 1], parts.year!, parts.hour!, parts.minute!, parts.second!,
                offset < 0 ? "-" : "+", abs(offset) / 60, abs(offset) % 60)
        }
        let zones = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Pacific/Chatham", "America/St_Johns"]
        var generator = SystemRandomNumberGenerator()
        for name in zones {
            let zone = try XCTUnwrap(TimeZone(identifier: name))
            for _ in 0..<300 {
                let date = Date(timeIntervalSince1970: Double.random(in: 0...4_102_444_800, using: &generator))
                XCTAssertEqual(MailMessage.rfc5322Date(date, timeZone: zone), calendarDate(date, zone), name)
            }
        }
    }

    /// Attachments are base64 in 76-character CRLF lines, as Foundation's encoder wraps them.
    func testAttachmentBase64Lines() {
        var generator = SystemRandomNumberGenerator()
        for length in [0, 1, 56, 57, 58, 1000, 4096] {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let expected = Data(bytes).base64EncodedString(options: [
                .lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed,
            ])
            XCTAssertEqual(
                String(decoding: MIME.base64Lines(bytes), as: UTF8.self), expected.isEmpty ? "" : expected + "\r\n",
                "length \(length)")
        }
        XCTAssertEqual(MIME.encodedWords("Prüfbericht"), ["=?UTF-8?B?UHLDvGZiZXJpY2h0?="])
    }

    func testBodiesThatLookLikeBoundariesStayBodies() throws {
        let tricky = "--=_TrustAudit_mixed_0\r\n--=_TrustAudit_alt_0--\r\n=?UTF-8?B?eA==?=\r\n\r\n.\r\n"
        let message = try MailMessage(
            from: MailAddress("audit@corp.example"), to: [MailAddress("ops@corp.example")], subject: "s",
            date: Self.date, textBody: tricky, htmlBody: tricky,
            attachments: [(fileName: "t.txt", contentType: "text/plain", data: Array(tricky.utf8))])
        let parsed = try PythonEmail.parse(message.rendered())
        XCTAssertEqual(parsed["defects"] as? [String], [])
        XCTAssertEqual(parsed["text"] as? String, tricky)
        XCTAssertEqual(parsed["html"] as? String, tricky)
        XCTAssertEqual(
            PythonEmail.bytes((parsed["attachments"] as? [[String: Any]])?.first?["data"]), Array(tricky.utf8))
    }
}

/// Runs Python's `email` parser (policy.default) on a message and returns what it saw as JSON.
enum PythonEmail {
    static let script = #"""
        import sys, json, base64, email, email.policy
        raw = sys.stdin.buffer.read()
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        def addresses(name):
            value = msg[name]
            return [[a.display_name, a.addr_spec] for a in value.addresses] if value is not None else []
        defects, parts = [], []
        for part in msg.walk():
            defects += [type(d).__name__ + ": " + str(d) for d in part.defects]
            try:
                for header in part.keys():
                    defects += [type(d).__name__ + ": " + header for d in part[header].defects]
            except Exception as error:
                defects.append("header: " + repr(error))
            parts.append({"contentType": part.get_content_type(), "charset": part.get_content_charset(),
                          "transferEncoding": part.get("content-transfer-encoding")})
        def payload(part):
            return base64.b64encode(part.get_payload(decode=True)).decode() if part else None
        def text(kind):
            body = msg.get_body((kind,))
            return body.get_content() if body is not None else None
        date = msg["date"]
        content = raw.replace(b"\r\n", b"")
        print(json.dumps({
            "from": addresses("from"), "to": addresses("to"), "subject": str(msg["subject"]),
            "date": date.datetime.timestamp() if date is not None and date.datetime else None,
            "messageID": msg["message-id"], "mimeVersion": msg["mime-version"], "headerNames": list(msg.keys()),
            "text": text("plain"), "html": text("html"),
            "attachments": [{"filename": a.get_filename(), "contentType": a.get_content_type(),
                             "disposition": a.get_content_disposition(),
                             "transferEncoding": a.get("content-transfer-encoding"), "data": payload(a)}
                            for a in msg.iter_attachments()],
            "parts": parts, "defects": defects,
            "maxLineLength": max(len(line) for line in raw.split(b"\r\n")),
            "bareLineEnds": content.count(b"\n") + content.count(b"\r"),
        }))
        """#

    /// A Python 3 from TRUSTAUDIT_TEST_PYTHON, /usr/bin/python3 or the PATH.
    static func interpreter() throws -> String {
        let environment = ProcessInfo.processInfo.environment
        var candidates = ["/usr/bin/python3", "/usr/local/bin/python3"]
        if let configured = environment["TRUSTAUDIT_TEST_PYTHON"] { candidates.insert(configured, at: 0) }
        candidates += (environment["PATH"] ?? "").split(separator: ":").map { "\($0)/python3" }
        if let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) { return found }
        let reason = "no python3 to parse the message with (set TRUSTAUDIT_TEST_PYTHON)"
        if environment["CI"] == "true" {
            throw NSError(domain: "MailMessageTests", code: 1, userInfo: [NSLocalizedDescriptionKey: reason])
        }
        print("skipping: \(reason)")
        throw XCTSkip(reason)
    }

    static func parse(_ message: [UInt8]) throws -> [String: Any] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try interpreter())
        process.arguments = ["-c", script]
        let input = Pipe()
        let output = Pipe()
        let errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        try input.fileHandleForWriting.write(contentsOf: message)
        try input.fileHandleForWriting.close()
        let data = try output.fileHandleForReading.readToEnd() ?? Data()
        let problems = try errors.fileHandleForReading.readToEnd() ?? Data()
        process.waitUntilExit()
        guard process.terminationStatus == 0, let json = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        else {
            XCTFail("the Python parser failed: \(String(decoding: problems, as: UTF8.self))")
            return [:]
        }
        return json
    }

    static func bytes(_ base64: Any?) -> [UInt8]? {
        (base64 as? String).flatMap { Data(base64Encoded: $0) }.map { Array($0) }
    }
}
