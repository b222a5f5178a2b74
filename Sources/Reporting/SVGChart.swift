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

    private static func open(title: String, width: Int, height: Int) -> String {
        let escaped = HTML.escape(title)
        return
            "<svg role=\"img\" aria-label=\"\(escaped)\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\" style=\"max-width:100%;height:auto;font-family:Segoe UI,Arial,sans-serif\"><title>\(escaped)</title>"
    }
}
