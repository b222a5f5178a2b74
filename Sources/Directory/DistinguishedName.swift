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
    public static func domainDNSName(of dn: String) -> String? {
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
