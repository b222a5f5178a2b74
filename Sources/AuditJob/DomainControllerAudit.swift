import Audit
import Directory
import Dispatch
import Foundation
import LDAPSource

/// Which domain controllers a live audit reads.
public enum DomainControllerSelection: Sendable, Equatable {
    /// The one DC the URI names: the audit as it always was.
    case first
    /// Every DC of the domain, found from the server objects under CN=Sites.
    case all
    /// These DCs of the domain, by DNS name or first label (`dc01`, `dc02.corp.example`).
    case named([String])
}

/// A `--dcs` selection that cannot be met: a named DC that is not one of the domain's.
public struct DomainControllerSelectionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The names asked for that match no DC.
    public var unknown: [String]
    /// The DCs the domain has, by host name.
    public var known: [String]
    public var domain: String?

    public var description: String {
        let names = unknown.map { "'\($0)'" }.joined(separator: ", ")
        let domain = domain.map { " of \($0)" } ?? ""
        let known = known.isEmpty ? "none was found" : "its DCs are " + known.joined(separator: ", ")
        return
            "\(names) \(unknown.count == 1 ? "is not a domain controller" : "are not domain controllers")\(domain) (\(known), from the server objects under CN=Sites)"
    }
}

/// Several DCs could not be read while every one was required (`requireAllDomainControllers`).
public struct DomainControllersUnavailable: Error, Sendable, CustomStringConvertible {
    public var failed: [DomainControllerReading]

    public var description: String {
        let list = failed.map { reading -> String in
            if case .failed(let reason) = reading.outcome { return "\(reading.domainController.hostName): \(reason)" }
            return reading.domainController.hostName
        }
        return "every domain controller was required, and \(failed.count) could not be read: "
            + list.joined(separator: "; ")
    }
}

extension AuditJob {
    /// How many DCs are read at once: each is a connection and a thread, and most of a DC's time
    /// is the network's, so more than the cores, but bounded for a domain of hundreds of DCs.
    static let concurrentDomainControllers = 8

    /// A multi-DC audit: the first DC (the URI) is bound and asked for the domain's DCs, each
    /// selected DC is asked for its clock and repsFrom (in parallel), then every DC that answered
    /// is read at once through one `MergedSource`, so each account reaches the rules with every
    /// DC's view of it. A DC that cannot be read is named in the summary and a warning, and the
    /// rules that compare DCs say which they could not compare; with `requireAllDomainControllers`
    /// it stops the run before any report is replaced.
    func readDomainControllers(
        _ ldapSettings: LDAPSourceSettings, computerSink: ComputerFactsSink?, _ warn: (AuditJobWarning) -> Void
    ) throws -> AuditResult {
        let first = LDAPDirectorySource(settings: ldapSettings)
        let metadata = try first.readMetadata()
        let discovered = try first.discoverDomainControllers()
        let selected = try Self.select(
            settings.domainControllers, from: discovered.domainControllers, domain: metadata.domain)

        let readings = Self.readEach(selected, settings: ldapSettings)
        let failed = readings.filter { !$0.answered }
        if (settings.requireAllDomainControllers || failed.count == readings.count) && !failed.isEmpty {
            throw DomainControllersUnavailable(failed: failed)
        }
        for reading in failed {
            if case .failed(let reason) = reading.outcome {
                warn(.domainControllerNotRead(host: reading.domainController.hostName, reason: reason))
            }
        }
        for reading in readings {
            guard let time = reading.currentTime, let askedAt = reading.askedAt else { continue }
            let skew = time.timeIntervalSince(askedAt)
            if abs(skew) > Self.kerberosClockSkewTolerance {
                warn(.clockSkew(source: reading.domainController.hostName, seconds: skew))
            }
        }

        let answered = readings.filter(\.answered)
        let sources: [any DirectorySource] = try answered.map {
            try LDAPDirectorySource.forDomainController($0.domainController, settings: ldapSettings)
        }
        let names = answered.map(\.domainController.hostName)
        // One DC, the one the audit was pointed at (else the first that answered), is read in full:
        // its view is what the rules judge. The others are asked only for what DCs are compared by,
        // which is most of the cost of a second DC saved (see `SourceRequest.domainControllerComparison`).
        let firstHost = metadata.domainControllerHostName?.lowercased()
        let fullOrigin = names.firstIndex { $0.lowercased() == firstHost } ?? 0
        let comparisonOnly = Set(names.indices.filter { $0 != fullOrigin })
        var runner = AuditRunner(
            configuration: settings.configuration, now: settings.now, sources: names, inventory: settings.inventory,
            domain: metadata.domain, domainController: metadata.domainControllerHostName, computerSink: computerSink,
            domainControllers: readings, comparisonOnlyOrigins: comparisonOnly,
            spillFindingsAfter: settings.findingsPerSpilledRun)
        if let time = metadata.currentTime { runner.recordClockSkew(seconds: time.timeIntervalSince(Date())) }
        try MergedSource(sources, maximumConcurrentSources: Self.concurrentDomainControllers).forEachBatch(
            requests: names.indices.map {
                comparisonOnly.contains($0) ? .domainControllerComparison : .domainControllerView
            }
        ) { batch in
            for entry in batch.entries { runner.add(entry, origin: batch.origin) }
        }
        try readFullViews(runner.accountsWithoutFullView, from: sources, into: &runner)
        // Deleted objects are the same on every DC that replicates: read them from the first DC, as
        // the view of that DC (or of the first one that answered).
        let deletedObjects =
            answered.isEmpty ? nil : try readDeletedObjects(from: first, into: &runner, origin: fullOrigin)
        var result = runner.finish()
        result.summary.deletedObjects =
            deletedObjects ?? (result.summary.deletedComputers > 0 ? .visible(recycleBin: nil) : .notRequested)
        result.summary.domainControllerReadings = readings
        return result
    }

    /// Reads again, with every audited attribute, the accounts that only comparison-only DCs gave
    /// (created on one DC and not yet replicated to the one read in full), from the DC that gave
    /// each, a few dozen per search; usually there are none.
    func readFullViews(
        _ accounts: [(origin: Int, account: DirectoryObject)], from sources: [any DirectorySource],
        into runner: inout AuditRunner
    ) throws {
        let perSearch = 50
        for (origin, group) in Dictionary(grouping: accounts, by: \.origin).sorted(by: { $0.key < $1.key }) {
            let objects = group.map(\.account)
            for start in stride(from: 0, to: objects.count, by: perSearch) {
                let request = SourceRequest.domainControllerView(
                    of: Array(objects[start..<min(start + perSearch, objects.count)]))
                try sources[origin].forEachEntry(request) { runner.completeView($0, origin: origin) }
            }
        }
    }

    /// A forest audit: the Global Catalog (every object of the forest, for SPN uniqueness) and,
    /// for each domain, one writable DC of it that answers, read at once through one
    /// `MergedSource`. Each account is then seen by the Global Catalog and by its own domain's
    /// DC, whose view (with pwdLastSet, which the Global Catalog does not hold) the single-source
    /// rules read. A domain none of whose DCs answers is a warning; its accounts keep the Global
    /// Catalog's view, which stale-password cannot judge.
    func readForest(
        _ ldapSettings: LDAPSourceSettings, computerSink: ComputerFactsSink?, _ warn: (AuditJobWarning) -> Void
    ) throws -> AuditResult {
        let catalog = LDAPDirectorySource(settings: ldapSettings)
        let metadata = try catalog.readMetadata()
        let domains = try catalog.discoverForestDomains()
        var sources: [any DirectorySource] = [catalog]
        var names = [metadata.name]
        for domain in domains {
            var chosen: DomainController?
            var reasons: [String] = []
            for candidate in domain.domainControllers where !candidate.isReadOnly {
                let reading = DomainControllerReader.read(candidate, settings: ldapSettings)
                if reading.answered {
                    chosen = candidate
                    break
                }
                if case .failed(let reason) = reading.outcome { reasons.append("\(candidate.hostName): \(reason)") }
            }
            guard let chosen else {
                warn(
                    .domainControllerNotRead(
                        host: domain.dnsName,
                        reason: reasons.isEmpty
                            ? "no writable DC of this domain was found under CN=Sites"
                            : "no DC of this domain answered (" + reasons.joined(separator: "; ") + ")"))
                continue
            }
            sources.append(try LDAPDirectorySource.forDomainController(chosen, settings: ldapSettings))
            names.append(chosen.hostName)
        }
        var runner = AuditRunner(
            configuration: settings.configuration, now: settings.now, sources: names, inventory: settings.inventory,
            domain: metadata.domain, domainController: metadata.domainControllerHostName, computerSink: computerSink,
            spillFindingsAfter: settings.findingsPerSpilledRun)
        if let time = metadata.currentTime {
            let skew = time.timeIntervalSince(Date())
            runner.recordClockSkew(seconds: skew)
            if abs(skew) > Self.kerberosClockSkewTolerance { warn(.clockSkew(source: metadata.name, seconds: skew)) }
        }
        try MergedSource(sources, maximumConcurrentSources: Self.concurrentDomainControllers).forEachBatch(.audit) {
            batch in
            for entry in batch.entries { runner.add(entry, origin: batch.origin) }
        }
        // Deleted objects as the single-source audit reads them: from the Global Catalog's connection.
        let deletedObjects = try readDeletedObjects(from: catalog, into: &runner, origin: 0)
        var result = runner.finish()
        result.summary.deletedObjects =
            deletedObjects ?? (result.summary.deletedComputers > 0 ? .visible(recycleBin: nil) : .notRequested)
        return result
    }

    /// The DCs `selection` names among `domainControllers`, in the domain's order (by host name).
    static func select(
        _ selection: DomainControllerSelection, from domainControllers: [DomainController], domain: String?
    ) throws -> [DomainController] {
        switch selection {
        case .first, .all:
            guard !domainControllers.isEmpty else {
                throw DomainControllerSelectionError(unknown: ["all"], known: [], domain: domain)
            }
            return domainControllers
        case .named(let names):
            func matches(_ name: String, _ domainController: DomainController) -> Bool {
                let wanted = name.lowercased()
                let host = domainController.hostName.lowercased()
                return host == wanted || host.split(separator: ".").first.map(String.init) == wanted
            }
            let unknown = names.filter { name in !domainControllers.contains { matches(name, $0) } }
            guard unknown.isEmpty else {
                throw DomainControllerSelectionError(
                    unknown: unknown, known: domainControllers.map(\.hostName), domain: domain)
            }
            return domainControllers.filter { domainController in names.contains { matches($0, domainController) } }
        }
    }

    /// Each DC's reading, at most `concurrentDomainControllers` at once, in the order given.
    static func readEach(_ domainControllers: [DomainController], settings: LDAPSourceSettings)
        -> [DomainControllerReading]
    {
        let results = ReadingSlots(count: domainControllers.count)
        let limit = DispatchSemaphore(value: concurrentDomainControllers)
        let group = DispatchGroup()
        for (index, domainController) in domainControllers.enumerated() {
            limit.wait()
            group.enter()
            let thread = Thread {
                results.set(index, DomainControllerReader.read(domainController, settings: settings))
                limit.signal()
                group.leave()
            }
            thread.stackSize = 1 << 22
            thread.start()
        }
        group.wait()
        return results.all
    }
}

/// The readings as they come back from their threads, by index.
private final class ReadingSlots: @unchecked Sendable {
    private var slots: [DomainControllerReading?]
    private let lock = NSLock()

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ reading: DomainControllerReading) {
        lock.lock()
        slots[index] = reading
        lock.unlock()
    }

    var all: [DomainControllerReading] {
        lock.lock()
        defer { lock.unlock() }
        return slots.compactMap { $0 }
    }
}
