/// The result of a DC's last replication attempt from one partner (REPS_FROM `ulResultLastAttempt`),
/// a Win32 error code, with the name `repadmin /showrepl` prints and its usual cause.
///
/// Kept as the raw 32 bits: most values are small Win32 codes (8457), but a security package's
/// HRESULT can show up too (0x80090322, printed by repadmin as -2146893022).
public struct ReplicationResult: Sendable, Hashable, CustomStringConvertible {
    /// The code as stored (unsigned); `signedCode` is how repadmin prints one with the top bit set.
    public let code: UInt32

    public init(code: UInt32) { self.code = code }

    /// A code as repadmin prints it (`-2146893022` for 0x80090322).
    public init(signedCode: Int32) { code = UInt32(bitPattern: signedCode) }

    /// The code as a signed 32-bit number: what repadmin and the event log show.
    public var signedCode: Int32 { Int32(bitPattern: code) }

    /// ERROR_SUCCESS: the last attempt worked.
    public var isSuccess: Bool { code == 0 }

    /// The symbolic name (`ERROR_DS_DRA_SINK_DISABLED`), nil for a code this table does not know.
    public var name: String? { Self.known[code]?.name }

    /// What usually causes it and where to look, nil for a code this table does not know.
    public var cause: String? { Self.known[code]?.cause }

    /// `8457 ERROR_DS_DRA_SINK_DISABLED`; a code not in the table as its number and hex
    /// (`8999 (0x2327)`), so an admin can still search for it.
    public var description: String {
        let number = String(signedCode)
        if let name { return "\(number) \(name)" }
        let hex = String(code, radix: 16, uppercase: true)
        return "\(number) (0x\(String(repeating: "0", count: max(0, 4 - hex.count)) + hex))"
    }

    public static let success = ReplicationResult(code: 0)
    /// ERROR_DS_DRA_SINK_DISABLED: the destination's inbound replication is off.
    public static let sinkDisabled = ReplicationResult(code: 8457)
    /// ERROR_DS_DRA_SOURCE_DISABLED: the source's outbound replication is off.
    public static let sourceDisabled = ReplicationResult(code: 8456)
    /// RPC_S_SERVER_UNAVAILABLE: the source could not be reached.
    public static let rpcServerUnavailable = ReplicationResult(code: 1722)

    /// The codes replication failures commonly carry, from Microsoft's AD replication
    /// troubleshooting articles ("Active Directory replication error <code>") and Samba's WERROR table.
    private static let known: [UInt32: (name: String, cause: String)] = [
        0: ("ERROR_SUCCESS", "the last attempt succeeded"),
        5: (
            "ERROR_ACCESS_DENIED",
            "the source refused the destination's credentials: the destination DC's machine password or Kerberos tickets are out of step with the source (klist purge, then netdom resetpwd on the DC), its clock is more than 5 minutes off, or the RestrictRemoteClients/SMB signing policies block it"
        ),
        87: (
            "ERROR_INVALID_PARAMETER",
            "on Samba: the source DC's replication SPN (E3514235-4B06-11D1-AB04-00C04FC2DCD2/<DSA GUID>/<domain>) is not registered, so the destination cannot get a ticket for it"
        ),
        1256: (
            "ERROR_HOST_DOWN",
            "the remote system is not available: the source DC is off, unreachable, or a firewall blocks its RPC ports; check name resolution and the network path to it"
        ),
        1311: (
            "ERROR_NO_LOGON_SERVERS",
            "no KDC could be reached to authenticate the replication: check DNS (_kerberos SRV records) and, on Samba, the krb5.conf the DC uses"
        ),
        1396: (
            "ERROR_WRONG_TARGET_NAME",
            "the target account name is incorrect: the source DC's SPN is registered on another account or twice, or DNS sends the destination to another machine than the one named"
        ),
        1722: (
            "RPC_S_SERVER_UNAVAILABLE",
            "the RPC server is unavailable: the source DC is off or unreachable, a firewall blocks port 135 or the dynamic RPC ports, or DNS gives a stale address for it"
        ),
        1753: (
            "EPT_S_NOT_REGISTERED",
            "the source's endpoint mapper has no replication endpoint: its directory service is not running, or a firewall passes 135 but not the dynamic ports"
        ),
        1908: (
            "ERROR_DOMAIN_CONTROLLER_NOT_FOUND",
            "the destination could not find a DC (KDC) of the domain to authenticate with: check its DNS client settings and the domain's SRV records (dcdiag /test:dns)"
        ),
        8418: (
            "ERROR_DS_DRA_SCHEMA_MISMATCH",
            "the two DCs' schemas differ: the destination must replicate the schema partition first (repadmin /syncall /AdeP, starting with the schema master)"
        ),
        8451: (
            "ERROR_DS_DRA_DB_ERROR",
            "the replication operation hit a database error: the NTDS database of the source or destination is damaged; read the Directory Service event log and check the database (ntdsutil, semantic database analysis)"
        ),
        8453: (
            "ERROR_DS_DRA_ACCESS_DENIED",
            "replication access was denied: the destination's computer account lacks Replicating Directory Changes on the naming context (it is not in Domain Controllers or Enterprise Domain Controllers, or the permissions were changed)"
        ),
        8456: (
            "ERROR_DS_DRA_SOURCE_DISABLED",
            "the source DC has outbound replication disabled (repadmin /options <source> -DISABLE_OUTBOUND_REPL undoes it), or it is still finishing its initial synchronisation"
        ),
        8457: (
            "ERROR_DS_DRA_SINK_DISABLED",
            "the destination DC has inbound replication disabled (repadmin /options <DC> -DISABLE_INBOUND_REPL, or samba-tool drs options <DC> --dsa-option=-DISABLE_INBOUND_REPL, undoes it), often left on after maintenance or by a USN rollback quarantine"
        ),
        8464: (
            "ERROR_DS_DRA_INCOMPATIBLE_PARTIAL_SET",
            "the destination is waiting for new partial-attribute-set attributes from the source: normal for a while after a schema change to the Global Catalog's attribute set"
        ),
        8524: (
            "ERROR_DS_DNS_LOOKUP_FAILURE",
            "the destination could not resolve the source's <DSA GUID>._msdcs.<forest> alias in DNS: check the DC's DNS servers and that the source registered its records (dcdiag /test:dns, ipconfig /registerdns, restart Netlogon)"
        ),
        8545: (
            "ERROR_DS_DRA_OBJ_NC_MISMATCH",
            "an update could not be applied because one side has not yet seen a recent cross-domain move of the object; it usually clears once the move replicates"
        ),
        8606: (
            "ERROR_DS_INSUFF_ATTR_TO_CREATE_OBJECT",
            "insufficient attributes to create an object: the source sent an update to an object the destination deleted and removed long ago (a lingering object); remove lingering objects (repadmin /removelingeringobjects) and keep strict replication consistency on"
        ),
        8614: (
            "ERROR_DS_REPL_LIFETIME_EXCEEDED",
            "the destination has not replicated from the source for longer than the tombstone lifetime, so it may hold lingering objects and refuses to: remove lingering objects, or demote and rebuild the DC that was cut off"
        ),
        0x8009_0322: (
            "SEC_E_WRONG_PRINCIPAL",
            "the target principal name is incorrect: the source DC's machine password is out of step with the KDC that issued the ticket (a DC restored or its password not replicated), or DNS maps its name to another DC; stop the KDC on the source, netdom resetpwd against the PDC emulator, then klist purge"
        ),
    ]
}
