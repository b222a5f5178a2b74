import Audit

/// The report's charts, drawn as inline SVG so the page stays one self-contained file.
///
/// Drawn in Swift, not in the template: the geometry is arithmetic a template language should not do,
/// and every label is escaped here, which is why the result may be emitted raw (`TemplateValue.html`).
/// Outlook's desktop client does not render SVG; the report shows the same numbers in tables beside
/// each chart, which also serve screen readers.
enum SVGChart {
    static let barColor = "#2f5d8a"
    static let mutedColor = "#6b7280"
    static let markColor = "#b3261e"
    static let textColor = "#1a1a1a"

    /// One horizontal bar per label, longest bar for the largest value.
    static func horizontalBars(title: String, bars: [(label: String, value: Int)], width: Int = 640) -> String {
        let labelWidth = 190
        let rowHeight = 26
        let barArea = width - labelWidth - 70
        let height = bars.count * rowHeight + 8
        let largest = max(1, bars.map(\.value).max() ?? 0)
        var svg = open(title: title, width: width, height: height)
        for (row, bar) in bars.enumerated() {
            let y = 4 + row * rowHeight
            let length = bar.value == 0 ? 0 : max(2, bar.value * barArea / largest)
            svg +=
                "<text x=\"\(labelWidth - 8)\" y=\"\(y + 17)\" text-anchor=\"end\" font-size=\"13\" fill=\"\(textColor)\">\(HTML.escape(bar.label))</text>"
            svg += "<rect x=\"\(labelWidth)\" y=\"\(y + 3)\" width=\"\(length)\" height=\"18\" fill=\"\(barColor)\"/>"
            svg +=
                "<text x=\"\(labelWidth + length + 6)\" y=\"\(y + 17)\" font-size=\"13\" fill=\"\(textColor)\">\(bar.value)</text>"
        }
        return svg + "</svg>"
    }

    /// Vertical bars per age bucket, then "never" and "future" set apart in grey, with a dashed line
    /// where `thresholdDays` falls (interpolated inside its bucket, whose widths are not uniform).
    static func histogram(
        title: String, histogram: AgeHistogram, thresholdDays: Int, thresholdLabel: String, width: Int = 640
    ) -> String {
        let bounds = AgeHistogram.bucketBounds
        var columns = histogram.counts.enumerated().map {
            (label: AgeHistogram.label(ofBucket: $0.offset), value: $0.element, muted: false)
        }
        columns.append((label: "never", value: histogram.never, muted: true))
        columns.append((label: "future", value: histogram.future, muted: true))
        if histogram.notATime > 0 { columns.append((label: "not a time", value: histogram.notATime, muted: true)) }
        if histogram.notInExport > 0 {
            columns.append((label: "not exported", value: histogram.notInExport, muted: true))
        }
        let left = 10
        let gap = 16  // between the age buckets and never/future
        let columnWidth = (width - 2 * left - gap) / columns.count
        let top = 28
        let plotHeight = 140
        let baseline = top + plotHeight
        let height = baseline + 44
        let largest = max(1, columns.map(\.value).max() ?? 0)
        var svg = open(title: title, width: width, height: height)
        for (index, column) in columns.enumerated() {
            let x = left + index * columnWidth + (column.muted ? gap : 0)
            let barHeight = column.value == 0 ? 0 : max(2, column.value * plotHeight / largest)
            let center = x + columnWidth / 2
            svg +=
                "<rect x=\"\(x + 4)\" y=\"\(baseline - barHeight)\" width=\"\(columnWidth - 8)\" height=\"\(barHeight)\" fill=\"\(column.muted ? mutedColor : barColor)\"/>"
            svg +=
                "<text x=\"\(center)\" y=\"\(baseline - barHeight - 5)\" text-anchor=\"middle\" font-size=\"12\" fill=\"\(textColor)\">\(column.value)</text>"
            svg +=
                "<text x=\"\(center)\" y=\"\(baseline + 18)\" text-anchor=\"middle\" font-size=\"12\" fill=\"\(textColor)\">\(HTML.escape(column.label))</text>"
        }
        svg +=
            "<line x1=\"\(left)\" y1=\"\(baseline)\" x2=\"\(width - left)\" y2=\"\(baseline)\" stroke=\"\(mutedColor)\" stroke-width=\"1\"/>"
        svg += "<text x=\"\(left)\" y=\"\(baseline + 38)\" font-size=\"12\" fill=\"\(textColor)\">days</text>"

        var bucket = bounds.count - 1
        while bucket > 0 && thresholdDays < bounds[bucket] { bucket -= 1 }
        var offset = 0
        if bucket + 1 < bounds.count {
            offset = (thresholdDays - bounds[bucket]) * columnWidth / (bounds[bucket + 1] - bounds[bucket])
        }
        let markX = left + bucket * columnWidth + max(0, offset)
        svg +=
            "<line x1=\"\(markX)\" y1=\"\(top - 10)\" x2=\"\(markX)\" y2=\"\(baseline)\" stroke=\"\(markColor)\" stroke-width=\"2\" stroke-dasharray=\"5,3\"/>"
        let anchor = markX > width / 2 ? "end" : "start"
        let labelX = anchor == "end" ? markX - 4 : markX + 4
        svg +=
            "<text x=\"\(labelX)\" y=\"\(top - 12)\" text-anchor=\"\(anchor)\" font-size=\"12\" fill=\"\(markColor)\">\(HTML.escape(thresholdLabel))</text>"
        return svg + "</svg>"
    }

    /// Fill colours of the trend's severities, darkest for the most severe, in the hues of the
    /// report's badges; the table beside the chart carries the same numbers for anyone who cannot
    /// tell them apart.
    static func severityColor(_ severity: Severity) -> String {
        switch severity {
        case .critical: return "#7f1d1d"
        case .high: return "#c2410c"
        case .medium: return "#ca8a04"
        case .low: return "#0369a1"
        case .info: return "#64748b"
        }
    }

    /// One stacked bar per night, a segment per severity (critical at the bottom), the night's total
    /// above it and its label below; a legend on top. Each segment carries a `<title>` with its night
    /// and count, which a browser shows on hover and a screen reader reads.
    ///
    /// Segment heights come from rounded cumulative sums, so a bar's segments add up to its total's
    /// height exactly. With many nights the labels thin out to one in every few, the totals go.
    static func stackedBars(
        title: String, columns: [(label: String, title: String, counts: [(severity: Severity, count: Int)])],
        width: Int = 640
    ) -> String {
        let left = 44
        let right = 10
        let top = 40
        let plotHeight = 160
        let baseline = top + plotHeight
        let height = baseline + 30
        let plotWidth = width - left - right
        let slot = columns.isEmpty ? plotWidth : plotWidth / columns.count
        let barWidth = max(1, min(48, slot * 7 / 10))
        let totals = columns.map { $0.counts.reduce(0) { $0 + $1.count } }
        let largest = max(1, totals.max() ?? 0)
        let labelEvery = max(1, Int((Double(columns.count) * 64 / Double(plotWidth)).rounded(.up)))
        let showsTotals = slot >= 28

        var svg = open(title: title, width: width, height: height)
        // Legend: most severe first, as every table of the report lists them.
        var x = left
        for severity in Severity.allCases.reversed() {
            svg += "<rect x=\"\(x)\" y=\"6\" width=\"12\" height=\"12\" fill=\"\(severityColor(severity))\"/>"
            svg +=
                "<text x=\"\(x + 16)\" y=\"17\" font-size=\"12\" fill=\"\(textColor)\">\(severity.rawValue)</text>"
            x += 16 + severity.rawValue.count * 7 + 18
        }
        // The scale: 0 at the baseline, the largest total at the top.
        svg +=
            "<line x1=\"\(left)\" y1=\"\(top)\" x2=\"\(width - right)\" y2=\"\(top)\" stroke=\"#d0d7de\" stroke-width=\"1\" stroke-dasharray=\"3,3\"/>"
        svg +=
            "<text x=\"\(left - 6)\" y=\"\(top + 4)\" text-anchor=\"end\" font-size=\"12\" fill=\"\(textColor)\">\(largest)</text>"
        svg +=
            "<text x=\"\(left - 6)\" y=\"\(baseline + 4)\" text-anchor=\"end\" font-size=\"12\" fill=\"\(textColor)\">0</text>"
        for (index, column) in columns.enumerated() {
            let center = left + index * slot + slot / 2
            let barX = center - barWidth / 2
            var cumulative = 0
            var previousTop = baseline
            for (severity, count) in column.counts where count > 0 {
                cumulative += count
                let segmentTop = baseline - Int((Double(cumulative * plotHeight) / Double(largest)).rounded())
                svg +=
                    "<rect x=\"\(barX)\" y=\"\(segmentTop)\" width=\"\(barWidth)\" height=\"\(previousTop - segmentTop)\" fill=\"\(severityColor(severity))\">"
                    + "<title>\(HTML.escape(column.title)): \(count) \(severity.rawValue)</title></rect>"
                previousTop = segmentTop
            }
            if showsTotals {
                svg +=
                    "<text x=\"\(center)\" y=\"\(previousTop - 5)\" text-anchor=\"middle\" font-size=\"12\" fill=\"\(textColor)\">\(totals[index])</text>"
            }
            // Thinned from the newest night back, so tonight is always labelled.
            if (columns.count - 1 - index) % labelEvery == 0 {
                svg +=
                    "<text x=\"\(center)\" y=\"\(baseline + 18)\" text-anchor=\"middle\" font-size=\"12\" fill=\"\(textColor)\">\(HTML.escape(column.label))</text>"
            }
        }
        svg +=
            "<line x1=\"\(left)\" y1=\"\(baseline)\" x2=\"\(width - right)\" y2=\"\(baseline)\" stroke=\"\(mutedColor)\" stroke-width=\"1\"/>"
        return svg + "</svg>"
    }

    private static func open(title: String, width: Int, height: Int) -> String {
        let escaped = HTML.escape(title)
        return
            "<svg role=\"img\" aria-label=\"\(escaped)\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\" style=\"max-width:100%;height:auto;font-family:Segoe UI,Arial,sans-serif\"><title>\(escaped)</title>"
    }
}
