/// A matrix stored in IEEE 754 binary16 (half precision): 2 bytes an element, 11 significant bits, normal range
/// 6.1e-5 to 65504. Spectral computes in Float and stores in half: this is the storage type of `newtonSchulz(_:)`
/// for half-precision gradients (Muon practice). Elements are kept as bit patterns, so the type exists on every
/// platform (Swift's `Float16` is unavailable on x86-64 macOS); conversions round to nearest, ties to even.
///
/// ```swift
/// let g = Matrix<Float>.randomNormal(rows: 256, cols: 1024, seed: 1)
/// let h = try HalfMatrix(g)                       // rounded to half
/// let x = try newtonSchulz(h, schedule: .polarExpress, steps: 8)
/// let back = x.float                               // Matrix<Float>, exact widening
/// ```
public struct HalfMatrix: Sendable, Equatable {
    /// Number of rows.
    public let rows: Int
    /// Number of columns.
    public let cols: Int
    /// The elements' binary16 bit patterns, row-major.
    public private(set) var bits: [UInt16]

    /// A half-precision copy of `m`, each element rounded to nearest (ties to even).
    /// - Throws: `.nonFinite` when an element is NaN or infinite, `.overflow` when one rounds beyond ±65504.
    public init(_ m: Matrix<Float>) throws {
        rows = m.rows; cols = m.cols
        bits = m.elements.map(halfBits)
        if let i = bits.firstIndex(where: { $0 & 0x7C00 == 0x7C00 }) {
            let v = m.elements[i]
            if !v.isFinite { throw SpectralError.nonFinite("HalfMatrix: element (\(i / Swift.max(cols, 1)), \(i % Swift.max(cols, 1))) is \(v)") }
            throw SpectralError.overflow("HalfMatrix: element (\(i / cols), \(i % cols)) = \(v) is beyond half precision's ±65504")
        }
    }

    /// A matrix from row-major binary16 bit patterns (as read from a '<f2' .npy file).
    /// - Throws: `.shapeMismatch` when rows·cols ≠ bits.count or a size is negative.
    public init(rows: Int, cols: Int, bits: [UInt16]) throws {
        guard rows >= 0, cols >= 0, rows.multipliedReportingOverflow(by: cols) == (bits.count, false) else {
            throw SpectralError.shapeMismatch("HalfMatrix: \(shapeString(rows, cols)) does not hold \(bits.count) values")
        }
        self.rows = rows; self.cols = cols; self.bits = bits
    }

    /// The values widened to Float (exact).
    public var float: Matrix<Float> {
        var m = Matrix<Float>(uninitializedRows: rows, cols: cols)
        m.withUnsafeMutablePointer { p, _ in for i in 0..<bits.count { p[i] = Float16Bits(bits[i]) } }
        return m
    }
}

/// Float → binary16 bits, rounded to nearest with ties to even (IEEE 754's default), without `Float16`: the exact
/// scalings by powers of two and `rounded(.toNearestOrEven)` of an integer-valued significand. Beyond 65520 (the
/// midpoint above 65504) gives ±∞; NaN gives a quiet NaN.
func halfBits(_ f: Float) -> UInt16 {
    let sign: UInt16 = f.sign == .minus ? 0x8000 : 0
    let a = Swift.abs(f)
    if a.isNaN { return 0x7E00 }
    if a >= 65520 { return sign | 0x7C00 }
    if a < 0x1p-14 {
        // Subnormal (or zero): multiples of 2⁻²⁴; 1024 of them is the smallest normal, whose bits are 0x0400.
        return sign | UInt16((a * 0x1p24).rounded(.toNearestOrEven))
    }
    var e = Int(a.exponent)
    var q = (a.significand * 1024).rounded(.toNearestOrEven)           // 1024...2048
    if q == 2048 { q = 1024; e += 1 }
    return sign | UInt16(e + 15) << 10 | UInt16(q - 1024)
}

/// msign of a half-precision matrix by Newton–Schulz with half-precision storage: X lives in binary16 between steps
/// (rounded after every step, as a half-precision training loop keeps it), while each step's products run in Float
/// (`syrk` and `gemm` accumulate in Float), with the same schedules, starts and preconditioner as the Float routine.
/// The plain form runs (`options.gram` is not used: the Gram form keeps X in Float between restarts, which is not
/// half storage).
///
/// Accuracy: each stored X carries a relative rounding of at most 2⁻¹¹ per element, so the output's singular values
/// differ from the Float run's by about 2⁻¹¹·‖X‖ per step that does not contract it (tests: within 4·2⁻¹¹·√p on
/// Gaussian inputs); Docs/MSIGN.md lists the measured band and speed. Entries of X₀ = M/‖M‖_F below 6.1e-5 are
/// subnormal in half and keep fewer bits.
/// - Throws: as `newtonSchulz` on `Matrix<Float>`; `.overflow` if an iterate leaves half's range.
public func newtonSchulz(_ m: HalfMatrix, schedule: NewtonSchulzSchedule = .jordan, steps: Int? = nil,
                         options: NewtonSchulzOptions = .default, threads: Int? = nil) throws -> HalfMatrix {
    let (inputScale, normalization, precondition) = (options.inputScale, options.normalization, options.precondition)
    let t = try newtonSchulzSteps(steps, schedule: schedule, inputScale: inputScale)
    let nt = try resolveThreads(threads)
    let wide = m.rows <= m.cols
    let f = m.float
    var x = wide ? f : f.transposed.copy()
    try x.view.requireFinite("newtonSchulz: M")
    let start = NewtonSchulzStart(normalization: normalization, precondition: precondition)
    // Step 0 normalises (in Float, as the Float routine) and takes the first step; X is then rounded to half after
    // each step, so every step reads the half-precision iterate.
    var ws = NewtonSchulzWorkspace<Float>(p: x.rows, q: x.cols)
    for s in 0..<Swift.max(t, 1) {
        let one = try NewtonSchulzSchedule(name: schedule.name, provenance: schedule.provenance, rows: [schedule.coefficients(step: s)])
        if s == 0 {
            try newtonSchulzInPlace(&x, schedule: one, steps: t == 0 ? 0 : 1, inputScale: Float(inputScale), start: start,
                                    threads: nt, workspace: &ws)
        } else {
            try newtonSchulzSteps(&x, schedule: one, steps: 1, start: .plain, gramRestarts: nil, threads: nt, workspace: &ws)
        }
        let count = x.count
        x.withUnsafeMutablePointer { p, _ in roundToHalf(p, count) }
        if !x.isFinite {
            throw SpectralError.overflow("newtonSchulz: the half-precision iteration left binary16's range at step \(s + 1)")
        }
    }
    return try HalfMatrix(wide ? x : x.transposed.copy())
}

/// Rounds each value to the nearest binary16 value (ties to even), in place: through the standard library's
/// `Float16` where it exists (one `vcvtps2ph`/`vcvtph2ps` pair per 8 values with F16C), else bit by bit.
func roundToHalf(_ p: UnsafeMutablePointer<Float>, _ count: Int) {
    #if !(os(macOS) && arch(x86_64))
    var i = 0
    while i + 8 <= count {
        let v = UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
        UnsafeMutableRawPointer(p + i).storeBytes(of: SIMD8<Float>(SIMD8<Float16>(v)), as: SIMD8<Float>.self)
        i += 8
    }
    while i < count { p[i] = Float(Float16(p[i])); i += 1 }
    #else
    for i in 0..<count { p[i] = Float16Bits(halfBits(p[i])) }
    #endif
}
