import UntrustedInput
import XCTest

@testable import LDAPClient

final class LDAPErrorTests: XCTestCase {
    func testActiveDirectoryDataCodesAreDecoded() {
        let cases: [(String, ActiveDirectoryBindFailure, String)] = [
            ("525", .userNotFound, "user not found"),
            ("52e", .invalidCredentials, "invalid credentials (wrong password)"),
            ("530", .notPermittedAtThisTime, "not permitted to log on at this time"),
            ("531", .notPermittedAtThisWorkstation, "not permitted to log on at this workstation"),
            ("532", .passwordExpired, "password expired"),
            ("533", .accountDisabled, "account disabled"),
            ("701", .accountExpired, "account expired"),
            ("773", .mustResetPassword, "user must reset password"),
            ("775", .accountLockedOut, "account locked out"),
        ]
        for (data, expected, meaning) in cases {
            let message = "80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data \(data), v4563"
            XCTAssertEqual(ActiveDirectoryBindFailure(diagnosticMessage: message), expected, data)
            XCTAssertEqual(expected.meaning, meaning)
        }
        // Windows writes the code in lower case; accept any case, and nothing without "data".
        XCTAssertEqual(ActiveDirectoryBindFailure(diagnosticMessage: "..., data 52E, v1db1"), .invalidCredentials)
        XCTAssertNil(ActiveDirectoryBindFailure(diagnosticMessage: "BindSimple: Transport encryption required."))
        XCTAssertNil(
            ActiveDirectoryBindFailure(diagnosticMessage: "comment: AcceptSecurityContext error, data 999, v1"))
    }

    func testInvalidCredentialsMessageNamesServerReasonAndAdvice() {
        let error = LDAPError(
            .invalidCredentials, resultCode: 49, operation: .simpleBind, serverURI: "ldaps://dc01.corp.example",
            diagnosticMessage: "80090308: LdapErr: DSID-0C0903A9, comment: AcceptSecurityContext error, data 775, v1db1"
        )
        XCTAssertEqual(error.activeDirectoryReason, .accountLockedOut)
        XCTAssertTrue(
            error.description.hasPrefix("ldaps://dc01.corp.example: simple bind failed: Invalid credentials (49)"))
        XCTAssertTrue(error.description.contains("[AD: account locked out]"), error.description)
        XCTAssertTrue(error.advice.contains("lockout"), error.advice)
    }

    func testResultCodesMapToStableCodes() {
        func code(
            _ rc: Int32, _ operation: LDAPError.Operation = .search, tls: Bool = false, bound: Bool = false,
            _ diagnostic: String? = nil
        ) -> LDAPError.Code {
            LDAPError.classify(
                resultCode: rc, operation: operation, usesTLS: tls, wasBound: bound, diagnostic: diagnostic)
        }
        XCTAssertEqual(code(-1, .simpleBind), .serverDown)
        XCTAssertEqual(code(-11, .connect), .serverDown)
        XCTAssertEqual(code(-1, .search, bound: true), .connectionLost)
        XCTAssertEqual(code(-11, .startTLS, tls: true), .tlsFailure)
        XCTAssertEqual(code(-1, .simpleBind, tls: true, "certificate verify failed"), .tlsFailure)
        XCTAssertEqual(code(-1, .simpleBind, tls: true, "TCP connect failed: Connection refused"), .serverDown)
        XCTAssertEqual(code(-5), .timeout)
        XCTAssertEqual(code(3), .timeout)
        XCTAssertEqual(code(49, .simpleBind), .invalidCredentials)
        XCTAssertEqual(code(8, .simpleBind), .strongerAuthRequired)
        XCTAssertEqual(code(13, .simpleBind), .strongerAuthRequired)
        XCTAssertEqual(code(50), .insufficientAccess)
        XCTAssertEqual(
            code(
                1, .search,
                "000004DC: LdapErr: DSID-0C090A5C, comment: In order to perform this operation a successful bind must be completed"
            ),
            .insufficientAccess)
        XCTAssertEqual(code(32), .noSuchObject)
        XCTAssertEqual(code(53, .saslBind, "SASL:[GSSAPI]: Sign or Seal are not allowed if TLS is used"), .saslFailure)
        XCTAssertEqual(code(-6, .saslBind), .saslFailure)
        XCTAssertEqual(code(-2, .saslBind), .saslFailure)
        XCTAssertEqual(code(53, .search), .other)
    }

    func testAdviceSaysWhatToDo() {
        func error(
            _ code: LDAPError.Code, _ operation: LDAPError.Operation = .simpleBind,
            uri: String = "ldap://dc01", _ diagnostic: String? = nil
        ) -> LDAPError {
            LDAPError(code, resultCode: 0, operation: operation, serverURI: uri, diagnosticMessage: diagnostic)
        }
        func advice(
            _ code: LDAPError.Code, _ operation: LDAPError.Operation = .simpleBind,
            uri: String = "ldap://dc01", _ diagnostic: String? = nil
        ) -> String {
            error(code, operation, uri: uri, diagnostic).advice
        }
        XCTAssertTrue(advice(.strongerAuthRequired).contains("ldaps://, StartTLS or a Kerberos (GSSAPI) bind"))
        XCTAssertEqual(error(.strongerAuthRequired).remedy.settings, [.startTLS, .gssapiBind])
        XCTAssertEqual(
            advice(.serverDown, uri: "ldaps://dc01"),
            "Could not connect or TLS handshake failed; check host, port, the CA file.")
        XCTAssertEqual(error(.serverDown, uri: "ldaps://dc01").remedy.settings, [.caFile])
        XCTAssertTrue(
            advice(.tlsFailure, uri: "ldaps://dc01", "hostname mismatch: hostname (dc01) does not match common name")
                .contains("Hostname mismatch"))
        XCTAssertEqual(
            error(.tlsFailure, uri: "ldaps://dc01", "certificate verify failed: ... untrusted").remedy.settings,
            [.caFile])
        XCTAssertTrue(
            advice(.saslFailure, .saslBind, "Sign or Seal are not allowed if TLS is used").contains("plain ldap://"))
        XCTAssertTrue(
            advice(.saslFailure, .saslBind, "SASL(-4): no mechanism available: No worthy mechs found").contains(
                "libsasl2-modules-gssapi-mit"))
        XCTAssertTrue(advice(.saslFailure, .saslBind, "No Kerberos credentials available").contains("kinit"))
        XCTAssertEqual(error(.noSuchObject, .search).remedy.settings, [.base])
    }

    func testServerTextIsEscapedForTheTerminal() {
        // A hostile server's diagnostic: colour, bell, a CR that overwrites the line, a bidi override.
        let error = LDAPError(
            .noSuchObject, resultCode: 32, operation: .search, serverURI: "ldaps://dc01.corp.example",
            matchedDN: "OU=\u{1B}]0;owned\u{07},DC=corp,DC=example",
            diagnosticMessage: "0000208D: \u{1B}[31mNameErr\u{07}\r\u{202E}exe.txt")
        let text = error.description
        XCTAssertFalse(text.unicodeScalars.contains { TerminalText.isUnsafe($0) }, text)
        XCTAssertTrue(text.contains(#"0000208D: \e[31mNameErr\u{0007}\r\u{202E}exe.txt"#), text)
        XCTAssertTrue(text.contains(#"(nearest existing entry: OU=\e]0;owned\u{0007},DC=corp,DC=example)"#), text)
        // The fields keep the server's words as sent; only the rendering escapes.
        XCTAssertEqual(error.diagnosticMessage, "0000208D: \u{1B}[31mNameErr\u{07}\r\u{202E}exe.txt")
        // A backslash from the server is doubled, so it cannot pass for one of the escapes.
        let backslash = LDAPError(
            .other, resultCode: 53, operation: .search, serverURI: "ldap://dc01", diagnosticMessage: #"a\e b"#)
        XCTAssertTrue(backslash.description.contains(#"a\\e b"#), backslash.description)
    }

    func testEqualityComparesTheCodeOnly() {
        let one = LDAPError(.timeout, resultCode: -5, operation: .search, serverURI: "ldap://a")
        let two = LDAPError(
            .timeout, resultCode: 3, operation: .simpleBind, serverURI: "ldap://b", diagnosticMessage: "x")
        XCTAssertEqual(one, two)
        XCTAssertNotEqual(one, LDAPError(.serverDown, resultCode: -1, operation: .search, serverURI: "ldap://a"))
        XCTAssertNil(
            LDAPError(.other, resultCode: 1, operation: .search, serverURI: "u", diagnosticMessage: "")
                .diagnosticMessage)
    }

    func testConnectionDiagnosisReadsLibldapTrace() {
        XCTAssertEqual(
            ConnectionDiagnosis.summarize([
                "ldap_connect_to_host: TCP 127.0.0.9:1\n", "connect errno: 115\n",
                "ldap_is_socket_ready: error on socket 3: errno: 111 (Connection refused)\n",
            ]),
            "TCP connect failed: Connection refused")
        XCTAssertEqual(
            ConnectionDiagnosis.summarize([
                "TLS: hostname (dc01) does not match common name in certificate (dc01.corp.test).\n",
                "TLS: can't connect: (unknown error code).\n",
            ]),
            "hostname mismatch: hostname (dc01) does not match common name in certificate (dc01.corp.test).")
        XCTAssertTrue(
            ConnectionDiagnosis.summarize(["TLS: peer cert untrusted or revoked (0x42)\n"])?
                .hasPrefix("certificate verify failed") ?? false)
        XCTAssertTrue(
            ConnectionDiagnosis.summarize(["ldap_connect_to_host: getaddrinfo failed: Name or service not known\n"])?
                .hasPrefix("host name not found") ?? false)
        XCTAssertNil(ConnectionDiagnosis.summarize(["ldap_create\n", "TLS: can't connect: (unknown error code).\n"]))
    }
}
