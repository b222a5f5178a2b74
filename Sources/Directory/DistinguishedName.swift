import Codecs

/// Helpers for distinguished names as AD writes them (`CN=PC01,OU=Workstations,DC=corp,DC=example`).
///
/// A full RFC 4514 parser is not needed: TrustAudit only splits a DN into RDNs (honouring `\,`
/// escapes), derives the domain's DNS name from its DC= components, and tests OU containment.
public enum DistinguishedName {
    /// Splits at unescaped commas; each element is one RDN with surrounding spaces trimmed.
    public static func relativeNames(of dn: String) -> [Substring] {
        var result: [Substring] = []
        var start = dn.startIndex
        var index = dn.startIndex
        var escaped = false
        while index < dn.endIndex {
            let character = dn[index]
            if escaped {
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == "," {
                result.append(trimmed(dn[start..<index]))
                start = dn.index(after: index)
            }
            index = dn.index(after: index)
        }
        if start < dn.endIndex || !result.isEmpty { result.append(trimmed(dn[start..<dn.endIndex])) }
        return result
    }

    /// `DC=corp,DC=example` becomes `corp.example`; nil when the DN has no DC= components.
    ///
    /// Every rule asks this of every object (fix commands name the object's own domain), so an
    /// ASCII DN is read bytewise, without splitting it into RDNs; others take `slowDomainDNSName`.
    public static func domainDNSName(of dn: String) -> String? {
        var dn = dn
        let fast = dn.withUTF8 { bytes -> String?? in
            var labels: [UInt8] = []
            var start = 0
            var escaped = false
            func rdn(_ from: Int, _ to: Int) {
                var first = from
                var last = to
                while first < last && bytes[first] == UInt8(ascii: " ") { first += 1 }
                while last > first && bytes[last - 1] == UInt8(ascii: " ")
                    && !(last - 2 >= first && bytes[last - 2] == UInt8(ascii: "\\"))
                {
                    last -= 1
                }
                guard last - first > 3, bytes[first] | 0x20 == UInt8(ascii: "d"),
                    bytes[first + 1] | 0x20 == UInt8(ascii: "c"),
                    bytes[first + 2] == UInt8(ascii: "=")
                else { return }
                if !labels.isEmpty { labels.append(UInt8(ascii: ".")) }
                for index in (first + 3)..<last { labels.append(ASCII.lowercased(bytes[index])) }
            }
            for index in 0..<bytes.count {
                let byte = bytes[index]
                if byte >= 0x80 { return .none }
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: ",") {
                    rdn(start, index)
                    start = index + 1
                }
            }
            if start < bytes.count || start > 0 { rdn(start, bytes.count) }
            return .some(labels.isEmpty ? nil : String(decoding: labels, as: UTF8.self))
        }
        if let fast { return fast }
        return slowDomainDNSName(of: dn)
    }

    /// `domainDNSName(of:)` for any DN, with Unicode case folding.
    static func slowDomainDNSName(of dn: String) -> String? {
        let labels = relativeNames(of: dn).compactMap { rdn -> Substring? in
            guard rdn.count > 3, rdn.prefix(3).lowercased() == "dc=" else { return nil }
            return rdn.dropFirst(3)
        }
        return labels.isEmpty ? nil : labels.joined(separator: ".").lowercased()
    }

    /// A canonical form for comparison: RDNs trimmed and lower-cased, joined by commas.
    public static func normalized(_ dn: String) -> String {
        relativeNames(of: dn).map { rdn in
            // "OU = Lab" and "ou=Lab" are the same RDN.
            if let equals = rdn.firstIndex(of: "=") {
                return trimmed(rdn[..<equals]).lowercased() + "="
                    + trimmed(rdn[rdn.index(after: equals)...]).lowercased()
            }
            return rdn.lowercased()
        }.joined(separator: ",")
    }

    /// True when `dn` is `container` itself or lies anywhere below it. Both must be normalized.
    public static func isNormalized(_ dn: String, within container: String) -> Bool {
        dn == container || dn.hasSuffix("," + container)
    }

    private static func trimmed(_ text: Substring) -> Substring {
        var text = text
        while text.first == " " { text = text.dropFirst() }
        // A trailing space escaped with a backslash belongs to the value.
        while text.last == " ", !text.dropLast().hasSuffix("\\") { text = text.dropLast() }
        return text
    }
}
