/// One inbound replication partner of a DC for one naming context: a `repsFrom` value on the NC
/// head (MS-DRSR 5.170 REPS_FROM; Samba's drsblobs.idl `repsFromToBlob`, versions 1 and 2).
///
/// It is what `repadmin /showrepl` prints per partner: how many attempts in a row failed, when the
/// last one succeeded and was tried, with what result, and which DC the partner is (its DSA GUID,
/// which names its `CN=NTDS Settings` object, and its `<guid>._msdcs.<forest>` address).
public struct ReplicaLink: Sendable, Equatable {
    /// 1 (Windows 2000/2003, Samba) or 2 (Windows 2008 and later).
    public var version: UInt32
    /// cConsecutiveFailures: attempts that failed since the last success.
    public var consecutiveFailures: UInt32
    /// timeLastSuccess; `isNever` (0) when it never succeeded.
    public var lastSuccess: FileTime
    /// timeLastAttempt.
    public var lastAttempt: FileTime
    /// ulResultLastAttempt.
    public var lastResult: ReplicationResult
    /// ulReplicaFlags (DRS_OPTIONS).
    public var replicaFlags: ReplicaFlags
    /// uuidDsaObj: the objectGUID of the source DC's `CN=NTDS Settings` (`DomainController.dsaGUID`).
    public var sourceDSAObjectGUID: ObjectGUID?
    /// uuidInvocId: the source's invocationId.
    public var sourceInvocationID: ObjectGUID?
    /// The source's DNS address from the other-DRA part (`<dsa guid>._msdcs.corp.example`).
    public var sourceAddress: String?

    public init(
        version: UInt32 = 1, consecutiveFailures: UInt32 = 0, lastSuccess: FileTime, lastAttempt: FileTime,
        lastResult: ReplicationResult = .success, replicaFlags: ReplicaFlags = [],
        sourceDSAObjectGUID: ObjectGUID? = nil, sourceInvocationID: ObjectGUID? = nil, sourceAddress: String? = nil
    ) {
        self.version = version
        self.consecutiveFailures = consecutiveFailures
        self.lastSuccess = lastSuccess
        self.lastAttempt = lastAttempt
        self.lastResult = lastResult
        self.replicaFlags = replicaFlags
        self.sourceDSAObjectGUID = sourceDSAObjectGUID
        self.sourceInvocationID = sourceInvocationID
        self.sourceAddress = sourceAddress
    }

    /// The fixed part of a version 1 value: header (8), the counters, times and offsets (40),
    /// the schedule (84), a reserved word, the USN vector (24) and three GUIDs (48).
    static let fixedSizeV1 = 208
    /// Version 2 adds one 64-bit field.
    static let fixedSizeV2 = 216

    /// Decodes one repsFrom value; `source` names where it came from (`dc02.corp.example repsFrom`).
    ///
    /// Throws `DirectoryError.Code.malformedReplicaLink` when the value is shorter than its fixed
    /// part or than its own size field, has another version, or its other-DRA offset and size point
    /// outside it.
    public init(repsFrom bytes: [UInt8], source: String) throws(DirectoryError) {
        var reader = LittleEndianReader(bytes: bytes, source: source, code: .malformedReplicaLink)
        guard bytes.count >= 8 else { throw reader.error("repsFrom is \(bytes.count) bytes, shorter than its header") }
        let version = try reader.u32()
        let fixed: Int
        switch version {
        case 1: fixed = Self.fixedSizeV1
        case 2: fixed = Self.fixedSizeV2
        default: throw reader.error("repsFrom has version \(version); versions 1 and 2 are defined")
        }
        guard bytes.count >= fixed else {
            throw reader.error(
                "repsFrom version \(version) is \(bytes.count) bytes, shorter than its \(fixed)-byte fixed part")
        }
        _ = try reader.u32()
        let size = Int(try reader.u32())
        guard size >= fixed, size <= bytes.count else {
            throw reader.error(
                "repsFrom says it is \(size) bytes; the value is \(bytes.count) and its fixed part \(fixed)")
        }
        let failures = try reader.u32()
        let lastSuccess = try reader.u64Time(field: "time of last success")
        let lastAttempt = try reader.u64Time(field: "time of last attempt")
        let result = ReplicationResult(code: try reader.u32())
        let otherOffset = Int(try reader.u32())
        let otherSize = Int(try reader.u32())
        let flags = ReplicaFlags(rawValue: try reader.u32())
        _ = try reader.take(84 + 4 + 24)
        let dsa = try reader.guid()
        let invocation = try reader.guid()
        var address: String?
        if otherSize > 0 || otherOffset > 0 {
            guard otherOffset >= fixed, otherSize <= size - otherOffset else {
                throw reader.error(
                    "repsFrom's other-DRA part (offset \(otherOffset), \(otherSize) bytes) lies outside its \(size) bytes"
                )
            }
            let other = Array(bytes[otherOffset..<(otherOffset + otherSize)])
            address = try version == 1 ? Self.addressV1(other, reader) : Self.addressV2(other, reader)
        }
        self.init(
            version: version, consecutiveFailures: failures, lastSuccess: lastSuccess, lastAttempt: lastAttempt,
            lastResult: result, replicaFlags: flags, sourceDSAObjectGUID: dsa, sourceInvocationID: invocation,
            sourceAddress: address)
    }

    /// repsFromTo1OtherInfo: `u32 size (name + NUL) | name | NUL`.
    private static func addressV1(_ other: [UInt8], _ parent: LittleEndianReader) throws(DirectoryError) -> String? {
        var reader = LittleEndianReader(bytes: other, source: parent.source, code: parent.code)
        let length = Int(try reader.u32())
        guard length <= other.count - 4 else {
            throw parent.error("repsFrom's DNS name says \(length) bytes; its part holds \(other.count - 4)")
        }
        return name(Array(try reader.take(length)))
    }

    /// repsFromTo2OtherInfo: `u32 size | u32 offset of dns_name1 | u32 | u32 offset of dns_name2 |
    /// u64`, the offsets counted from its own start, each name NUL-terminated.
    private static func addressV2(_ other: [UInt8], _ parent: LittleEndianReader) throws(DirectoryError) -> String? {
        var reader = LittleEndianReader(bytes: other, source: parent.source, code: parent.code)
        _ = try reader.u32()
        let offset = Int(try reader.u32())
        guard offset > 0 else { return nil }
        guard offset < other.count else {
            throw parent.error("repsFrom's DNS name offset \(offset) lies outside its \(other.count)-byte part")
        }
        return name(Array(other[offset...]))
    }

    /// The text up to the first NUL; nil when empty.
    private static func name(_ bytes: [UInt8]) -> String? {
        let text = bytes.prefix { $0 != 0 }
        return text.isEmpty ? nil : String(decoding: text, as: UTF8.self)
    }

    /// The partner has never replicated successfully to this DC.
    public var neverSucceeded: Bool { lastSuccess.isNever }
}

/// ulReplicaFlags of a REPS_FROM: the DRS_OPTIONS bits (MS-DRSR 5.39; Samba drsuapi.idl `drsuapi_DrsOptions`) a replica link carries.
public struct ReplicaFlags: OptionSet, Sendable, Equatable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// DRS_WRIT_REP: a writable replica.
    public static let writable = ReplicaFlags(rawValue: 0x10)
    /// DRS_INIT_SYNC: replicate when the DC starts.
    public static let syncOnStartup = ReplicaFlags(rawValue: 0x20)
    /// DRS_PER_SYNC: replicate on the schedule.
    public static let periodicSync = ReplicaFlags(rawValue: 0x40)
    /// DRS_TWOWAY_SYNC.
    public static let twoWaySync = ReplicaFlags(rawValue: 0x200)
    /// DRS_FULL_SYNC_IN_PROGRESS.
    public static let fullSyncInProgress = ReplicaFlags(rawValue: 0x1_0000)
    /// DRS_NEVER_SYNCED: this link has never completed a replication.
    public static let neverSynced = ReplicaFlags(rawValue: 0x20_0000)
    /// DRS_DISABLE_AUTO_SYNC: change notifications do not trigger a pull.
    public static let disableAutoSync = ReplicaFlags(rawValue: 0x400_0000)
    /// DRS_DISABLE_PERIODIC_SYNC: the schedule does not trigger a pull.
    public static let disablePeriodicSync = ReplicaFlags(rawValue: 0x800_0000)
    /// DRS_NEVER_NOTIFY: the source does not send change notifications (inter-site links).
    public static let neverNotify = ReplicaFlags(rawValue: 0x2000_0000)
}
