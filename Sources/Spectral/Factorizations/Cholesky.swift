/// Right-looking Cholesky G = RᵀR of a symmetric n×n G stored with row stride `ld` (its upper triangle is read and
/// overwritten: after step j, row j of G holds row j of R), R written into `r` (upper triangle only; the caller
/// zeroes the rest). The trailing updates run along contiguous rows (axpy). Returns false — R then incomplete — at
/// a pivot that is not positive or falls below `relativePivotFloor` times its original diagonal entry.
func choleskyUpper<T: SpectralScalar>(_ n: Int, _ g: UnsafeMutablePointer<T>, ld: Int, into r: StridedPointer<T>,
                                      relativePivotFloor: T = 0) -> Bool {
    withUnsafeTemporaryAllocation(of: T.self, capacity: Swift.max(n, 1)) { diag in
        for j in 0..<n { diag[j] = g[j * ld + j] }
        for j in 0..<n {
            let s = g[j * ld + j]
            if !(s > 0) || !(s > relativePivotFloor * diag[j]) { return false }
            let rjj = T.sqrtValue(s), inv = 1 / rjj
            let row = g + j * ld
            r.base[j * r.rowStride + j * r.colStride] = rjj
            for c in (j + 1)..<n { row[c] *= inv; r.base[j * r.rowStride + c * r.colStride] = row[c] }
            for c in (j + 1)..<n where row[c] != 0 { axpyStrided(n - c, -row[c], row + c, 1, g + c * ld + c, 1) }
        }
        return true
    }
}
