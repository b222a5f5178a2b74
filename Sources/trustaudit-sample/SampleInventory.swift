import Codecs

/// Writes an inventory as a CMDB export looks: most machines, written every which way (short name,
/// FQDN, other case, stray spaces), a few names that have no account, comments and blank lines.
extension SampleDomain {
    /// Returns how many names were written and how many of them have no account.
    func writeInventory(to writer: LDIFWriter) -> (names: Int, withoutAccount: Int) {
        var random = SplitMix64(seed: seed, index: -1, stream: 9)
        var names = 0
        var withoutAccount = 0
        let domain = String(decoding: dnsName, as: UTF8.self)
        writer.put(Array("# CMDB export: managed machines in \(domain)".utf8))
        writer.endUnfoldedLine()
        writer.put("# one name per line; owner notes after the name are the CMDB's")
        writer.endUnfoldedLine()
        writer.endUnfoldedLine()

        func emit(_ name: [UInt8], _ random: inout SplitMix64) {
            let form = random.below(100)
            switch form {
            case ..<55: writer.put(name)
            case ..<67: writer.put(ASCII.lowercased(name))
            case ..<82:
                writer.put(ASCII.lowercased(name))
                writer.put(UInt8(ascii: "."))
                writer.put(dnsName)
            case ..<87:
                writer.put(name)
                writer.put(UInt8(ascii: "."))
                writer.put(ASCII.uppercased(dnsName))
            case ..<94:
                writer.put(name)
                writer.put("   ")
            default:
                writer.put("  ")
                writer.put(name)
            }
            writer.endUnfoldedLine()
        }

        var plan = ComputerPlan()
        var missingNumber = computers
        for index in 0..<computers {
            self.plan(index, into: &plan, resolvingClones: false)
            if index == firstRandomIndex {
                writer.put("# workstations and member servers")
                writer.endUnfoldedLine()
            }
            // Most machines are listed; a few accounts (lab leftovers) are not in the CMDB.
            if random.chance(perMille: 970) {
                if plan.commonName != plan.name {
                    writer.put(plan.commonName)  // the CMDB knows it by its display name
                    writer.endUnfoldedLine()
                } else {
                    emit(plan.name, &random)
                }
                names += 1
            }
            if index % 100 == 57 {
                // About 1%: a machine the CMDB still lists but whose account was deleted.
                missingNumber += 1 + random.below(7)
                var digits = Array(String(missingNumber).utf8)
                while digits.count < numberWidth { digits.insert(UInt8(ascii: "0"), at: 0) }
                emit(Array((random.chance(perMille: 500) ? "WKS-" : "LT-").utf8) + digits, &random)
                names += 1
                withoutAccount += 1
            }
            if random.chance(perMille: 8) { writer.endUnfoldedLine() }
        }
        writer.endUnfoldedLine()
        writer.put("# retired in 2025, kept for the asset register")
        writer.endUnfoldedLine()
        writer.put("  WKS-9999 (retired?)")
        writer.endUnfoldedLine()
        names += 1
        withoutAccount += 1
        writer.flush()
        return (names, withoutAccount)
    }
}
