import Directory
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Dated copies of `findings.json` in `history/` under the output directory, pruned by age.
///
/// A copy is named after the run's `generatedAt` (`history/findings-2026-11-24T000000Z.json`, no colons
/// so the name is valid on Windows shares), and its age is read from that name, not from the file's
/// mtime: copying, restoring from backup or rsync without `-t` changes mtimes, not the name.
/// Files in `history/` whose names do not have that form are never touched.
public enum ReportHistory {
    public static let directoryName = "history"

    /// `findings-2026-11-24T000000Z.json` for a run generated at that UTC second.
    public static func fileName(for date: Date) -> String {
        "findings-" + UTCTime.timestamp(UTCTime.unixSeconds(date), colons: false) + ".json"
    }

    /// The time in a history file name; nil for any other name (including impossible dates).
    public static func date(fromFileName name: String) -> Date? {
        // findings-YYYY-MM-DDTHHMMSSZ.json, checked character by character.
        let pattern = Array("findings-####-##-##T######Z.json")
        let characters = Array(name)
        guard characters.count == pattern.count else { return nil }
        var digits: [Int] = []
        for (character, expected) in zip(characters, pattern) {
            if expected == "#" {
                guard let digit = character.wholeNumberValue, character.isASCII else { return nil }
                digits.append(digit)
            } else if character != expected {
                return nil
            }
        }
        func number(_ range: Range<Int>) -> Int { digits[range].reduce(0) { $0 * 10 + $1 } }
        // Refuses 2026-02-30 and 25:00 rather than rolling them over into another date.
        let seconds = UTCTime.unixSeconds(
            year: number(0..<4), month: number(4..<6), day: number(6..<8), hour: number(8..<10),
            minute: number(10..<12), second: number(12..<14))
        return seconds.map(UTCTime.date(unixSeconds:))
    }

    /// Copies `findingsJSON` into `directory/history/` under its dated name, then deletes dated copies
    /// more than `keepDays` days older than `generatedAt`. Returns the copy and the files deleted.
    ///
    /// The copy is a hard link where possible (the next run renames a new findings.json over the old
    /// one, so the link keeps this run's file intact), else a byte copy written to a temporary and renamed.
    @discardableResult
    public static func keep(
        _ findingsJSON: URL, generatedAt: Date, in directory: URL, keepDays: Int
    ) throws -> (copy: URL, removed: [URL]) {
        try keep(findingsJSON, generatedAt: generatedAt, in: directory, keepDays: keepDays, registry: .shared)
    }

    static func keep(
        _ findingsJSON: URL, generatedAt: Date, in directory: URL, keepDays: Int, registry: TemporaryFiles
    ) throws -> (copy: URL, removed: [URL]) {
        let history = directory.appendingPathComponent(directoryName, isDirectory: true)
        do {
            try FileManager.default.createDirectory(at: history, withIntermediateDirectories: true)
        } catch {
            throw ReportError(
                code: .outputDirectoryUnusable, path: history.path,
                reason:
                    "cannot create the history directory (\(error.localizedDescription)); check that \(directory.path) is writable"
            )
        }
        let copy = history.appendingPathComponent(fileName(for: generatedAt))
        let temporary = history.appendingPathComponent(
            ".\(copy.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)")
        unlink(temporary.path)
        // Registered before it exists, so a run stopped by a signal removes it (TemporaryFiles).
        let copyError: Error? = registry.create(temporary.path) {
            if link(findingsJSON.path, temporary.path) == 0 { return (true, nil) }
            do {
                try FileManager.default.copyItem(at: findingsJSON, to: temporary)
                return (true, nil)
            } catch {
                unlink(temporary.path)
                return (false, error)
            }
        }
        if let error = copyError {
            throw ReportError(
                code: .writeFailed, path: copy.path,
                reason:
                    "cannot copy \(findingsJSON.lastPathComponent) into the history (\(error.localizedDescription)); check that \(history.path) is writable and has free space"
            )
        }
        guard rename(temporary.path, copy.path) == 0 else {
            let reason = String(cString: strerror(errno))
            registry.remove(temporary.path)
            throw ReportError(
                code: .renameFailed, path: copy.path,
                reason: "cannot put the dated copy in place (\(reason)); check that \(history.path) is writable")
        }
        registry.unregister(temporary.path)
        let removed = try prune(history, olderThanDays: keepDays, before: generatedAt)
        return (copy, removed)
    }

    /// Deletes dated copies in `history` whose name's time lies more than `days` days before `now`.
    public static func prune(_ history: URL, olderThanDays days: Int, before now: Date) throws -> [URL] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: history.path)
        } catch {
            throw ReportError(
                code: .outputDirectoryUnusable, path: history.path,
                reason: "cannot list the history (\(error.localizedDescription))")
        }
        let cutoff = now.addingTimeInterval(-Double(days) * 86_400)
        var removed: [URL] = []
        for name in names.sorted() {
            guard let date = date(fromFileName: name), date < cutoff else { continue }
            let url = history.appendingPathComponent(name)
            guard unlink(url.path) == 0 else {
                throw ReportError(
                    code: .writeFailed, path: url.path,
                    reason:
                        "cannot delete this old history copy (\(String(cString: strerror(errno)))); check the permissions of \(history.path)"
                )
            }
            removed.append(url)
        }
        return removed
    }
}
