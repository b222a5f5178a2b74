import Directory

/// What kind of computer account an object is, beyond its class: the facts that change what the
/// per-account rules may expect of it.
extension DirectoryObject {
    /// A failover cluster's name object (the CNO) or one of its virtual computer objects (VCOs): a
    /// computer holding an `MSClusterVirtualServer/` SPN.
    ///
    /// No machine joined it: the cluster's network name resource rotates its password and registers
    /// HOST/ for it, but neither RestrictedKrbHost/ nor TERMSRV/, and it writes no operatingSystem.
    public var isClusterNameObject: Bool {
        kind == .computer && servicePrincipalNames.contains { Self.isClusterSPN($0) }
    }

    /// No machine ever joined the account: it has neither an operatingSystem nor a
    /// servicePrincipalName, both of which a join writes (a dNSHostName may have been set by whoever
    /// pre-staged it, as `New-ADComputer -DNSHostName` does). It was pre-staged, or created by a user
    /// through ms-DS-MachineAccountQuota (then `creatorSID` names that user).
    public var wasNeverJoined: Bool {
        kind == .computer && servicePrincipalNames.isEmpty && (operatingSystem?.isEmpty ?? true)
    }

    private static func isClusterSPN(_ spn: ServicePrincipalName) -> Bool {
        let prefix = "msclustervirtualserver/"
        let normalized = spn.normalized.utf8
        return normalized.count > prefix.utf8.count && normalized.starts(with: prefix.utf8)
    }
}
