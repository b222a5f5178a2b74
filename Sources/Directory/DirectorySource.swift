/// Where directory objects come from: an LDIF export or a live domain controller.
///
/// A source pushes entries to a closure instead of returning an array so that a domain of a
/// million computers never has to sit in memory at once.
public protocol DirectorySource {
    /// A short description of where the data came from, for the reports ("corp.ldif", "ldaps://dc01").
    var description: String { get }
    /// Calls `body` once per entry, in the source's order. Throws `DirectoryError` (or a source-specific
    /// error) when the source cannot be read; entries already delivered stay delivered.
    func forEachEntry(_ body: (DirectoryEntry) throws -> Void) throws
}
