import Foundation
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// A real SMTP server on 127.0.0.1 for one test: Python's aiosmtpd with STARTTLS (a throwaway CA
/// and a certificate for `localhost`), AUTH PLAIN/LOGIN for one user, and a recipient it refuses
/// (`reject@...`, 550). Each accepted message is saved as `NNN.eml` with its envelope in `NNN.json`.
///
/// Three listeners: `port` (plain, STARTTLS offered), `implicitTLSPort` (TLS from the first byte)
/// and `loginOnlyPort` (STARTTLS, AUTH LOGIN only). The server exits when its stdin closes, so a
/// crashed test leaves nothing running.
final class SMTPReceiver {
    static let user = "audit"
    static let password = "Corr3ct-h0rse"

    let directory: URL
    let mailDirectory: URL
    let caFile: String
    /// A CA that did not issue the server's certificate.
    let otherCAFile: String
    private(set) var port = 0
    private(set) var implicitTLSPort = 0
    private(set) var loginOnlyPort = 0
    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()

    init() throws {
        let python = try DeliveryTestConfiguration.pythonWithAiosmtpd()
        let openssl = ["/usr/bin/openssl", "/usr/local/bin/openssl"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
        guard let openssl else {
            throw DeliveryTestConfiguration.unavailable("no openssl program to make a test certificate")
        }

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
            let result = try DeliveryTestConfiguration.run(openssl, arguments)
            guard result.status == 0 else {
                throw DeliveryTestConfiguration.unavailable("openssl \(arguments[0]) failed: \(result.errors)")
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

        let line = readLine(timeout: 20)
        let words = line?.split(separator: " ") ?? []
        guard words.count == 4, words[0] == "READY", let plain = Int(words[1]), let implicit = Int(words[2]),
            let loginOnly = Int(words[3])
        else {
            stop()
            throw DeliveryTestConfiguration.unavailable(
                "the aiosmtpd receiver did not start (said \(line ?? "nothing"))")
        }
        port = plain
        implicitTLSPort = implicit
        loginOnlyPort = loginOnly
    }

    deinit { stop() }

    func stop() {
        try? input.fileHandleForWriting.close()
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }

    /// The messages received so far, oldest first: the raw bytes and the envelope.
    func messages() throws -> [(raw: [UInt8], envelope: [String: Any])] {
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

    private func readLine(timeout: Double) -> String? {
        let descriptor = output.fileHandleForReading.fileDescriptor
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
