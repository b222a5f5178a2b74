// swift-tools-version:6.0
import PackageDescription

// No package dependencies by design: the standard library, Foundation and system C libraries only.
let package = Package(
    name: "TrustAudit",
    products: [
        .executable(name: "trustaudit", targets: ["trustaudit"])
    ],
    dependencies: [],
    targets: [
        // The Active Directory model and the sources it is read from; Foundation only.
        .target(name: "Directory"),
        // The audit rules and the runner that streams directory objects through them.
        .target(name: "Audit", dependencies: ["Directory"]),
        // CSV, JSON and HTML renderers; never sees the source, only findings.
        .target(name: "Reporting", dependencies: ["Audit", "Directory"]),
        .executableTarget(name: "trustaudit", dependencies: ["Directory", "Audit", "Reporting"]),
        .testTarget(name: "DirectoryTests", dependencies: ["Directory"]),
        .testTarget(name: "AuditTests", dependencies: ["Audit", "Directory"]),
        .testTarget(name: "ReportingTests", dependencies: ["Reporting", "Audit", "Directory"]),
    ],
    swiftLanguageModes: [.v6]
)
