import Foundation
import Spectral

/// Writes the benchmark plots into `dir` and returns their paths:
/// - gemm_threadsN.svg: GEMM GFLOP/s vs size for f32 and f64, Spectral and the peer, against N × the measured
///   one-core FMA peak (from this run's gemm cases; skipped when none ran);
/// - msign_schedules.svg: the scalar map σ ↦ f(σ) of every published Newton–Schulz schedule at its default step
///   count, on a log σ axis;
/// - attention_entropy.svg: mean attention entropy vs the number of keys n for each scale, with log n;
/// - topk_METHOD.svg: each smooth top-k construction's outputs on x = [3, 2, 1, 4, 0.5, 2.5] (k = 2) vs τ.
func writeBenchPlots(records: [BenchRecord], dir: String, peak: (f32: Double, f64: Double), quick: Bool) throws -> [String] {
    var paths: [String] = []
    let gemms = records.filter { $0.c.op == "gemm" && $0.c.shape[0] == $0.c.shape[1] && $0.c.shape[1] == $0.c.shape[2] }
    for t in Set(gemms.map(\.c.threads)).sorted() {
        var chart = LineChart(title: "GEMM C = A·B, \(t) thread\(t == 1 ? "" : "s")", xLabel: "n (m = n = k)", yLabel: "GFLOP/s",
                              xLog: true, xBase: 2)
        let maxN = Double(gemms.map { $0.c.shape[0] }.max() ?? 1), minN = Double(gemms.map { $0.c.shape[0] }.min() ?? 1)
        for d in ["f32", "f64"] {
            let rs = gemms.filter { $0.c.threads == t && $0.c.dtype == d }.sorted { $0.c.shape[0] < $1.c.shape[0] }
            if rs.isEmpty { continue }
            chart.series.append(.init(name: "Spectral \(d)", points: rs.map { (Double($0.c.shape[0]), $0.gflops) }))
            let peers = rs.compactMap { r in r.peerGflops.map { (Double(r.c.shape[0]), $0) } }
            if !peers.isEmpty { chart.series.append(.init(name: "numpy \(d)", points: peers, dashed: true)) }
            let pk = (d == "f32" ? peak.f32 : peak.f64) * Double(t)
            chart.series.append(.init(name: "peak \(d) (\(Int(pk)))", points: [(minN, pk), (maxN, pk)], dashed: true, markers: false))
        }
        paths.append(try writeTextFile(chart.svg(), dir: dir, name: "gemm_threads\(t).svg"))
    }

    // msign: the composite scalar polynomial of each schedule.
    var ms = LineChart(title: "Newton–Schulz schedules: f(σ) after the default steps", xLabel: "σ (of X₀ = M/‖M‖_F)",
                       yLabel: "f(σ)", xLog: true, yRange: 0...1.3)
    let grid = (0...240).map { pow(10, -4 + Double($0) / 60) }
    for sch in NewtonSchulzSchedule.all {
        let steps = sch.defaultSteps
        ms.series.append(.init(name: "\(sch.name) (\(steps))", points: try grid.map { ($0, try sch.composite($0, steps: steps)) }, markers: false))
    }
    paths.append(try writeTextFile(ms.svg(height: 520), dir: dir, name: "msign_schedules.svg"))

    // Attention entropy vs n.
    let ns = quick ? [16, 64, 256, 1024] : [16, 32, 64, 128, 256, 512, 1024, 2048, 4096]
    let scales: [(String, AttentionScale)] = [("standard", .standard), ("entropy-invariant", .entropyInvariant()),
                                             ("SSMax s = 0.3", .ssmax(s: 0.3)), ("YaRN scale 4", .yarn(scale: 4))]
    var ent = LineChart(title: "Attention entropy vs keys (d = 64, Gaussian Q, K; causal off)", xLabel: "n (keys = queries)",
                        yLabel: "mean entropy (nats)", xLog: true, xBase: 2)
    for (name, scale) in scales {
        var pts: [(Double, Double)] = []
        for n in ns {
            let q = Matrix<Float>.randomNormal(rows: n, cols: 64, seed: 5), k = Matrix<Float>.randomNormal(rows: n, cols: 64, seed: 6)
            let v = Matrix<Float>(rows: n, cols: 1)
            let r = try attention(q, k, v, scale: scale)
            pts.append((Double(n), r.entropy.reduce(0.0) { $0 + Double($1) } / Double(n)))
        }
        ent.series.append(.init(name: name, points: pts))
    }
    ent.series.append(.init(name: "log n (uniform)", points: ns.map { (Double($0), log(Double($0))) }, dashed: true, markers: false))
    paths.append(try writeTextFile(ent.svg(), dir: dir, name: "attention_entropy.svg"))

    // Smooth top-k outputs vs τ.
    let x = [3.0, 2, 1, 4, 0.5, 2.5]
    let taus = (0...120).map { pow(10, -2 + Double($0) / 40) }
    for method in [TopKMethod.gradTopK, .threExp, .threSigmoid, .threSmooth, .threClip] {
        var chart = LineChart(title: "\(method.rawValue): p(τ) for x = [3, 2, 1, 4, 0.5, 2.5], k = 2", xLabel: "temperature τ",
                              yLabel: "pᵢ", xLog: true, yRange: 0...1)
        var columns = [[(Double, Double)]](repeating: [], count: x.count)
        for tau in taus {
            let p = try smoothTopK(x, k: 2, temperature: tau, method: method)
            for i in 0..<x.count { columns[i].append((tau, p[i])) }
        }
        for i in 0..<x.count { chart.series.append(.init(name: "x = \(x[i] == x[i].rounded() ? String(Int(x[i])) : String(x[i]))", points: columns[i], markers: false)) }
        paths.append(try writeTextFile(chart.svg(), dir: dir, name: "topk_\(method.rawValue).svg"))
    }
    return paths
}
