import Foundation
import Spectral

/// A line chart written as a standalone SVG file (no dependencies): linear or logarithmic axes, a legend,
/// solid or dashed series. Used by `spectral bench --plot`.
struct LineChart {
    struct Series {
        var name: String
        var points: [(x: Double, y: Double)]
        var dashed = false
        var markers = true
    }
    var title: String
    var xLabel: String
    var yLabel: String
    var xLog = false
    var yLog = false
    /// Log axes: tick at every power of this base (10, or 2 for matrix sizes).
    var xBase = 10.0
    var yRange: ClosedRange<Double>? = nil
    var series: [Series] = []

    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
                          "#7f7f7f", "#bcbd22", "#393b79", "#637939"]

    func svg(width: Double = 760, height: Double = 460) -> String {
        let left = 70.0, right = 230.0, top = 40.0, bottom = 55.0
        let pw = width - left - right, ph = height - top - bottom
        let pts = series.flatMap(\.points).filter { $0.x.isFinite && $0.y.isFinite && (!xLog || $0.x > 0) && (!yLog || $0.y > 0) }
        func tx(_ v: Double) -> Double { xLog ? log(v) / log(xBase) : v }
        func ty(_ v: Double) -> Double { yLog ? log10(v) : v }
        var x0 = pts.map { tx($0.x) }.min() ?? 0, x1 = pts.map { tx($0.x) }.max() ?? 1
        var y0 = pts.map { ty($0.y) }.min() ?? 0, y1 = pts.map { ty($0.y) }.max() ?? 1
        if let r = yRange { y0 = ty(r.lowerBound); y1 = ty(r.upperBound) }
        if xLog { x0 = x0.rounded(.down); x1 = x1.rounded(.up) }
        if yLog { y0 = y0.rounded(.down); y1 = y1.rounded(.up) } else if yRange == nil { y0 = Swift.min(0, y0); y1 += (y1 - y0) * 0.05 }
        if x1 <= x0 { x1 = x0 + 1 }
        if y1 <= y0 { y1 = y0 + 1 }
        func px(_ v: Double) -> Double { left + (tx(v) - x0) / (x1 - x0) * pw }
        func py(_ v: Double) -> Double { top + ph - (ty(Swift.min(Swift.max(v, yLog ? pow(10, y0) : y0), yLog ? pow(10, y1) : y1)) - y0) / (y1 - y0) * ph }
        var s = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(f(width))" height="\(f(height))" viewBox="0 0 \(f(width)) \(f(height))" font-family="Helvetica, Arial, sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(f(left + pw / 2))" y="22" text-anchor="middle" font-size="15" font-weight="bold">\(escape(title))</text>

        """
        // Grid and ticks.
        var xTicks: [Double] = [], yTicks: [Double] = []
        if xLog { for e in Int(x0)...Int(x1) { xTicks.append(pow(xBase, Double(e))) } } else { xTicks = niceTicks(x0, x1) }
        if yLog { for e in Int(y0)...Int(y1) { yTicks.append(pow(10, Double(e))) } } else { yTicks = niceTicks(y0, y1) }
        for v in xTicks {
            let x = px(v)
            s += "<line x1=\"\(f(x))\" y1=\"\(f(top))\" x2=\"\(f(x))\" y2=\"\(f(top + ph))\" stroke=\"#e0e0e0\"/>\n"
            s += "<text x=\"\(f(x))\" y=\"\(f(top + ph + 16))\" text-anchor=\"middle\">\(tickLabel(v, log: xLog))</text>\n"
        }
        for v in yTicks {
            let y = py(v)
            s += "<line x1=\"\(f(left))\" y1=\"\(f(y))\" x2=\"\(f(left + pw))\" y2=\"\(f(y))\" stroke=\"#e0e0e0\"/>\n"
            s += "<text x=\"\(f(left - 6))\" y=\"\(f(y + 4))\" text-anchor=\"end\">\(tickLabel(v, log: yLog))</text>\n"
        }
        s += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(pw))\" height=\"\(f(ph))\" fill=\"none\" stroke=\"#333\"/>\n"
        s += "<text x=\"\(f(left + pw / 2))\" y=\"\(f(height - 14))\" text-anchor=\"middle\">\(escape(xLabel))</text>\n"
        s += "<text transform=\"translate(18 \(f(top + ph / 2))) rotate(-90)\" text-anchor=\"middle\">\(escape(yLabel))</text>\n"
        // Series and legend.
        for (i, se) in series.enumerated() {
            let color = LineChart.palette[i % LineChart.palette.count]
            let p = se.points.filter { $0.x.isFinite && $0.y.isFinite && (!xLog || $0.x > 0) && (!yLog || $0.y > 0) }
            if p.count > 1 {
                let d = p.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
                s += "<polyline points=\"\(d)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"\(se.dashed ? " stroke-dasharray=\"6 4\"" : "")/>\n"
            }
            if se.markers { for q in p { s += "<circle cx=\"\(f(px(q.x)))\" cy=\"\(f(py(q.y)))\" r=\"3\" fill=\"\(color)\"/>\n" } }
            let ly = top + 10 + Double(i) * 18
            s += "<line x1=\"\(f(left + pw + 12))\" y1=\"\(f(ly))\" x2=\"\(f(left + pw + 36))\" y2=\"\(f(ly))\" stroke=\"\(color)\" stroke-width=\"2\"\(se.dashed ? " stroke-dasharray=\"6 4\"" : "")/>\n"
            s += "<text x=\"\(f(left + pw + 42))\" y=\"\(f(ly + 4))\">\(escape(se.name))</text>\n"
        }
        return s + "</svg>\n"
    }

    private func f(_ v: Double) -> String { String(format: "%.1f", v) }
    private func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
    private func tickLabel(_ v: Double, log: Bool) -> String {
        if log && xBase == 2 && v >= 1 && v == v.rounded() { return String(Int(v)) }
        if v == 0 { return "0" }
        if abs(v) >= 1e5 || abs(v) < 1e-3 { return String(format: "%.0e", v) }
        return v == v.rounded() ? String(Int(v)) : String(format: "%g", v)
    }
    private func niceTicks(_ lo: Double, _ hi: Double) -> [Double] {
        let raw = (hi - lo) / 6
        let mag = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 2.5, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? raw
        var v = ceil(lo / step) * step, out: [Double] = []
        while v <= hi + step * 1e-9 { out.append(abs(v) < step * 1e-9 ? 0 : v); v += step }
        return out
    }
}

/// Writes `text` to DIR/NAME atomically; returns the path.
@discardableResult
func writeTextFile(_ text: String, dir: String, name: String) throws -> String {
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let path = (dir as NSString).appendingPathComponent(name)
    do { try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic) } catch { throw SpectralError.io("cannot write \(path)") }
    return path
}
