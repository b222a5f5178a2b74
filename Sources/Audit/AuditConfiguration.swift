import Directory
import Foundation
import UntrustedInput

/// Where an SPN service class must be registered, per the `requiredSPNs` configuration.
public enum SPNRequirementScope: String, Sendable, CaseIterable {
    /// Both forms (short name and FQDN) on every enabled computer.
    case all
    /// Both forms on Windows servers (operatingSystem contains "Windows Server"); elsewhere as `paired`.
    case servers
    /// Only when one form is present: the other must be too (a renamed host, a half-done setspn).
    case paired
    case none
}

/// One service class that a healthy join registers, and how loudly its absence is reported.
public struct SPNRequirement: Sendable, Equatable {
    public var serviceClass: String
    public var scope: SPNRequirementScope
    public var severity: Severity

    public init(serviceClass: String, scope: SPNRequirementScope, severity: Severity) {
        self.serviceClass = serviceClass
        self.scope = scope
        self.severity = severity
    }
}

/// An SPN the duplicate-spn rule leaves alone (`duplicateSPNExclusions`): `class/host` as AD
/// compares SPNs (case-insensitively), where a host of `*` stands for any host.
///
/// The host is the part between the first `/` and a port (`:1433`) or a service name (`/corp.example`);
/// what follows it must match as written, so `MSSQLSvc/*` matches `MSSQLSvc/sql01` but not
/// `MSSQLSvc/sql01:1433`, which `MSSQLSvc/*:1433` matches.
public struct SPNPattern: Sendable, Equatable, CustomStringConvertible {
    /// The service class, lower-cased.
    public let serviceClass: String
    /// The host, lower-cased; nil for `*`.
    public let host: String?
    /// What follows the host (`:1433`, `/corp.example`, or empty), lower-cased.
    public let rest: String

    /// The pattern `text` states, or the reason it is none.
    public static func parse(_ text: String) -> Result<SPNPattern, PatternError> {
        if text.unicodeScalars.contains(where: { $0.value < 0x21 || $0.value == 0x7F }) {
            return .failure(PatternError("holds a space or a control character, which no SPN does"))
        }
        let (serviceClass, host, rest) = split(text.lowercased())
        guard let host, !serviceClass.isEmpty, !host.isEmpty else {
            return .failure(
                PatternError("is not an SPN (service class/host, such as HTTP/web01.corp.example or HTTP/*)"))
        }
        if serviceClass.contains("*") || rest.contains("*") || (host.contains("*") && host != "*") {
            return .failure(PatternError("'*' may only stand for the whole host (HTTP/*, MSSQLSvc/*:1433)"))
        }
        return .success(
            SPNPattern(serviceClass: String(serviceClass), host: host == "*" ? nil : String(host), rest: String(rest)))
    }

    /// Why a text is no pattern.
    public struct PatternError: Error, Sendable, Equatable {
        public let reason: String
        init(_ reason: String) { self.reason = reason }
    }

    private init(serviceClass: String, host: String?, rest: String) {
        self.serviceClass = serviceClass
        self.host = host
        self.rest = rest
    }

    /// Whether `spn` is one this pattern names.
    public func matches(_ spn: ServicePrincipalName) -> Bool {
        let (spnClass, spnHost, spnRest) = Self.split(spn.normalized)
        guard let spnHost, spnClass == serviceClass, spnRest == rest else { return false }
        return host.map { $0 == spnHost } ?? true
    }

    public var description: String { "\(serviceClass)/\(host ?? "*")\(rest)" }

    /// Lower-cased text as service class, host (nil without a `/`) and what follows the host.
    private static func split(_ text: String) -> (Substring, Substring?, Substring) {
        guard let slash = text.firstIndex(of: "/") else { return (text[...], nil, "") }
        let afterSlash = text.index(after: slash)
        let end = text[afterSlash...].firstIndex { $0 == ":" || $0 == "/" } ?? text.endIndex
        return (text[..<slash], text[afterSlash..<end], text[end...])
    }
}

/// Everything a site can tune. Defaults follow what real domains hold and Windows' own defaults.
public struct AuditConfiguration: Sendable {
    /// Two missed 30-day rotations: AD keeps only the current and the previous machine password.
    public var stalePasswordDays = 60
    /// The pwdLastSet age from which a failover cluster name object's password is reported: the
    /// cluster rotates it, and ANSSI's AD checklist gives cluster accounts three years.
    public var clusterStalePasswordDays = 1095
    /// SPNs that duplicate-spn does not report, besides the built-in kadmin/changepw of each krbtgt.
    public var duplicateSPNExclusions: [SPNPattern] = []
    /// The machine password rotation interval ("Domain member: Maximum machine account password age").
    public var passwordRotationDays = 30
    /// In the order they are checked and reported.
    public var requiredSPNs: [SPNRequirement] = [
        SPNRequirement(serviceClass: "HOST", scope: .all, severity: .high),
        SPNRequirement(serviceClass: "RestrictedKrbHost", scope: .all, severity: .medium),
        SPNRequirement(serviceClass: "TERMSRV", scope: .servers, severity: .low),
    ]
    /// Per-rule severity overrides (rule id to severity), applied to every finding of that rule.
    public var severities: [String: Severity] = [:]
    /// sAMAccountNames (with or without `$`), lower-cased and without `$`.
    public var excludedAccounts: Set<String> = []
    /// Normalized DNs of OUs (or any containers) whose computers are not audited.
    public var excludedContainers: [String] = []
    /// The DC named in fix commands (`Reset-ComputerMachinePassword -Server ...`); else the audited DC or domain.
    public var remediationServer: String?
    /// How far a DC's clock may be from the audit host's or the PDC emulator's before dc-clock-skew
    /// reports it: Kerberos' default maximum tolerance for computer clock synchronization.
    public var maxClockSkewMinutes = 5
    /// How long a DC may go without a successful pull from a partner before replication-failure
    /// reports the link even without failures (repadmin /replsum's "largest delta" worth a look).
    public var replicationFailureHours = 24

    public init() {}

    /// True when the account is excluded by name or by container.
    public func isExcluded(_ object: DirectoryObject) -> Bool {
        if !excludedAccounts.isEmpty && excludedAccounts.contains(object.shortName.lowercased()) { return true }
        if excludedContainers.isEmpty { return false }
        let dn = DistinguishedName.normalized(object.distinguishedName)
        return excludedContainers.contains { DistinguishedName.isNormalized(dn, within: $0) }
    }

    public func severity(for rule: String, default defaultSeverity: Severity) -> Severity {
        severities[rule] ?? defaultSeverity
    }
}

/// A configuration file that cannot be used, with the file and the offending key.
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public let file: String
    /// The JSON path of the problem (`requiredSPNs.TERMSRV.requiredOn`), or empty for the file itself.
    public let key: String
    public let reason: String

    public var description: String {
        let file = TerminalText.escaped(file)
        return key.isEmpty ? "\(file): \(reason)" : "\(file): \(key): \(reason)"
    }
}

extension AuditConfiguration {
    /// Reads a JSON configuration file. Unknown keys are errors, not ignored: a misspelt
    /// `stalePaswordDays` silently falling back to the default is how audits go wrong.
    public static func load(from path: String) throws -> AuditConfiguration {
        let bytes: [UInt8]
        do {
            bytes = try InputFile.read(path, kind: "configuration", limit: InputFile.Limit.configuration)
        } catch {
            throw ConfigurationError(
                file: path, key: "", reason: "\(error.code == .notFound ? "no such file" : error.reason)")
        }
        return try parse(Data(bytes), file: path)
    }

    /// Parses strict RFC 8259 JSON (see `StrictJSON`): a trailing comma or a comment is an error
    /// with its line and column, not something one parser accepts and the next rejects.
    public static func parse(_ data: Data, file: String) throws -> AuditConfiguration {
        let root: JSONValue
        do {
            root = try StrictJSON.parse([UInt8](data))
        } catch {
            throw ConfigurationError(file: file, key: "", reason: "not valid JSON: \(error)")
        }
        guard case .object(let object) = root else {
            throw ConfigurationError(file: file, key: "", reason: "the top level must be a JSON object")
        }
        var configuration = AuditConfiguration()
        let fail = { (key: String, reason: String) in
            ConfigurationError(file: file, key: TerminalText.escaped(key), reason: reason)
        }
        for (key, value) in object {
            switch key {
            case "stalePasswordDays":
                configuration.stalePasswordDays = try days(value, key: key, range: 1...3650, fail: fail)
            case "clusterStalePasswordDays":
                configuration.clusterStalePasswordDays = try days(value, key: key, range: 1...3650, fail: fail)
            case "duplicateSPNExclusions":
                guard case .array(let elements) = value else {
                    throw fail(key, "must be a list of SPNs (HTTP/web01.corp.example, or HTTP/* for any host)")
                }
                for element in elements {
                    guard let text = element.string else {
                        throw fail(key, "must be a list of SPN strings, not \(element.kindDescription)")
                    }
                    switch SPNPattern.parse(text) {
                    case .success(let pattern): configuration.duplicateSPNExclusions.append(pattern)
                    case .failure(let error): throw fail(key, "'\(TerminalText.escaped(text))' \(error.reason)")
                    }
                }
            case "passwordRotationDays":
                configuration.passwordRotationDays = try days(value, key: key, range: 1...999, fail: fail)
            case "maxClockSkewMinutes":
                guard let minutes = value.integer, (1...1440).contains(minutes) else {
                    throw fail(key, "must be a whole number of minutes from 1 to 1440")
                }
                configuration.maxClockSkewMinutes = minutes
            case "replicationFailureHours":
                guard let hours = value.integer, (1...8760).contains(hours) else {
                    throw fail(key, "must be a whole number of hours from 1 to 8760")
                }
                configuration.replicationFailureHours = hours
            case "remediationServer":
                guard let server = value.string, !server.isEmpty else { throw fail(key, "must be a DC host name") }
                guard isHostName(server) else {
                    throw fail(
                        key,
                        "must be a DC host name (letters, digits, '-', '.' and '_'), not '\(TerminalText.escaped(server))'"
                    )
                }
                configuration.remediationServer = server
            case "severities":
                guard case .object(let map) = value else {
                    throw fail(key, "must be an object of rule id to severity")
                }
                for (rule, severityValue) in map {
                    guard AuditRules.ids.contains(rule) else {
                        throw fail(
                            "\(key).\(rule)", "unknown rule; rules are \(AuditRules.ids.joined(separator: ", "))")
                    }
                    configuration.severities[rule] = try severity(severityValue, key: "\(key).\(rule)", fail: fail)
                }
            case "requiredSPNs":
                guard case .object(let map) = value else {
                    throw fail(key, "must be an object of service class to {\"requiredOn\", \"severity\"}")
                }
                for (serviceClass, settingsValue) in map.sorted(by: { $0.key < $1.key }) {
                    let path = "\(key).\(serviceClass)"
                    guard !serviceClass.isEmpty, !serviceClass.contains("/") else {
                        throw fail(path, "a service class is the part before '/', such as HOST or TERMSRV")
                    }
                    guard case .object(let settings) = settingsValue else {
                        throw fail(path, "must be an object with \"requiredOn\" and optionally \"severity\"")
                    }
                    let existing = configuration.requiredSPNs.firstIndex {
                        $0.serviceClass.caseInsensitiveCompare(serviceClass) == .orderedSame
                    }
                    var requirement =
                        existing.map { configuration.requiredSPNs[$0] }
                        ?? SPNRequirement(serviceClass: serviceClass, scope: .none, severity: .medium)
                    for (settingKey, settingValue) in settings {
                        switch settingKey {
                        case "requiredOn":
                            guard let text = settingValue.string, let scope = SPNRequirementScope(rawValue: text)
                            else {
                                throw fail("\(path).requiredOn", "must be one of all, servers, paired, none")
                            }
                            requirement.scope = scope
                        case "severity":
                            requirement.severity = try severity(settingValue, key: "\(path).severity", fail: fail)
                        default:
                            throw fail("\(path).\(settingKey)", "unknown key; use requiredOn and severity")
                        }
                    }
                    if let existing {
                        configuration.requiredSPNs[existing] = requirement
                    } else {
                        configuration.requiredSPNs.append(requirement)
                    }
                }
            case "exclude":
                guard case .object(let map) = value else {
                    throw fail(key, "must be an object with \"accounts\" and/or \"organizationalUnits\"")
                }
                for (excludeKey, excludeValue) in map {
                    guard case .array(let elements) = excludeValue else {
                        throw fail("\(key).\(excludeKey)", "must be a list of strings")
                    }
                    var list: [String] = []
                    for element in elements {
                        guard let text = element.string else {
                            throw fail(
                                "\(key).\(excludeKey)", "must be a list of strings, not \(element.kindDescription)")
                        }
                        list.append(text)
                    }
                    switch excludeKey {
                    case "accounts":
                        configuration.excludedAccounts = Set(
                            list.map { name in
                                let lowered = name.trimmingCharacters(in: .whitespaces).lowercased()
                                return lowered.hasSuffix("$") ? String(lowered.dropLast()) : lowered
                            })
                    case "organizationalUnits":
                        for dn in list where !dn.contains("=") {
                            throw fail(
                                "\(key).\(excludeKey)",
                                "'\(TerminalText.escaped(dn))' is not a distinguished name (OU=Lab,DC=corp,DC=example)")
                        }
                        configuration.excludedContainers = list.map(DistinguishedName.normalized)
                    default:
                        throw fail("\(key).\(excludeKey)", "unknown key; use accounts and organizationalUnits")
                    }
                }
            default:
                throw fail(
                    key,
                    "unknown key; known keys are stalePasswordDays, clusterStalePasswordDays, passwordRotationDays, requiredSPNs, duplicateSPNExclusions, severities, exclude, remediationServer, maxClockSkewMinutes, replicationFailureHours"
                )
            }
        }
        return configuration
    }

    /// A DNS or NetBIOS host name: the DC that fix commands name goes into shells, so nothing else is taken.
    static func isHostName(_ text: String) -> Bool {
        text.utf8.count <= 253
            && text.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"):
                    return true
                default: return false
                }
            } && text.first != "-"
    }

    private static func days(
        _ value: JSONValue, key: String, range: ClosedRange<Int>, fail: (String, String) -> ConfigurationError
    ) throws -> Int {
        // Only a number written as a whole number: not true, "60", 60.5 or 6e1.
        guard let days = value.integer, range.contains(days) else {
            throw fail(key, "must be a whole number of days from \(range.lowerBound) to \(range.upperBound)")
        }
        return days
    }

    private static func severity(_ value: JSONValue, key: String, fail: (String, String) -> ConfigurationError) throws
        -> Severity
    {
        guard let text = value.string, let severity = Severity(rawValue: text.lowercased()) else {
            throw fail(key, "must be one of info, low, medium, high, critical")
        }
        return severity
    }
}
