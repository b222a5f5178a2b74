import Directory

/// How a multi-DC audit ties an account's views to the DCs they came from.
extension AuditContext {
    /// A multi-DC audit in which every DC answered: what is read over the views (the true last
    /// logon, whose password is newest) is then complete. False for an audit of one source.
    public var allDomainControllersAnswered: Bool {
        !domainControllers.isEmpty && domainControllers.allSatisfy(\.answered)
    }

    /// The DCs that could not be read, by host name: what a finding that compares DCs could not compare.
    public var unansweredDomainControllers: [String] {
        domainControllers.filter { !$0.answered }.map(\.domainController.hostName)
    }

    /// The reading of the DC a view came from: its origin is the DC's host name
    /// (`dc02.corp.example`) or a URI naming it (`ldaps://dc02.corp.example:636`), compared
    /// case-insensitively; nil when no DC matches (an export, or a source the audit did not discover).
    public func reading(forOrigin origin: String) -> DomainControllerReading? {
        let host = Self.hostName(ofOrigin: origin)
        return domainControllers.first { $0.domainController.hostName.lowercased() == host }
    }

    /// The DC whose invocationId is `id`: the one that made a change a replication stamp records.
    public func domainController(invocationID id: ObjectGUID?) -> DomainController? {
        guard let id else { return nil }
        return domainControllers.first { $0.domainController.invocationID == id }?.domainController
    }

    /// `dc02.corp.example` for `ldaps://DC02.corp.example:636/` or `dc02.corp.example`.
    static func hostName(ofOrigin origin: String) -> String {
        var text = Substring(origin.lowercased())
        if let scheme = text.range(of: "://") { text = text[scheme.upperBound...] }
        if let end = text.firstIndex(where: { $0 == "/" || $0 == ":" }) { text = text[..<end] }
        return String(text)
    }
}

extension AccountView {
    /// The newest `lastLogon` over the views that carry one, and the origin (the DC) whose view it
    /// is; nil when none does. lastLogon is not replicated, so each DC holds only the logons it
    /// served: the newest over every DC is the true last logon, where lastLogonTimestamp lags it by
    /// up to 14 days.
    public var trueLastLogon: (time: FileTime, origin: String)? {
        // First, then the others, without building `views`: the runner asks this of every computer.
        var newest: (time: FileTime, origin: String)?
        func consider(_ view: View) {
            guard let logon = view.object.lastLogon, logon.isValid, !logon.isNever else { return }
            if newest.map({ logon > $0.time }) ?? true { newest = (logon, view.origin) }
        }
        consider(first)
        for view in others { consider(view) }
        return newest
    }

    /// The same account with its most current view first: the one holding the newest machine
    /// password (the highest unicodePwd metadata version, then the newest pwdLastSet), else the
    /// first that arrived.
    ///
    /// The single-source rules read `first`. In a multi-DC audit the views arrive in whatever
    /// order the DCs answer, and a DC that missed the last password change would otherwise tell
    /// stale-password that a machine which rotated an hour ago never set its password (the change
    /// it missed is password-not-replicated's finding, not a stale password).
    ///
    /// A comparison-only view (`View.isComparisonOnly`) is never first as it is: when it holds the
    /// newest password, the first view is a full view's object with that view's compared values,
    /// under its origin. Without any full view the account is returned as it is.
    public var currentFirst: AccountView {
        guard !others.isEmpty else { return self }
        func rank(_ view: View) -> (Int64, Int64) {
            (Int64(view.object.unicodePwdMetadata?.version ?? 0), view.object.passwordLastSet?.ticks ?? Int64.min)
        }
        var best = first
        for view in others where rank(view) > rank(best) { best = view }
        var leading = best
        if best.isComparisonOnly {
            guard let full = views.first(where: { !$0.isComparisonOnly }) else { return self }
            var object = full.object
            object.takeDomainControllerComparisonValues(of: best.object)
            leading = View(origin: best.origin, object: object)
        } else if best.origin == first.origin {
            return self
        }
        var reordered = AccountView(leading)
        for view in views where view.origin != best.origin { _ = reordered.merge(view) }
        return reordered
    }

    /// Whether any source gave the account's full view, not only the values DCs are compared by.
    public var hasFullView: Bool {
        !first.isComparisonOnly || others.contains { !$0.isComparisonOnly }
    }

    /// The account with `view` in place of the view of the same origin (a full read of what a
    /// comparison-only view gave); unchanged when no view has that origin.
    public func replacing(_ view: View) -> AccountView {
        var replaced = AccountView(first.origin == view.origin ? view : first)
        for other in others { _ = replaced.merge(other.origin == view.origin ? view : other) }
        return replaced
    }
}

extension ReplicaLink {
    /// The partner's host name, when it is a DC the audit knows by its DSA GUID; else its
    /// `<guid>._msdcs.<forest>` address or the GUID itself; nil when the link names none of them.
    public func partnerName(among readings: [DomainControllerReading]) -> String? {
        if let guid = sourceDSAObjectGUID,
            let known = readings.first(where: { $0.domainController.dsaGUID == guid })
        {
            return known.domainController.hostName
        }
        return sourceAddress ?? sourceDSAObjectGUID?.description
    }
}
