/// A read-only strided window on a matrix's storage: a transpose or a sub-block without copying.
///
/// Element (i, j) is `storage[offset + i*rowStride + j*colStride]`. The view keeps the storage alive; mutating the
/// original `Matrix` afterwards copies it (copy-on-write), so a view never sees later writes.
///
/// ```swift
/// let a = Matrix<Float>.randomNormal(rows: 100, cols: 80, seed: 1)
/// let block = a.view(rows: 10..<20, cols: 0..<5)   // 10×5, no copy
/// let at = a.transposed                            // 80×100, no copy
/// let owned = at.copy()                            // an owning row-major Matrix
/// ```
public struct MatrixView<T: SpectralScalar>: @unchecked Sendable {
    /// Rows of the window.
    public let rows: Int
    /// Columns of the window.
    public let cols: Int
    /// Elements between (i, j) and (i + 1, j) in the underlying storage.
    public let rowStride: Int
    /// Elements between (i, j) and (i, j + 1) in the underlying storage (1 for a row-major window, rows for a transpose).
    public let colStride: Int
    @usableFromInline let offset: Int
    @usableFromInline let storage: MatrixStorage<T>

    @usableFromInline
    init(storage: MatrixStorage<T>, offset: Int, rows: Int, cols: Int, rowStride: Int, colStride: Int) {
        self.storage = storage; self.offset = offset
        self.rows = rows; self.cols = cols; self.rowStride = rowStride; self.colStride = colStride
    }

    /// The transpose, without copying.
    public var transposed: MatrixView {
        MatrixView(storage: storage, offset: offset, rows: cols, cols: rows, rowStride: colStride, colStride: rowStride)
    }

    /// Element (i, j), bounds-checked.
    public subscript(i: Int, j: Int) -> T {
        precondition(i >= 0 && i < rows && j >= 0 && j < cols, "index (\(i), \(j)) out of range for \(shapeString(rows, cols))")
        return storage.pointer[offset + i * rowStride + j * colStride]
    }

    /// The sub-block of the given rows and columns, without copying. Ranges must lie inside the view (checked).
    public func view(rows r: Range<Int>, cols c: Range<Int>) -> MatrixView {
        precondition(r.lowerBound >= 0 && r.upperBound <= rows && c.lowerBound >= 0 && c.upperBound <= cols,
                     "block \(r)×\(c) out of range for \(shapeString(rows, cols))")
        return MatrixView(storage: storage, offset: offset + r.lowerBound * rowStride + c.lowerBound * colStride,
                          rows: r.count, cols: c.count, rowStride: rowStride, colStride: colStride)
    }

    /// An owning row-major copy.
    public func copy() -> Matrix<T> {
        var m = Matrix<T>(uninitializedRows: rows, cols: cols)     // every element is copied below
        let src = strided
        m.withUnsafeMutablePointer { p, ld in
            withExtendedLifetime(storage) { copyStrided(rows, cols, src, StridedPointer(p, ld, 1)) }
        }
        return m
    }

    @usableFromInline var strided: StridedPointer<T> { StridedPointer(storage.pointer + offset, rowStride, colStride) }
}

/// Anything that can be read as a strided matrix: `Matrix` and `MatrixView`.
public protocol MatrixViewable<Scalar> {
    associatedtype Scalar: SpectralScalar
    /// The whole matrix as a view (no copy).
    var view: MatrixView<Scalar> { get }
}

extension MatrixView: MatrixViewable {
    /// The view itself.
    public var view: MatrixView<T> { self }
}

extension Matrix: MatrixViewable {
    /// A view of the whole matrix, sharing its storage (no copy).
    public var view: MatrixView<T> {
        MatrixView(storage: storage, offset: 0, rows: rows, cols: cols, rowStride: cols, colStride: 1)
    }
    /// The transpose as a view, without copying. Use `.transposed.copy()` for an owning transpose.
    public var transposed: MatrixView<T> { view.transposed }
    /// A sub-block as a view, without copying.
    public func view(rows r: Range<Int>, cols c: Range<Int>) -> MatrixView<T> { view.view(rows: r, cols: c) }

    /// Copies `source` into the block whose top-left corner is (`row`, `col`); throws if it does not fit.
    public mutating func setBlock(row: Int, col: Int, from source: some MatrixViewable<T>) throws {
        let s = source.view
        guard row >= 0, col >= 0, row <= rows - s.rows, col <= cols - s.cols else {      // no overflow at row = Int.max
            throw SpectralError.shapeMismatch("a \(shapeString(s.rows, s.cols)) block at (\(row), \(col)) does not fit in \(shapeString(rows, cols))")
        }
        let src = s.strided
        withUnsafeMutablePointer { p, ld in
            withExtendedLifetime(s.storage) { copyStrided(s.rows, s.cols, src, StridedPointer(p + row * ld + col, ld, 1)) }
        }
    }
}

/// Copies an m×n strided block; handles overlap-free source and destination of any strides.
@_specialize(where T == Float)
@_specialize(where T == Double)
@usableFromInline
func copyStrided<T>(_ m: Int, _ n: Int, _ src: StridedPointer<T>, _ dst: StridedPointer<T>) {
    if src.colStride == 1 && dst.colStride == 1 {
        for i in 0..<m { dst.at(i, 0).update(from: src.at(i, 0), count: n) }
    } else if src.rowStride == 1 && dst.colStride == 1 {
        // Transposing copy in 8×8 tiles: both sides stay in cache even at 4 KiB-multiple strides.
        let tb = 8
        var i0 = 0
        while i0 < m {
            let i1 = Swift.min(i0 + tb, m)
            var j0 = 0
            while j0 < n {
                let j1 = Swift.min(j0 + tb, n)
                for i in i0..<i1 { for j in j0..<j1 { dst[i, j] = src[i, j] } }
                j0 = j1
            }
            i0 = i1
        }
    } else {
        for i in 0..<m { for j in 0..<n { dst[i, j] = src[i, j] } }
    }
}
