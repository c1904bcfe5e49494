/// Elementwise arithmetic. Operators that combine two matrices throw `SpectralError.shapeMismatch` on different
/// shapes (`try a + b`); non-finite values propagate as IEEE 754 says.
extension Matrix {
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func zipped(_ other: Matrix, _ name: String, _ op: (T, T) -> T) throws -> Matrix {
        guard rows == other.rows, cols == other.cols else {
            throw SpectralError.shapeMismatch("\(name): \(shapeString(rows, cols)) and \(shapeString(other.rows, other.cols))")
        }
        var r = Matrix(rows: rows, cols: cols)
        let a = storage.pointer, b = other.storage.pointer, n = count
        r.withUnsafeMutablePointer { p, _ in for i in 0..<n { p[i] = op(a[i], b[i]) } }
        return r
    }

    /// A copy with `transform` applied to each element.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func map(_ transform: (T) throws -> T) rethrows -> Matrix {
        var r = Matrix(rows: rows, cols: cols)
        let a = storage.pointer, n = count
        try r.withUnsafeMutablePointer { p, _ in for i in 0..<n { p[i] = try transform(a[i]) } }
        return r
    }

    /// Elementwise sum. - Throws: `SpectralError.shapeMismatch` when the shapes differ.
    public static func + (a: Matrix, b: Matrix) throws -> Matrix { try a.zipped(b, "add") { $0 + $1 } }
    /// Elementwise difference. - Throws: `SpectralError.shapeMismatch` when the shapes differ.
    public static func - (a: Matrix, b: Matrix) throws -> Matrix { try a.zipped(b, "subtract") { $0 - $1 } }
    /// Elementwise (Hadamard) product.
    public func hadamard(_ b: Matrix) throws -> Matrix { try zipped(b, "hadamard") { $0 * $1 } }
    /// Elementwise quotient.
    public func dividedElementwise(by b: Matrix) throws -> Matrix { try zipped(b, "divide") { $0 / $1 } }
    /// Elementwise negation.
    public static prefix func - (a: Matrix) -> Matrix { a.map { -$0 } }
    /// Every element times the scalar `s`.
    public static func * (a: Matrix, s: T) -> Matrix { a.map { $0 * s } }
    /// Every element times the scalar `s`.
    public static func * (s: T, a: Matrix) -> Matrix { a.map { s * $0 } }
    /// Every element divided by the scalar `s` (IEEE 754: division by zero gives ±∞ or NaN).
    public static func / (a: Matrix, s: T) -> Matrix { a.map { $0 / s } }

    /// Scales every element by `s` in place.
    public mutating func scale(by s: T) {
        let n = count
        withUnsafeMutablePointer { p, _ in for i in 0..<n { p[i] *= s } }
    }

    /// True when every element is finite (no NaN, no ±Inf).
    public var isFinite: Bool { allFinite }
}

extension MatrixViewable {
    /// True when no element is NaN or ±Inf (the vectorised pass of `requireFinite`).
    var allFinite: Bool {
        let v = view
        return withExtendedLifetime(v.storage) { firstNonFinite(v.rows, v.cols, v.strided) == nil }
    }

    /// The largest |aᵢⱼ|, after the same check as `requireFinite` — one pass for both when the input is finite
    /// (a NaN or ±Inf makes the largest entry non-finite, and only then is the offending position looked up).
    func finiteMaxAbs(_ what: String) throws -> Scalar {
        let big = maxAbs
        if !big.isFinite { try requireFinite(what) }
        return big
    }

    /// Throws `SpectralError.nonFinite` naming `what` and the first offending position if any element is NaN or ±Inf.
    /// The validation helper every algorithm that needs finite input calls first.
    public func requireFinite(_ what: String = "input") throws {
        let v = view
        let bad = withExtendedLifetime(v.storage) { firstNonFinite(v.rows, v.cols, v.strided) }
        if let (i, j) = bad {
            throw SpectralError.nonFinite("\(what) (\(shapeString(v.rows, v.cols))) has \(v[i, j]) at (\(i), \(j))")
        }
    }
}

/// The first (row-major order) position holding NaN or ±Inf, if any. Specialised: it runs on every input.
@_specialize(where T == Float)
@_specialize(where T == Double)
@usableFromInline
func firstNonFinite<T: SpectralScalar>(_ m: Int, _ n: Int, _ a: StridedPointer<T>) -> (Int, Int)? {
    // x − x is 0 for finite x and NaN otherwise: a branch-free vectorised pass along the contiguous direction,
    // then, only if something was found, a scalar pass to locate it.
    func clean(_ p: UnsafePointer<T>, _ len: Int) -> Bool {
        typealias V = T.KernelVector
        let w = V.scalarCount
        var s0 = V(), s1 = V(), k = 0
        let raw = UnsafeRawPointer(p), vb = w &* MemoryLayout<T>.stride
        while k &+ 2 &* w <= len {
            let o = k &* MemoryLayout<T>.stride
            let x = raw.loadUnaligned(fromByteOffset: o, as: V.self), y = raw.loadUnaligned(fromByteOffset: o &+ vb, as: V.self)
            s0 += x - x; s1 += y - y
            k &+= 2 &* w
        }
        var acc = horizontalSum(s0 + s1)
        while k < len { acc += p[k] - p[k]; k &+= 1 }
        return acc == 0
    }
    func locate() -> (Int, Int)? {
        for i in 0..<m { for j in 0..<n where !a[i, j].isFinite { return (i, j) } }
        return nil
    }
    if m == 0 || n == 0 { return nil }
    if a.colStride == 1 {
        for i in 0..<m where !clean(a.at(i, 0), n) { return locate() }
        return nil
    }
    if a.rowStride == 1 {
        for j in 0..<n where !clean(a.at(0, j), m) { return locate() }
        return nil
    }
    var acc: T = 0
    for i in 0..<m { for j in 0..<n { acc += a[i, j] - a[i, j] } }
    return acc == 0 ? nil : locate()
}

/// The BLAS layer's overflow rule (Docs/RELIABILITY.md): non-finite inputs propagate as IEEE 754 says, but when
/// every input is finite and the output is not, the exact result left the type's range and the call throws
/// `.overflow` naming the operation. Only the output is scanned on the normal path; the inputs are scanned only
/// when the output holds a non-finite value. `inputsFinite` answers for everything the call read.
func requireNoBLASOverflow<T: SpectralScalar>(_ op: String, output: MatrixView<T>, inputsFinite: () -> Bool) throws {
    if output.allFinite || !inputsFinite() { return }
    throw SpectralError.overflow("\(op): finite inputs give a result beyond \(T.self)'s range (the output holds ±inf or NaN)")
}
