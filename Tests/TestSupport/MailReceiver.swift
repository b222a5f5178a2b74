import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A tool a mail test needs is missing (Python, aiosmtpd, openssl); the test skips, or fails under CI=true.
public struct MailToolUnavailable: Error, CustomStringConvertible {
    public let reason: String
    public var description: String { reason }
}

/// The programs the mail tests drive, found once: a Python 3 (with aiosmtpd for the receiver) and openssl.
///
///     TRUSTAUDIT_TEST_PYTHON=/usr/bin/python3   a Python 3 with aiosmtpd (found by probing otherwise)
public enum MailTestTools {
    private static let candidates: [String] = {
        let environment = ProcessInfo.processInfo.environment
        var candidates = ["/usr/bin/python3", "/usr/local/bin/python3"]
        if let configured = environment["TRUSTAUDIT_TEST_PYTHON"] { candidates.insert(configured, at: 0) }
        candidates += (environment["PATH"] ?? "").split(separator: ":").map { "\($0)/python3" }
        return candidates.filter { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    /// Any Python 3: the `email` parser is in its standard library.
    public static func python() throws -> String {
        guard let first = candidates.first else {
            throw MailToolUnavailable(reason: "no python3 found (set TRUSTAUDIT_TEST_PYTHON)")
        }
        return first
    }

    /// A Python 3 that can `import aiosmtpd` (Debian's python3-aiosmtpd is in /usr/bin/python3 only).
    public static func pythonWithAiosmtpd() throws -> String {
        for candidate in candidates where (try? run(candidate, ["-c", "import aiosmtpd"]))?.status == 0 {
            return candidate
        }
        throw MailToolUnavailable(
            reason: "no python3 with aiosmtpd among \(candidates) (apt install python3-aiosmtpd)")
    }

    public static func openssl() throws -> String {
        guard
            let path = ["/usr/bin/openssl", "/usr/local/bin/openssl"].first(where: FileManager.default.isExecutableFile)
        else { throw MailToolUnavailable(reason: "no openssl program to make a test certificate") }
        return path
    }

    /// Runs a program with `input` on stdin; returns its status, stdout and stderr.
    @discardableResult
    public static func run(_ executable: String, _ arguments: [String], input: [UInt8] = []) throws -> (
        status: Int32, output: Data, errors: String
    ) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        // Files, not pipes, for what it prints: it can never block on a full pipe while we write its input.
        let capture = FileManager.default.temporaryDirectory.appendingPathComponent(
            "trustaudit-tool-\(UUID().uuidString)")
        let stdoutURL = capture.appendingPathExtension("out")
        let stderrURL = capture.appendingPathExtension("err")
        for url in [stdoutURL, stderrURL] { _ = FileManager.default.createFile(atPath: url.path, contents: nil) }
        defer {
            try? FileManager.default.removeItem(at: stdoutURL)
            try? FileManager.default.removeItem(at: stderrURL)
        }
        let stdin = Pipe()
        process.standardInput = stdin
        process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        try process.run()
        try stdin.fileHandleForWriting.write(contentsOf: input)
        try stdin.fileHandleForWriting.close()
        process.waitUntilExit()
        let output = try Data(contentsOf: stdoutURL)
        let errors = try Data(contentsOf: stderrURL)
        return (process.terminationStatus, output, String(decoding: errors, as: UTF8.self))
    }
}

/// Python's `email` parser (policy.default) on a message, reporting what it saw as JSON.
public enum MailParser {
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
            "subject": str(msg["subject"]),
            "from": [a.addr_spec for a in msg["from"].addresses],
            "to": [a.addr_spec for a in msg["to"].addresses],
            "date": str(msg["date"]), "messageID": str(msg["message-id"]),
            "contentTypes": [p.get_content_type() for p in msg.walk()], "defects": defects,
            "text": text("plain"), "html": text("html"),
            "attachments": [[a.get_filename(), a.get_content_type(), base64.b64encode(a.get_payload(decode=True)).decode()]
                            for a in msg.iter_attachments()],
        }))
        """#

    /// The parsed message: subject, from, to, date, messageID, contentTypes, defects, text, html,
    /// and attachments as [name, content type, base64 of the bytes].
    public static func parse(_ message: [UInt8]) throws -> [String: Any] {
        let result = try MailTestTools.run(MailTestTools.python(), ["-c", script], input: message)
        guard result.status == 0, let json = try JSONSerialization.jsonObject(with: result.output) as? [String: Any]
        else {
            throw MailToolUnavailable(reason: "the Python email parser failed: \(result.errors)")
        }
        return json
    }

    /// The attachments of a parsed message: file name and decoded bytes.
    public static func attachments(_ parsed: [String: Any]) -> [(name: String, data: Data)] {
        (parsed["attachments"] as? [[String]] ?? []).map { ($0[0], Data(base64Encoded: $0[2]) ?? Data()) }
    }
}

/// A real SMTP server on 127.0.0.1 for one test: Python's aiosmtpd with STARTTLS (a throwaway CA
/// and a certificate for `localhost`), AUTH PLAIN/LOGIN for one user, and a recipient it refuses
/// (`reject@...`, 550). Each accepted message is saved as `NNN.eml` with its envelope in `NNN.json`.
///
/// Three listeners: `port` (plain, STARTTLS offered), `implicitTLSPort` (TLS from the first byte)
/// and `loginOnlyPort` (STARTTLS, AUTH LOGIN only). The server exits when its stdin closes, so a
/// crashed test leaves nothing running.
public final class MailReceiver {
    public static let user = "audit"
    public static let password = "Corr3ct-h0rse"

    public let directory: URL
    public let mailDirectory: URL
    public let caFile: String
    /// A CA that did not issue the server's certificate.
    public let otherCAFile: String
    public private(set) var port = 0
    public private(set) var implicitTLSPort = 0
    public private(set) var loginOnlyPort = 0
    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()

    public init() throws {
        let python = try MailTestTools.pythonWithAiosmtpd()
        let openssl = try MailTestTools.openssl()

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "trustaudit-smtp-\(UUID().uuidString)")
        self.directory = directory
        mailDirectory = directory.appendingPathComponent("mail")
        try FileManager.default.createDirectory(at: mailDirectory, withIntermediateDirectories: true)
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
        caFile = path("ca.pem")
        otherCAFile = path("other-ca.pem")

        try "subjectAltName=DNS:localhost\nbasicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\n".write(
            toFile: path("server.ext"), atomically: true, encoding: .utf8)
        let key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        for arguments in [
            ["req", "-x509"] + key + [
                "-keyout", path("ca.key"), "-out", caFile, "-days", "2", "-subj", "/CN=TrustAudit Test CA",
            ],
            ["req", "-x509"] + key + [
                "-keyout", path("other.key"), "-out", otherCAFile, "-days", "2", "-subj", "/CN=Other CA",
            ],
            ["req"] + key + ["-keyout", path("server.key"), "-out", path("server.csr"), "-subj", "/CN=localhost"],
            [
                "x509", "-req", "-in", path("server.csr"), "-CA", caFile, "-CAkey", path("ca.key"), "-CAcreateserial",
                "-out", path("server.pem"), "-days", "2", "-extfile", path("server.ext"),
            ],
        ] {
            let result = try MailTestTools.run(openssl, arguments)
            guard result.status == 0 else {
                throw MailToolUnavailable(reason: "openssl \(arguments[0]) failed: \(result.errors)")
            }
        }
        try Self.script.write(toFile: path("smtp_receiver.py"), atomically: true, encoding: .utf8)

        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [
            "-u", path("smtp_receiver.py"), mailDirectory.path, path("server.pem"), path("server.key"), Self.user,
            Self.password,
        ]
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()

        let line = Self.readLine(from: output.fileHandleForReading.fileDescriptor, timeout: 20)
        let words = line?.split(separator: " ") ?? []
        guard words.count == 4, words[0] == "READY", let plain = Int(words[1]), let implicit = Int(words[2]),
            let loginOnly = Int(words[3])
        else {
            stop()
            throw MailToolUnavailable(
                reason:
                    "the aiosmtpd receiver did not start (said \(line ?? "nothing"))")
        }
        port = plain
        implicitTLSPort = implicit
        loginOnlyPort = loginOnly
    }

    deinit { stop() }

    public func stop() {
        try? input.fileHandleForWriting.close()
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }

    /// The messages received so far, oldest first: the raw bytes and the envelope.
    public func messages() throws -> [(raw: [UInt8], envelope: [String: Any])] {
        let names = try FileManager.default.contentsOfDirectory(atPath: mailDirectory.path).filter {
            $0.hasSuffix(".eml")
        }
        .sorted()
        return try names.map { name in
            let base = mailDirectory.appendingPathComponent(String(name.dropLast(4)))
            let raw = try Data(contentsOf: base.appendingPathExtension("eml"))
            let envelope = try JSONSerialization.jsonObject(with: Data(contentsOf: base.appendingPathExtension("json")))
            return (Array(raw), envelope as? [String: Any] ?? [:])
        }
    }

    /// One line the server printed on `descriptor`, or nil after `timeout` seconds.
    static func readLine(from descriptor: Int32, timeout: Double) -> String? {
        var collected: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            var watch = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&watch, 1, 200) > 0 else { continue }
            var byte: UInt8 = 0
            guard read(descriptor, &byte, 1) == 1 else { return nil }
            if byte == 10 { return String(decoding: collected, as: UTF8.self) }
            collected.append(byte)
        }
        return nil
    }

    static let script = #"""
        import asyncio, json, os, ssl, sys, threading
        from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

        outdir, certfile, keyfile, user, password = sys.argv[1:6]
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(certfile, keyfile)
        count = [0]

        class Handler:
            async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
                if address.lower().startswith("reject@"):
                    return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
                envelope.rcpt_tos.append(address)
                return "250 2.1.5 Ok"

            async def handle_DATA(self, server, session, envelope):
                count[0] += 1
                base = os.path.join(outdir, "%03d" % count[0])
                tls = session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None
                with open(base + ".json", "w") as f:
                    json.dump({"mailFrom": envelope.mail_from, "rcptTos": envelope.rcpt_tos, "tls": tls,
                               "authenticated": bool(session.authenticated),
                               "login": getattr(session, "trustaudit_login", None)}, f)
                with open(base + ".tmp", "wb") as f:
                    f.write(envelope.original_content)
                os.rename(base + ".tmp", base + ".eml")
                return "250 2.0.0 Ok: queued as %03d" % count[0]

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (isinstance(auth_data, LoginPassword) and auth_data.login == user.encode()
                  and auth_data.password == password.encode())
            if ok:
                session.trustaudit_login = user
            return AuthResult(success=ok, handled=False)

        def smtp(**options):
            return SMTP(Handler(), hostname="receiver.test", decode_data=False, authenticator=authenticator, **options)

        async def main():
            loop = asyncio.get_running_loop()
            plain = await loop.create_server(lambda: smtp(tls_context=context), "127.0.0.1", 0)
            implicit = await loop.create_server(lambda: smtp(auth_require_tls=False), "127.0.0.1", 0, ssl=context)
            login_only = await loop.create_server(
                lambda: smtp(tls_context=context, auth_exclude_mechanism=["PLAIN"]), "127.0.0.1", 0)
            ports = [s.sockets[0].getsockname()[1] for s in (plain, implicit, login_only)]
            print("READY %d %d %d" % tuple(ports), flush=True)
            await asyncio.Event().wait()

        def exit_when_stdin_closes():
            sys.stdin.buffer.read()
            os._exit(0)

        threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
        asyncio.run(main())
        """#
}

/// An SMTP server on 127.0.0.1 that misbehaves in one scripted way, for the failures a real MTA
/// never shows: Python's standard library only, one thread per connection.
///
/// - `injectAfterSTARTTLS`: offers STARTTLS and answers it with `220` and, in the same packet,
///   further replies (the STARTTLS response injection of RFC 3207 section 6, CVE-2011-0411).
/// - `dribble`: sends its greeting one byte per second, for ever.
/// - `dribbleTLS`: answers STARTTLS with `220`, then sends the start of a TLS record one byte per second.
/// - `hostileReply`: refuses MAIL FROM with a reply holding ESC, BEL and an OSC title sequence.
///
/// `clientBytesAfterSTARTTLS()` says how many bytes the client sent after its STARTTLS command
/// (for `injectAfterSTARTTLS`, once the client has closed). The server exits when its stdin closes.
public final class ScriptedSMTPServer {
    public enum Behaviour: String {
        case injectAfterSTARTTLS = "inject"
        case dribble
        case dribbleTLS = "dribble-tls"
        case hostileReply = "hostile-reply"
    }

    public private(set) var port = 0
    private let directory: URL
    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()

    public init(_ behaviour: Behaviour) throws {
        let python = try MailTestTools.python()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "trustaudit-scripted-smtp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let script = directory.appendingPathComponent("scripted_smtp.py").path
        try Self.script.write(toFile: script, atomically: true, encoding: .utf8)
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-u", script, behaviour.rawValue, directory.path]
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        let line = MailReceiver.readLine(from: output.fileHandleForReading.fileDescriptor, timeout: 20)
        let words = line?.split(separator: " ") ?? []
        guard words.count == 2, words[0] == "READY", let port = Int(words[1]) else {
            stop()
            throw MailToolUnavailable(reason: "the scripted SMTP server did not start (said \(line ?? "nothing"))")
        }
        self.port = port
    }

    deinit { stop() }

    public func stop() {
        try? input.fileHandleForWriting.close()
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }

    /// How many bytes the client sent after STARTTLS, waiting up to `timeout` seconds for the count.
    public func clientBytesAfterSTARTTLS(timeout: Double = 10) -> Int? {
        let file = directory.appendingPathComponent("after-starttls").path
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let text = try? String(contentsOfFile: file, encoding: .utf8), let count = Int(text) { return count }
            usleep(50_000)
        }
        return nil
    }

    static let script = #"""
        import os, socket, sys, threading, time

        behaviour, directory = sys.argv[1], sys.argv[2]

        def lines(conn):
            data = b""
            while True:
                while b"\n" not in data:
                    chunk = conn.recv(4096)
                    if not chunk:
                        return
                    data += chunk
                line, data = data.split(b"\n", 1)
                yield line.rstrip(b"\r")

        def dribble(conn, data):
            while True:
                for byte in data:
                    conn.sendall(bytes([byte]))
                    time.sleep(1)

        def handle(conn):
            try:
                conn.settimeout(30)
                if behaviour == "dribble":
                    dribble(conn, b"220 slow.test ESMTP\r\n")
                conn.sendall(b"220 scripted.test ESMTP\r\n")
                for line in lines(conn):
                    verb = line.split(b" ")[0].upper()
                    if verb in (b"EHLO", b"HELO"):
                        conn.sendall(b"250-scripted.test\r\n250-STARTTLS\r\n250 8BITMIME\r\n")
                    elif verb == b"STARTTLS" and behaviour == "inject":
                        conn.sendall(b"220 2.0.0 Ready to start TLS\r\n250-scripted.test\r\n250 AUTH PLAIN\r\n")
                        received = 0
                        try:
                            while True:
                                chunk = conn.recv(4096)
                                if not chunk:
                                    break
                                received += len(chunk)
                        except OSError:
                            pass
                        with open(os.path.join(directory, "after-starttls.tmp"), "w") as f:
                            f.write(str(received))
                        os.rename(os.path.join(directory, "after-starttls.tmp"),
                                  os.path.join(directory, "after-starttls"))
                        return
                    elif verb == b"STARTTLS" and behaviour == "dribble-tls":
                        conn.sendall(b"220 2.0.0 Ready to start TLS\r\n")
                        dribble(conn, b"\x16\x03\x03\x40\x00" + b"\x02" * 64)
                    elif verb == b"MAIL" and behaviour == "hostile-reply":
                        conn.sendall(b"550-5.7.1 \x1b[2J\x1b]0;owned\x07 rejected\r\n550 5.7.1 \rsee \xe2\x80\xaeexample\r\n")
                    elif verb == b"QUIT":
                        conn.sendall(b"221 2.0.0 Bye\r\n")
                        return
                    else:
                        conn.sendall(b"250 2.0.0 Ok\r\n")
            except OSError:
                pass
            finally:
                conn.close()

        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        print("READY %d" % listener.getsockname()[1], flush=True)

        def exit_when_stdin_closes():
            sys.stdin.buffer.read()
            os._exit(0)

        threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
        while True:
            conn, _ = listener.accept()
            threading.Thread(target=handle, args=(conn,), daemon=True).start()
        """#
}
