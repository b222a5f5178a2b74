// swift-tools-version:6.0
import PackageDescription

// No package dependencies by design: the standard library, Foundation and system C libraries only.
let package = Package(
    name: "TrustAudit",
    products: [
        .executable(name: "trustaudit", targets: ["trustaudit"]),
        .executable(name: "trustaudit-sample", targets: ["trustaudit-sample"]),
    ],
    dependencies: [],
    targets: [
        // OpenLDAP's libldap; only LDAPClient imports it.
        .systemLibrary(
            name: "CLDAP",
            pkgConfig: "ldap",
            providers: [.apt(["libldap-dev"]), .brew(["openldap"])]
        ),
        // OpenSSL's libssl, for SMTP STARTTLS; only Delivery imports it.
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"]), .brew(["openssl@3"])]
        ),
        // A Swift owner for the LDAP* handle: binds, TLS, paged and ranged search, typed errors.
        .target(name: "LDAPClient", dependencies: ["CLDAP", "UntrustedInput"]),
        // Text and files from outside: one escaping policy for terminals, logs and headers, and
        // size-capped reads of regular files. No dependencies, so every target can use it.
        .target(name: "UntrustedInput"),
        // Base64 and bytewise ASCII, written once for LDIF, MIME, SMTP AUTH and the generator. No
        // dependencies, so every target can use it.
        .target(name: "Codecs"),
        // The Active Directory model and the sources it is read from; Foundation only.
        .target(name: "Directory", dependencies: ["Codecs", "UntrustedInput"]),
        // The audit rules and the runner that streams directory objects through them.
        .target(name: "Audit", dependencies: ["Codecs", "Directory", "UntrustedInput"]),
        // CSV, JSON and HTML renderers; never sees the source, only findings.
        .target(name: "Reporting", dependencies: ["Audit", "Codecs", "Directory", "UntrustedInput"]),
        // The live source: feeds directory entries from a domain controller through LDAPClient.
        .target(name: "LDAPSource", dependencies: ["Directory", "LDAPClient", "UntrustedInput"]),
        // Hands a finished mail message to sendmail or an SMTP server (STARTTLS, AUTH).
        .target(name: "Delivery", dependencies: ["COpenSSL", "Codecs", "UntrustedInput"]),
        // One audit run in order, for any frontend: the lock, the read, the reports, the history, the mail.
        .target(
            name: "AuditJob",
            dependencies: ["Directory", "Audit", "Reporting", "LDAPSource", "Delivery", "UntrustedInput"]),
        // The command-line parser both executables share: options, values, errors a user reads, help.
        .target(name: "CommandLineOptions"),
        .executableTarget(
            name: "trustaudit",
            dependencies: [
                "AuditJob", "Codecs", "CommandLineOptions", "Directory", "Audit", "Reporting", "LDAPClient",
                "LDAPSource",
                "Delivery", "UntrustedInput",
            ]),
        // Writes deterministic, realistic AD exports for the demo, the tests and the benchmark.
        .executableTarget(name: "trustaudit-sample", dependencies: ["Codecs", "CommandLineOptions", "Directory"]),
        .testTarget(name: "UntrustedInputTests", dependencies: ["UntrustedInput"]),
        .testTarget(name: "CodecsTests", dependencies: ["Codecs"]),
        .testTarget(name: "DirectoryTests", dependencies: ["Codecs", "Directory"]),
        .testTarget(name: "AuditTests", dependencies: ["Audit", "Directory"]),
        // Validates findings.json against docs/findings.schema.json with python3-jsonschema (TestSupport).
        .testTarget(
            name: "ReportingTests", dependencies: ["Reporting", "Audit", "Directory", "TestSupport"],
            exclude: ["Golden"]),
        // Needs no server: options, errors, and in-process TCP servers that misbehave.
        .testTarget(name: "LDAPClientTests", dependencies: ["LDAPClient", "CLDAP", "UntrustedInput"]),
        // The live source's settings and policy; needs no server.
        .testTarget(name: "LDAPSourceTests", dependencies: ["LDAPSource", "LDAPClient"]),
        // Delivers to a real SMTP receiver on loopback (aiosmtpd) and to a sendmail stand-in.
        .testTarget(name: "DeliveryTests", dependencies: ["Delivery", "Reporting", "Audit", "TestSupport"]),
        // Runs the audit job in-process on the CLI's fixtures: its outcomes, and that it prints nothing.
        .testTarget(
            name: "AuditJobTests", dependencies: ["AuditJob", "Audit", "Directory", "LDAPClient", "Reporting"]),
        // Runs the built `trustaudit` executable end to end on LDIF fixtures (some under a
        // pseudo-terminal); needs no server. Links the executable's module too, for the unit tests of
        // what it draws on a terminal (the progress line's text and throttle, colour).
        .testTarget(name: "CLITests", dependencies: ["Directory", "TestSupport", "trustaudit"], exclude: ["Fixtures"]),
        // What `make install` and `make deb` ship: the man page against the option table (hence the
        // executable target), the units and cron lines against systemd-analyze and `env -i`, and the
        // installed binary and package, built in release (skipped without make, dpkg or root unless CI=true).
        .testTarget(name: "PackagingTests", dependencies: ["trustaudit", "CommandLineOptions", "TestSupport"]),
        // Runs the executable and the LDAP client against a throwaway Samba AD DC (scripts/testdc),
        // which the tests start themselves; skipped without one unless CI=true.
        .testTarget(name: "IntegrationTests", dependencies: ["Directory", "LDAPClient", "LDAPSource", "TestSupport"]),
        // Runs the built executables and finds (or starts) the test DC, for the CLI, LDAP client and
        // integration tests.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
    ],
    swiftLanguageModes: [.v6]
)
