/// A dense matrix of `Float` or `Double`, stored row-major in a 64-byte-aligned buffer, with value semantics
/// (copy-on-write).
///
/// ```swift
/// let a = Matrix<Double>(rows: [[1, 2], [3, 4]])
/// let b = Matrix<Double>.randomNormal(rows: 2, cols: 3, seed: 42)
/// let c = try matmul(a, b)            // 2×3
/// let t = a.transposed                // a view: no copy
/// print(c)                            // prints like numpy
/// ```
public struct Matrix<T: SpectralScalar>: @unchecked Sendable {
    /// Number of rows.
    public let rows: Int
    /// Number of columns.
    public let cols: Int
    @usableFromInline var storage: MatrixStorage<T>

    /// A `rows`×`cols` matrix of zeros. Throws on a negative size.
    public init(zeros rows: Int, _ cols: Int) throws {
        guard rows >= 0, cols >= 0 else {
            throw SpectralError.invalidArgument("matrix size must be non-negative, got \(shapeString(rows, cols))")
        }
        let (count, overflow) = rows.multipliedReportingOverflow(by: cols)
        guard !overflow, count <= Int.max / MemoryLayout<T>.stride else {
            throw SpectralError.invalidArgument("matrix size \(shapeString(rows, cols)) is too large")
        }
        self.rows = rows; self.cols = cols
        storage = MatrixStorage(count: count)
    }

    /// A `rows`×`cols` matrix of zeros; the sizes must be non-negative (a precondition, checked).
    public init(rows: Int, cols: Int) {
        precondition(rows >= 0 && cols >= 0, "matrix size must be non-negative, got \(shapeString(rows, cols))")
        self.rows = rows; self.cols = cols
        storage = MatrixStorage(count: rows * cols)
    }

    /// A `rows`×`cols` matrix whose elements are not set: the caller must write every one before anything reads
    /// it (internal; for outputs filled in full).
    @usableFromInline
    init(uninitializedRows rows: Int, cols: Int) {
        precondition(rows >= 0 && cols >= 0, "matrix size must be non-negative, got \(shapeString(rows, cols))")
        self.rows = rows; self.cols = cols
        storage = MatrixStorage(uninitializedCount: rows * cols)
    }

    /// A matrix whose element (i, j) is `body(i, j)`.
    public init(rows: Int, cols: Int, _ body: (Int, Int) throws -> T) rethrows {
        self.init(rows: rows, cols: cols)
        let p = storage.pointer
        for i in 0..<rows { for j in 0..<cols { p[i * cols + j] = try body(i, j) } }
    }

    /// A matrix from nested rows; throws when the rows have different lengths.
    public init(rows data: [[T]]) throws {
        let c = data.first?.count ?? 0
        if let bad = data.firstIndex(where: { $0.count != c }) {
            throw SpectralError.shapeMismatch("row \(bad) has \(data[bad].count) elements, row 0 has \(c)")
        }
        self.init(rows: data.count, cols: c)
        for (i, row) in data.enumerated() { for j in 0..<c { storage.pointer[i * c + j] = row[j] } }
    }

    /// A matrix from row-major elements; throws when `elements.count != rows*cols`.
    public init(rows: Int, cols: Int, elements: [T]) throws {
        try self.init(zeros: rows, cols)
        guard elements.count == rows * cols else {
            throw SpectralError.shapeMismatch("\(elements.count) elements cannot fill a \(shapeString(rows, cols)) matrix")
        }
        elements.withUnsafeBufferPointer { if let base = $0.baseAddress, $0.count > 0 { storage.pointer.update(from: base, count: $0.count) } }
    }

    /// A copy of `m` converted to this element type (numpy's `astype`): Float → Double exactly, Double → Float
    /// rounded to nearest (values beyond Float's range become ±inf, as a conversion does). Any view, one pass.
    ///
    /// ```swift
    /// let wide = Matrix<Double>(converting: floats)     // for a residual in Double
    /// ```
    public init<U: SpectralScalar>(converting m: some MatrixViewable<U>) {
        self = converted(m.view, to: T.self)
    }

    /// The n×n identity.
    public static func identity(_ n: Int) -> Matrix {
        var m = Matrix(rows: n, cols: n)
        m.withUnsafeMutablePointer { p, _ in for i in 0..<n { p[i * n + i] = 1 } }
        return m
    }

    /// A `rows`×`cols` matrix (square `d.count` by default) with `d` on its main diagonal.
    public static func diagonal(_ d: [T], rows: Int? = nil, cols: Int? = nil) -> Matrix {
        let r = rows ?? d.count, c = cols ?? d.count
        var m = Matrix(rows: r, cols: c)
        m.withUnsafeMutablePointer { p, _ in for i in 0..<Swift.min(d.count, r, c) { p[i * c + i] = d[i] } }
        return m
    }

    /// A matrix with every element equal to `value`.
    public init(rows: Int, cols: Int, repeating value: T) {
        self.init(rows: rows, cols: cols)
        storage.pointer.update(repeating: value, count: rows * cols)
    }

    /// Number of elements.
    public var count: Int { rows * cols }
    /// `(rows, cols)`.
    public var shape: (rows: Int, cols: Int) { (rows, cols) }

    /// Element (i, j), bounds-checked.
    public subscript(i: Int, j: Int) -> T {
        get {
            precondition(i >= 0 && i < rows && j >= 0 && j < cols, "index (\(i), \(j)) out of range for \(shapeString(rows, cols))")
            return storage.pointer[i * cols + j]
        }
        set {
            precondition(i >= 0 && i < rows && j >= 0 && j < cols, "index (\(i), \(j)) out of range for \(shapeString(rows, cols))")
            makeUnique()
            storage.pointer[i * cols + j] = newValue
        }
    }

    /// The elements in row-major order.
    public var elements: [T] { Array(UnsafeBufferPointer(start: storage.pointer, count: count)) }
    /// The matrix as nested rows.
    public var rowArrays: [[T]] { (0..<rows).map { i in Array(UnsafeBufferPointer(start: storage.pointer + i * cols, count: cols)) } }

    @inlinable
    mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
    }

    /// Read access to the row-major buffer (row stride `cols`).
    public func withUnsafePointer<R>(_ body: (UnsafePointer<T>, _ rowStride: Int) throws -> R) rethrows -> R {
        try withExtendedLifetime(storage) { try body(storage.pointer, cols) }
    }

    /// Write access to the row-major buffer (row stride `cols`); copies first if the storage is shared.
    public mutating func withUnsafeMutablePointer<R>(_ body: (UnsafeMutablePointer<T>, _ rowStride: Int) throws -> R) rethrows -> R {
        makeUnique()
        return try withExtendedLifetime(storage) { try body(storage.pointer, cols) }
    }

    @usableFromInline var strided: StridedPointer<T> { StridedPointer(storage.pointer, cols, 1) }
}

extension Matrix: Equatable {
    /// Exact elementwise equality (NaN ≠ NaN, as IEEE says).
    public static func == (a: Matrix, b: Matrix) -> Bool {
        guard a.rows == b.rows, a.cols == b.cols else { return false }
        for i in 0..<a.count where a.storage.pointer[i] != b.storage.pointer[i] { return false }
        return true
    }
}
