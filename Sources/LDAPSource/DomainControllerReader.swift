import Directory
import Foundation
import LDAPClient

extension LDAPSourceSettings {
    /// These settings aimed at another DC of the same domain: the same scheme, port, bind,
    /// StartTLS, CA file, certificate check and timeouts, with `hostName` as the only URI.
    ///
    /// - The scheme and port are the first URI's (a list names DCs of one domain, alike). A Global
    ///   Catalog port is taken back to the domain's (3268 to 389, 3269 to 636) and `globalCatalog`
    ///   is off: what is read from each DC (pwdLastSet, lastLogon, repsFrom) is not in the GC.
    /// - The base is kept, unless it was the forest-wide GC search's.
    /// - `progress` is dropped: it counts one source's pages, and each DC is a source of its own.
    /// - A host name by its name, never its address: a Kerberos ticket is for ldap/<name>, and a
    ///   certificate names the host.
    ///
    /// `hostName` comes from the directory (`dNSHostName`), so it is untrusted: anything but a DNS
    /// name (letters, digits, `-`, `_`, dots; labels of at most 63, 253 in all) is refused with
    /// `LDAPError` `.invalidURI` before it reaches libldap, where a space would add a URI to the list.
    public func forHost(_ hostName: String) throws(LDAPError) -> LDAPSourceSettings {
        guard Self.isDNSName(hostName) else {
            throw LDAPError(
                .invalidURI, resultCode: -9, operation: .configure, serverURI: uri,
                diagnosticMessage: "the domain controller's host name '\(hostName)' is not a DNS name",
                advice: "Check the dNSHostName of the DC's server object and computer account.")
        }
        let first = try LDAPURI.list(uri)[0]
        var port = first.port
        if searchesGlobalCatalog || first.isGlobalCatalog {
            switch port {
            case 3268: port = 389
            case 3269: port = 636
            default: break
            }
        }
        var derived = self
        derived.uri = LDAPURI(scheme: first.scheme, host: hostName, port: port).description
        if searchesGlobalCatalog { derived.base = nil }
        derived.globalCatalog = false
        derived.progress = nil
        return derived
    }

    /// `forHost(_:)` for the DC's `hostName`.
    public func forDomainController(_ domainController: DomainController) throws(LDAPError) -> LDAPSourceSettings {
        try forHost(domainController.hostName)
    }

    static func isDNSName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...253).contains(bytes.count) else { return false }
        let labels = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        return labels.allSatisfy { label in
            guard (1...63).contains(label.count), label.first != UInt8(ascii: "-") else { return false }
            return label.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A)
                    || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
            }
        }
    }
}

/// Asks one DC for what only it knows: its clock and its inbound replication state.
public enum DomainControllerReader {
    /// Connects to `domainController` with `settings` (the first DC's, see
    /// `LDAPSourceSettings.forDomainController(_:)`), binds, and reads the rootDSE `currentTime`
    /// and `repsFrom` of the domain head.
    ///
    /// Never throws: a DC that cannot be reached, refuses the bind or the read, or answers for
    /// another domain than its computer account's comes back `.failed` with the error's own words,
    /// so one DC down does not sink the audit. `askedAt` is the audit host's clock halfway through
    /// the rootDSE read (`now` before and after), which halves the round trip's part in a skew;
    /// currentTime itself has whole seconds only.
    public static func read(
        _ domainController: DomainController, settings: LDAPSourceSettings,
        now: () -> Date = Date.init
    ) -> DomainControllerReading {
        do {
            let derived = try settings.forDomainController(domainController)
            try derived.validate()
            let connection = try LDAPConnection(options: derived.connectionOptions)
            switch derived.bind {
            case .simple(let dn, let password): try connection.simpleBind(dn: dn, password: password)
            case .gssapi: try connection.saslGSSAPIBind()
            }
            let before = now()
            let rootDSE = try connection.rootDSE()
            let after = now()
            let askedAt = before.addingTimeInterval(after.timeIntervalSince(before) / 2)
            let currentTime = rootDSE.string("currentTime").flatMap(UTCTime.date(generalizedTime:))
            guard let namingContext = rootDSE.string("defaultNamingContext") else {
                return DomainControllerReading(
                    domainController: domainController,
                    outcome: .failed("\(connection.serverURI): the rootDSE names no defaultNamingContext"),
                    currentTime: currentTime, askedAt: askedAt)
            }
            if let expected = domainController.computerDN.flatMap(DistinguishedName.domainDNSName(of:)),
                let answered = DistinguishedName.domainDNSName(of: namingContext), expected != answered
            {
                return DomainControllerReading(
                    domainController: domainController,
                    outcome: .failed(
                        "\(connection.serverURI) answers for the domain \(answered), not \(expected): the name leads to another server"
                    ),
                    currentTime: currentTime, askedAt: askedAt)
            }
            let head = try connection.searchAll(
                base: namingContext, scope: .base, attributes: ["repsFrom"], pageSize: 0
            ).first
            // The DC's own NTDS Settings options, as the DC itself holds them: a change of its
            // options (inbound replication disabled) is written on that DC and reaches the DC that
            // discovery asked only by replication, which may be what is broken.
            var current = domainController
            if let dsa = rootDSE.string("dsServiceName"),
                let options = try connection.searchAll(base: dsa, scope: .base, attributes: ["options"], pageSize: 0)
                    .first?.string("options").flatMap({ Int64($0) })
            {
                current.options = NTDSDSAOptions(rawValue: UInt32(truncatingIfNeeded: options))
            }
            return DomainControllerReading(
                domainController: current, outcome: .answered, currentTime: currentTime,
                askedAt: askedAt, repsFrom: head?.values("repsFrom") ?? [])
        } catch let error as LDAPError {
            return DomainControllerReading(domainController: domainController, outcome: .failed(error.description))
        } catch {
            return DomainControllerReading(domainController: domainController, outcome: .failed("\(error)"))
        }
    }
}
