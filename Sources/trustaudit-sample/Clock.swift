import Directory

/// Time as AD writes it, computed with integers only (Directory's `UTCTime`) so the output never
/// depends on the host's time zone, locale or Foundation version.
///
/// The calendar is the reader's own `UTCTime`, unlike the base64 in `LDIFWriter`: no audit reads a
/// date back out of GeneralizedTime and compares it with what the generator meant, so a shared bug
/// here could not hide a reader bug.
enum Clock {
    /// A FILETIME (100 ns ticks since 1601) for Unix seconds plus a sub-second part.
    static func fileTime(unixSeconds: Int64, subTicks: Int64 = 0) -> Int64 {
        UTCTime.fileTime(unixSeconds: unixSeconds, subTicks: subTicks).ticks
    }

    /// Parses `2026-11-24T00:00:00Z` (UTC only, which is all `--now` accepts), from 1970 on.
    static func parseISO8601(_ text: String) -> Int64? {
        guard let seconds = UTCTime.unixSeconds(iso8601: text), seconds >= 0 else { return nil }
        return seconds
    }
}
