import XCTest
import Spectral

/// Reference product in Double with the elementwise bound scale (|op(A)|·|op(B)|)ᵢⱼ. The operands are copied to flat
/// Double buffers first, so the triple loop runs on concrete types (fast in unoptimized test builds too).
func referenceGemm<T: SpectralScalar>(_ a: MatrixView<T>, _ b: MatrixView<T>) -> (value: [[Double]], scale: [[Double]]) {
    let (m, k, n) = (a.rows, a.cols, b.cols)
    var av = [Double](repeating: 0, count: m * k), bv = [Double](repeating: 0, count: k * n)
    for i in 0..<m { for p in 0..<k { av[i * k + p] = a[i, p].double } }
    for p in 0..<k { for j in 0..<n { bv[p * n + j] = b[p, j].double } }
    var v = [Double](repeating: 0, count: m * n), s = v
    av.withUnsafeBufferPointer { ap in bv.withUnsafeBufferPointer { bp in
        v.withUnsafeMutableBufferPointer { vp in s.withUnsafeMutableBufferPointer { sp in
            var i = 0
            while i < m {
                var p = 0
                while p < k {
                    let x = ap[i * k + p]
                    if x != 0 {
                        var j = 0
                        while j < n { let y = x * bp[p * n + j]; vp[i * n + j] += y; sp[i * n + j] += Swift.abs(y); j += 1 }
                    }
                    p += 1
                }
                i += 1
            }
        } }
    } }
    return ((0..<m).map { Array(v[($0 * n)..<($0 * n + n)]) }, (0..<m).map { Array(s[($0 * n)..<($0 * n + n)]) })
}

/// Asserts |cᵢⱼ − refᵢⱼ| ≤ bound·scaleᵢⱼ + tiny for every element: the standard inner-product error bound.
func assertWithinBound<T: SpectralScalar>(_ c: Matrix<T>, _ ref: [[Double]], _ scale: [[Double]], _ bound: Double,
                                          _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line) {
    var worst = 0.0, wi = 0, wj = 0
    for i in 0..<c.rows {
        for j in 0..<c.cols {
            let err = abs(c[i, j].double - ref[i][j])
            let allowed = bound * scale[i][j] + Double(T.leastNormalMagnitude)
            if err / allowed > worst { worst = err / allowed; wi = i; wj = j }
        }
    }
    XCTAssertLessThanOrEqual(worst, 1.0, "element (\(wi), \(wj)) exceeds the error bound by \(worst)× \(message())", file: file, line: line)
}

/// The standard bound γ for an inner product of length k in T, doubled when the Double reference itself rounds.
func gemmBound<T: SpectralScalar>(_: T.Type, k: Int) -> Double {
    let eps = T.eps.double / 2                       // unit roundoff
    let ref = T.self == Double.self ? 2.0 : 1.0      // the Double reference has the same bound
    return ref * Double(k + 3) * eps
}

extension Matrix {
    /// A copy in Double.
    var asDouble: Matrix<Double> { Matrix<Double>(rows: rows, cols: cols) { self[$0, $1].double } }
}

// MARK: debug builds

/// True when the tests run unoptimized (`swift test` without `-c release`, Xcode's Debug scheme). Spectral's
/// kernels then run scalar code (Sources/Spectral/Kernels/DebugKernels.swift), 20–40× slower than the optimized
/// build; the problem sizes below shrink there, and only where a size buys speed coverage, not correctness coverage:
/// every assertion runs in both builds, on inputs that take the same code paths.
#if DEBUG
let isDebugBuild = true
#else
let isDebugBuild = false
#endif

/// A problem size: `release` in optimized builds, `debug` in unoptimized ones.
func sized(_ release: Int, debug: Int) -> Int { isDebugBuild ? debug : release }

/// The size from which the SVD's Jacobi phase runs the block method (Spectral's internal `blockJacobiMinimum`, 320,
/// lowered to 96 in unoptimized builds; InternalsTests checks that the two agree). Block-path tests size their
/// inputs from it.
let blockMinimum = isDebugBuild ? 96 : 320
