import Foundation

/// A small SVG line chart of training curves, written by hand (no plotting dependency).
///
/// Each series is drawn on its own panel with its own y range, e.g. the loss per step on top and
/// the accuracy per epoch below.
public enum CurvePlot {
    /// One curve: a title and `(x, y)` points.
    public struct Series: Sendable {
        /// The panel title, e.g. `loss (per step)`.
        public var title: String
        /// The points; non-finite values are skipped.
        public var points: [(x: Double, y: Double)]
        /// The stroke colour (any SVG colour).
        public var colour: String

        /// Creates a series.
        public init(title: String, points: [(x: Double, y: Double)], colour: String = "#1f77b4") {
            self.title = title
            self.points = points
            self.colour = colour
        }
    }

    /// The SVG document for `series`, one panel each, stacked vertically.
    public static func svg(_ series: [Series], width: Int = 640, panelHeight: Int = 220) -> String {
        let margin = (left: 60.0, right: 20.0, top: 28.0, bottom: 30.0)
        let height = panelHeight * max(series.count, 1)
        var out = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" \
        viewBox="0 0 \(width) \(height)" font-family="sans-serif" font-size="11">
        <rect width="100%" height="100%" fill="white"/>

        """
        for (i, s) in series.enumerated() {
            let top = Double(i * panelHeight)
            let x0 = margin.left, x1 = Double(width) - margin.right
            let y0 = top + Double(panelHeight) - margin.bottom, y1 = top + margin.top
            out += "<text x=\"\(x0)\" y=\"\(top + 16)\" font-size=\"13\">\(escape(s.title))</text>\n"
            out += "<rect x=\"\(x0)\" y=\"\(y1)\" width=\"\(x1 - x0)\" height=\"\(y0 - y1)\" fill=\"none\" stroke=\"#999\"/>\n"
            let points = s.points.filter { $0.x.isFinite && $0.y.isFinite }
            guard let first = points.first else { continue }
            var (minX, maxX, minY, maxY) = (first.x, first.x, first.y, first.y)
            for p in points {
                (minX, maxX) = (min(minX, p.x), max(maxX, p.x))
                (minY, maxY) = (min(minY, p.y), max(maxY, p.y))
            }
            if maxX == minX { maxX = minX + 1 }
            if maxY == minY { (minY, maxY) = (minY - 0.5, maxY + 0.5) }
            func px(_ x: Double) -> Double { x0 + (x - minX) / (maxX - minX) * (x1 - x0) }
            func py(_ y: Double) -> Double { y0 - (y - minY) / (maxY - minY) * (y0 - y1) }
            let coordinates = points.map { String(format: "%.1f,%.1f", px($0.x), py($0.y)) }.joined(separator: " ")
            out += "<polyline fill=\"none\" stroke=\"\(s.colour)\" stroke-width=\"1.5\" points=\"\(coordinates)\"/>\n"
            for (value, y) in [(maxY, y1), (minY, y0)] {
                out += "<text x=\"\(x0 - 4)\" y=\"\(y + 4)\" text-anchor=\"end\">\(label(value))</text>\n"
            }
            for (value, x) in [(minX, x0), (maxX, x1)] {
                out += "<text x=\"\(x)\" y=\"\(y0 + 14)\" text-anchor=\"middle\">\(label(value))</text>\n"
            }
        }
        return out + "</svg>\n"
    }

    private static func label(_ v: Double) -> String {
        v.rounded() == v && abs(v) < 1e9 ? String(Int(v)) : String(format: "%.3g", v)
    }

    private static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
    }
}
