import XCTest
import Spectral

/// Reference product in Double with the elementwise bound scale (|op(A)|·|op(B)|)ᵢⱼ.
func referenceGemm<T: SpectralScalar>(_ a: MatrixView<T>, _ b: MatrixView<T>) -> (value: [[Double]], scale: [[Double]]) {
    var v = [[Double]](repeating: [Double](repeating: 0, count: b.cols), count: a.rows)
    var s = v
    for i in 0..<a.rows {
        for p in 0..<a.cols {
            let x = a[i, p].double
            if x == 0 { continue }
            for j in 0..<b.cols { let y = b[p, j].double; v[i][j] += x * y; s[i][j] += abs(x * y) }
        }
    }
    return (v, s)
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
