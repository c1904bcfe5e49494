import Spectral
import Dispatch
func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) * 1e-9 }
func run<T: SpectralScalar>(_: T.Type, _ n: Int, _ th: Int) throws {
    let a = Matrix<T>.randomNormal(rows: n, cols: n, seed: 1), b = Matrix<T>.randomNormal(rows: n, cols: n, seed: 2)
    var c = Matrix<T>(rows: n, cols: n)
    var best = 1e9
    for _ in 0..<5 { let t0 = now(); try gemm(a, b, into: &c, threads: th); best = min(best, now() - t0) }
    // check a few elements
    var err = 0.0
    for (i, j) in [(0, 0), (n - 1, n - 1), (n / 2, 3)] {
        var s = 0.0; for p in 0..<n { s += a[i, p].double * b[p, j].double }
        err = max(err, abs(s - c[i, j].double))
    }
    print(T.self, n, th, 2.0 * Double(n * n * n) / best / 1e9, "GF", err)
}
for n in [64, 128, 256, 512, 1024, 2048] { try run(Float.self, n, 1) }
for n in [256, 1024, 2048] { try run(Float.self, n, 2) }
for n in [256, 1024, 2048] { try run(Double.self, n, 1) }
for n in [1024, 2048] { try run(Double.self, n, 2) }
