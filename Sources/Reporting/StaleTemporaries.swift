import Audit
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

extension ReportWriter {
    /// Every file name a report of ours can have in the output directory: the three formats,
    /// computers.csv and one `<rule>.csv` per rule TrustAudit knows.
    public static var reportFileNames: Set<String> {
        var names = Set(ReportFormat.allCases.map(\.fileName))
        names.insert(FindingsCSV.fileName)
        names.insert(ComputersCSV.fileName)
        for id in AuditRules.ids {
            if let name = RuleCSV.fileName(for: id) { names.insert(name) }
        }
        return names
    }

    /// The report name and process of a hidden `.NAME.tmp-PID` or `.NAME.old-PID`; nil for any
    /// other name, including a PID with a sign, leading zeros or more digits than a pid_t holds.
    static func temporaryName(_ name: String) -> (fileName: String, pid: pid_t)? {
        guard name.hasPrefix(".") else { return nil }
        for marker in [".tmp-", ".old-"] {
            guard let range = name.range(of: marker, options: .backwards), range.lowerBound > name.startIndex
            else { continue }
            let fileName = String(name[name.index(after: name.startIndex)..<range.lowerBound])
            let digits = name[range.upperBound...]
            guard !fileName.isEmpty, (1...10).contains(digits.count), digits.first != "0",
                digits.allSatisfy({ $0.isASCII && $0.isNumber }), let pid = pid_t(digits), pid > 0
            else { continue }
            return (fileName, pid)
        }
        return nil
    }

    /// Whether a process with this PID exists. EPERM (someone else's process) counts as alive:
    /// only ESRCH proves the writer of a temporary is gone.
    static func isAlive(_ pid: pid_t) -> Bool {
        if pid == getpid() { return true }
        return kill(pid, 0) == 0 || errno != ESRCH
    }

    /// Deletes the temporaries and backups that dead runs left in `directory` and its `history/`,
    /// and returns them.
    ///
    /// A run killed by SIGKILL, an out-of-memory kill or a power cut cannot clean up after itself,
    /// and its `.computers.csv.tmp-PID` can be gigabytes. Call it while holding the `OutputLock`, so
    /// no other run is writing here. Only our own names are touched: `.NAME.tmp-PID` or
    /// `.NAME.old-PID` where NAME is a report (`reportFileNames`) or a dated history copy and no
    /// process PID exists. Files of a live PID are left, since it may be a run of an older
    /// TrustAudit that takes no lock; so is a dead PID that was reused since (it is caught later).
    /// Best effort: a file that cannot be deleted is left for the write to report.
    @discardableResult
    public static func removeStaleTemporaries(in directory: URL) -> [URL] {
        let history = directory.appendingPathComponent(ReportHistory.directoryName, isDirectory: true)
        let reports = reportFileNames
        return removeStale(in: directory) { reports.contains($0) }
            + removeStale(in: history) { ReportHistory.date(fromFileName: $0) != nil }
    }

    private static func removeStale(in directory: URL, isOurs: (String) -> Bool) -> [URL] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return [] }
        var removed: [URL] = []
        for name in names.sorted() {
            guard let temporary = temporaryName(name), isOurs(temporary.fileName), !isAlive(temporary.pid) else {
                continue
            }
            let url = directory.appendingPathComponent(name)
            // Never follow or delete anything but a plain file, whatever its name.
            var status = stat()
            guard lstat(url.path, &status) == 0, status.st_mode & S_IFMT == S_IFREG else { continue }
            if unlink(url.path) == 0 { removed.append(url) }
        }
        return removed
    }
}
