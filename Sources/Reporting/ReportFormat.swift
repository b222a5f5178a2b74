/// The report files TrustAudit can write; the raw values are the `--format` names.
///
/// `allCases` is the order reports are written and returned in: the machine-readable JSON first.
public enum ReportFormat: String, Sendable, CaseIterable, Hashable {
    case json, csv, html

    /// The file name inside the output directory; fixed so that scripts and mail jobs can find it.
    public var fileName: String {
        switch self {
        case .json: return "findings.json"
        case .csv: return "findings.csv"
        case .html: return "report.html"
        }
    }
}
