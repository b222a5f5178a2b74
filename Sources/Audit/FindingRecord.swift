/// One finding as `FindingSpill` writes it: a 4-byte length, then the fields, strings as UTF-8
/// with a 4-byte length, integers little-endian.
///
/// The remediation is written as text: rendering it once here is what each report would otherwise
/// do again. Only this process reads the file back, so the layout has no version.
enum FindingRecord {
    static func encode(_ finding: Finding, into bytes: inout [UInt8]) {
        let start = bytes.count
        RecordFields.append(UInt32(0), to: &bytes)
        bytes.append(UInt8(finding.severity.rank))
        RecordFields.append(finding.rule, to: &bytes)
        RecordFields.append(finding.account, to: &bytes)
        if let dn = finding.distinguishedName {
            RecordFields.append(dn, to: &bytes)
        } else {
            RecordFields.append(RecordFields.absent, to: &bytes)
        }
        RecordFields.append(finding.message, to: &bytes)
        RecordFields.append(finding.remediation, to: &bytes)
        RecordFields.append(UInt32(finding.details.count), to: &bytes)
        for (key, value) in finding.details {
            RecordFields.append(key, to: &bytes)
            switch value {
            case .string(let text):
                bytes.append(0)
                RecordFields.append(text, to: &bytes)
            case .integer(let number):
                bytes.append(1)
                RecordFields.append(UInt64(bitPattern: number), to: &bytes)
            case .bool(let flag):
                bytes.append(2)
                bytes.append(flag ? 1 : 0)
            case .strings(let texts):
                bytes.append(3)
                RecordFields.append(UInt32(texts.count), to: &bytes)
                for text in texts { RecordFields.append(text, to: &bytes) }
            case .null:
                bytes.append(4)
            }
        }
        let length = UInt32(bytes.count - start - 4)
        for shift in 0..<4 { bytes[start + shift] = UInt8(truncatingIfNeeded: length >> (8 * shift)) }
    }

    /// The length a record's first four bytes give.
    static func length(_ prefix: ArraySlice<UInt8>) -> Int {
        var reader = RecordFields.Reader(bytes: prefix)
        return Int(reader.uint32())
    }

    /// A record's fields (without its length prefix), as `encode` wrote them.
    static func decode(_ record: ArraySlice<UInt8>) -> Finding {
        var reader = RecordFields.Reader(bytes: record)
        let severity = Severity.allCases[Int(reader.byte())]
        let rule = reader.string()
        let account = reader.string()
        let dn = reader.optionalString()
        let message = reader.string()
        let remediation = reader.string()
        var details: [(key: String, value: DetailValue)] = []
        let detailCount = Int(reader.uint32())
        details.reserveCapacity(detailCount)
        for _ in 0..<detailCount {
            let key = reader.string()
            let value: DetailValue
            switch reader.byte() {
            case 0: value = .string(reader.string())
            case 1: value = .integer(Int64(bitPattern: reader.uint64()))
            case 2: value = .bool(reader.byte() != 0)
            case 3: value = .strings((0..<Int(reader.uint32())).map { _ in reader.string() })
            default: value = .null
            }
            details.append((key, value))
        }
        return Finding(
            rule: rule, severity: severity, account: account, distinguishedName: dn, message: message,
            remediation: remediation, details: details)
    }
}

/// The fields of a record only this process reads back, so with no version: integers
/// little-endian, strings as UTF-8 after a 4-byte length (`absent` for none). `FindingRecord` and
/// the rules' `SpilledRecords` are written with it.
enum RecordFields {
    static let absent = UInt32.max

    static func append(_ value: UInt32, to bytes: inout [UInt8]) {
        for shift in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * shift))) }
    }

    static func append(_ value: UInt64, to bytes: inout [UInt8]) {
        for shift in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * shift))) }
    }

    static func append(_ text: some StringProtocol, to bytes: inout [UInt8]) {
        append(UInt32(text.utf8.count), to: &bytes)
        bytes.append(contentsOf: text.utf8)
    }

    struct Reader {
        let bytes: ArraySlice<UInt8>
        var index: Int

        init(bytes: ArraySlice<UInt8>) {
            self.bytes = bytes
            index = bytes.startIndex
        }

        mutating func byte() -> UInt8 {
            defer { index += 1 }
            return bytes[index]
        }

        mutating func uint32() -> UInt32 {
            var value: UInt32 = 0
            for shift in 0..<4 { value |= UInt32(bytes[index + shift]) << (8 * shift) }
            index += 4
            return value
        }

        mutating func uint64() -> UInt64 {
            var value: UInt64 = 0
            for shift in 0..<8 { value |= UInt64(bytes[index + shift]) << (8 * shift) }
            index += 8
            return value
        }

        mutating func string() -> String {
            let count = Int(uint32())
            defer { index += count }
            return String(decoding: bytes[index..<index + count], as: UTF8.self)
        }

        mutating func bytes(_ count: Int) -> ArraySlice<UInt8> {
            defer { index += count }
            return bytes[index..<index + count]
        }

        mutating func optionalString() -> String? {
            let count = uint32()
            guard count != RecordFields.absent else { return nil }
            defer { index += Int(count) }
            return String(decoding: bytes[index..<index + Int(count)], as: UTF8.self)
        }
    }
}
