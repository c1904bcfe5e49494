import Dispatch

/// Where an out-of-core routine is: pass `pass` of `passes` (0 while the count is not known), `bytesDone` of the
/// file's `bytesTotal` data bytes read in this pass.
public struct OutOfCoreProgress: Sendable {
    /// The pass in progress, from 1.
    public let pass: Int
    /// The passes the routine makes in all (0 when it depends on the data, as in tolerance mode).
    public let passes: Int
    /// Data bytes read so far in this pass.
    public let bytesDone: Int
    /// The file's data bytes.
    public let bytesTotal: Int
}

/// The result of an out-of-core routine with what the run cost.
public struct OutOfCoreResult<Value: Sendable>: Sendable {
    /// The routine's result, as the in-memory routine returns it.
    public let value: Value
    /// Full passes over the file.
    public let passes: Int
    /// Data bytes read in all.
    public let bytesRead: Int
    /// Rows per block read.
    public let blockRows: Int
    /// The bytes the routine planned to hold at once (blocks in flight and working matrices), at most the budget.
    public let plannedBytes: Int
}

/// A quarter of the machine's physical memory: the default budget of the out-of-core routines.
public var defaultMemoryBudget: Int { Swift.max(1 << 26, physicalMemoryBytes() / 4) }

/// A 2-D .npy file as an operator: each product is one pass over the file in blocks of rows, the next block read on
/// another thread while the current one is multiplied. Blocks are checked finite in the first pass and scaled by
/// `scale` (exact, a power of two). The first pass also records ‖A‖_F² (Double, block by block in file order) and
/// max|A| (of the file's values).
final class FileOperator<T: SpectralScalar>: @unchecked Sendable {
    let reader: NpyRowReader
    let blockRows: Int
    let scale: PowerOfTwoScale<T>
    let threads: Int
    let progress: ((OutOfCoreProgress) -> Void)?
    let plannedPasses: Int
    private(set) var passes = 0, bytesRead = 0
    private(set) var sumOfSquares = 0.0, maxAbs: T = 0
    /// Thrown at the end of the first pass when A's entries are outside the comfortable range and no scale was set.
    struct NeedsScale: Error { let maxAbs: T }

    init(_ reader: NpyRowReader, blockRows: Int, scale: PowerOfTwoScale<T>, threads: Int, passes: Int,
         progress: ((OutOfCoreProgress) -> Void)?) {
        self.reader = reader; self.blockRows = blockRows; self.scale = scale; self.threads = threads
        self.plannedPasses = passes; self.progress = progress
    }

    var rows: Int { reader.rows }
    var cols: Int { reader.cols }

    /// One pass: `body(firstRow, block)` for each block in file order; block i + 1 is read while block i is used.
    func forEachBlock(_ body: (Int, Matrix<T>) throws -> Void) throws {
        passes += 1
        let first = passes == 1
        let starts = Array(stride(from: 0, to: reader.rows, by: blockRows))
        let reader = self.reader, m = reader.rows, step = blockRows
        @Sendable func read(_ r0: Int) throws -> Matrix<T> { try reader.readRows(r0..<Swift.min(m, r0 + step), as: T.self) }
        var current: Matrix<T>? = starts.isEmpty ? nil : try read(starts[0])
        var done = 0
        for (i, r0) in starts.enumerated() {
            let slot = ReadSlot<T>(), group = DispatchGroup()
            if i + 1 < starts.count {
                let next = starts[i + 1]
                DispatchQueue.global().async(group: group) { slot.result = Result { try read(next) } }
            }
            defer { group.wait() }                                       // never leave a read running past a throw
            var block = current!
            current = nil                                                // one owner: scaling in place does not copy
            // The first pass checks every entry; later passes re-read the same bytes, and a file that changed under
            // the run still cannot give a silent NaN: every product is checked finite (`LinearOperator`).
            guard !first || block.isFinite else {
                let bad = (0..<block.rows).first { r in (0..<block.cols).contains { !block[r, $0].isFinite } } ?? 0
                throw SpectralError.nonFinite("\(displayPath(reader.path)): NaN or Inf in row \(r0 + bad)")
            }
            if first { maxAbs = Swift.max(maxAbs, block.maxAbs) }
            // Unscaled and outside the comfortable range: the products could overflow. Only scan the rest of the
            // pass for max|A|; the run restarts scaled.
            let scanOnly = first && scale.isIdentity && !PowerOfTwoScale.isComfortable(maxAbs)
            if !scale.isIdentity { block.scaleDown(by: scale) }
            if first {
                let f = block.frobeniusNorm.double                   // of the scaled block: no overflow
                sumOfSquares += f * f
            }
            if !scanOnly { try body(r0, block) }
            done += block.rows * reader.rowBytes
            bytesRead += block.rows * reader.rowBytes
            progress?(OutOfCoreProgress(pass: passes, passes: plannedPasses, bytesDone: done, bytesTotal: reader.dataBytes))
            group.wait()
            if i + 1 < starts.count { current = try slot.result!.get() }
        }
        if first && scale.isIdentity && !PowerOfTwoScale.isComfortable(maxAbs) { throw NeedsScale(maxAbs: maxAbs) }
    }

    /// A·X (m×l), one pass.
    func apply(_ x: Matrix<T>) throws -> Matrix<T> {
        var y = Matrix<T>(rows: rows, cols: x.cols)
        try forEachBlock { r0, block in
            let yb = try matmul(block, x, threads: threads)
            y.withUnsafeMutablePointer { p, ld in
                yb.withUnsafePointer { q, lq in
                    for i in 0..<yb.rows { for j in 0..<yb.cols { p[(r0 + i) * ld + j] = q[i * lq + j] } }
                }
            }
        }
        return y
    }

    /// Aᵀ·Y (n×l), one pass: Σ over blocks in file order of A_bᵀ·Y_b. (The in-memory form's (Yᵀ·A)ᵀ, accumulated
    /// block by block, measured 16.9–17.6 s against 14.9–16.4 on the 4 GiB benchmark file: a block's 289 rows are too
    /// short a sum for that layout.)
    func applyTransposed(_ y: Matrix<T>) throws -> Matrix<T> {
        var z = Matrix<T>(rows: cols, cols: y.cols)
        try forEachBlock { r0, block in
            try gemm(block, y.view(rows: r0..<(r0 + block.rows), cols: 0..<y.cols), beta: 1, into: &z, transposeA: true, threads: threads)
        }
        return z
    }

    var linearOperator: LinearOperator<T> {
        LinearOperator(rows: rows, cols: cols, name: displayPath(reader.path), matmat: { try self.apply($0) },
                       rmatmat: { try self.applyTransposed($0) })
    }

    /// ‖A‖_F of the matrix as the routine sees it (scaled), from the first pass.
    var frobeniusNorm: Double { sumOfSquares.squareRoot() }
}

/// The block being read on another thread (written there, read after the group's wait).
final class ReadSlot<T: SpectralScalar>: @unchecked Sendable { var result: Result<Matrix<T>, Error>? = nil }

/// Rows per block for a file of `rowBytes`-byte rows and n columns of T, given the budget and the working set:
/// two blocks in flight (the one in use and the one being read), each also held as T when the file's dtype differs.
func planBlocks<T: SpectralScalar>(_ reader: NpyRowReader, _: T.Type, workingBytes: Int, budget: Int, what: String) throws -> (rows: Int, planned: Int) {
    let perRow = Swift.max(1, 2 * (reader.rowBytes + reader.cols * MemoryLayout<T>.stride))     // m×0: nothing to read
    let free = budget - workingBytes
    guard free >= perRow else {
        throw SpectralError.invalidArgument("\(what): a memory budget of \(budget) bytes is below the \(workingBytes + perRow) this file needs (working matrices of \(workingBytes) bytes and two rows in flight)")
    }
    // Blocks of about 36 MiB of file (an odd number of rows, at least 65) even when the budget allows more: the read
    // of the next block then overlaps the products on the current one at a fine grain. Measured on a 4 GiB f64 file
    // of 16384 columns, 2 cores, the disk reading 2.1–2.3 GB/s cold: 289-row blocks 1.60–1.68 GB/s; 237 MB blocks
    // 1.28 GB/s; exactly 256-row blocks 1.07–1.14 GB/s (the GEMMs on 256 rows of a 2^17-byte stride ran slower).
    let granule = Swift.max(65, ((36 << 20) / Swift.max(1, reader.rowBytes)) | 1)
    let rows = Swift.max(1, Swift.min(reader.rows, free / perRow, granule))
    return (rows, workingBytes + rows * perRow)
}

/// Runs `body` on the file operator, and once more with A scaled by a power of two when the first pass finds
/// entries outside the comfortable range (as the in-memory routines do before they start).
func withFileOperator<T: SpectralScalar, R>(_ reader: NpyRowReader, blockRows: Int, threads: Int, passes: Int,
                                            progress: ((OutOfCoreProgress) -> Void)?,
                                            _ body: (FileOperator<T>) throws -> R) throws -> (R, FileOperator<T>, extraPasses: Int, extraBytes: Int) {
    let op = FileOperator<T>(reader, blockRows: blockRows, scale: PowerOfTwoScale(exponent: 0), threads: threads, passes: passes, progress: progress)
    do {
        return (try body(op), op, 0, 0)
    } catch let e as FileOperator<T>.NeedsScale {
        let scaled = FileOperator<T>(reader, blockRows: blockRows, scale: PowerOfTwoScale(maxAbs: e.maxAbs), threads: threads,
                                     passes: passes, progress: progress)
        return (try body(scaled), scaled, op.passes, op.bytesRead)
    }
}

/// The randomized SVD of a 2-D .npy file larger than the memory it may use: the algorithm, seed and products of
/// `randomizedSVD(_:rank:)` (the same answer to rounding: the products sum over row blocks instead of the GEMM's own
/// blocks), with A read in blocks of rows. Passes over the file: one for A·[Ω | W] (sketch and probes), two per
/// power iteration (Aᵀ·Q, then A·Z: the basis is re-orthonormalised between them, which keeps the small singular
/// directions that a fused AᵀA pass would square away), one for B = Qᵀ·A: 2 + 2·powerIterations. An input far from
/// unit scale costs one more pass (the first pass finds it, then the run restarts on A·2^−e, as in memory).
///
/// Memory: the blocks in flight plus the working matrices (about 4·(m + n)·(r + p + probes) elements), within
/// `memoryBudget`; the file's pages are released as they are read.
///
/// ```swift
/// let r = try randomizedSVD(npyFile: "big.npy", as: Double.self, rank: 50, memoryBudget: 1 << 30)
/// print(r.value.S, r.passes, r.bytesRead)
/// ```
/// - Parameters:
///   - path: a 2-D C-order .npy file of float32 or float64.
///   - type: the scalar type to compute in (Float or Double; a file of the other type is converted).
///   - rank: the target rank r.
///   - options: sketch sizes (`RandomizedSVDOptions`).
///   - seed: the sketch's seed.
///   - memoryBudget: bytes the run may use (default a quarter of physical memory).
///   - threads: worker threads (default `SpectralRuntime.defaultThreads`); the result is the same for any count.
///   - progress: called after each block with the pass and bytes read.
/// - Returns: the approximation and the passes, bytes read and block plan.
/// - Throws: as `randomizedSVD`; `.io` for a file `NpyRowReader` refuses; `.nonFinite` naming the row of a NaN or
///   Inf; `.invalidArgument` when the budget cannot hold the working matrices and two rows.
public func randomizedSVD<T: SpectralScalar>(npyFile path: String, as type: T.Type = T.self, rank: Int,
                                             options: RandomizedSVDOptions = .default, seed: UInt64 = 0,
                                             memoryBudget: Int = defaultMemoryBudget, threads: Int? = nil,
                                             progress: ((OutOfCoreProgress) -> Void)? = nil) throws -> OutOfCoreResult<LowRankApproximation<T>> {
    let (oversample, powerIterations, errorProbes) = (options.oversample, options.powerIterations, options.errorProbes)
    let reader = try NpyRowReader(path: path)
    let (m, n) = (reader.rows, reader.cols)
    try checkRank("randomizedSVD", rank, m, n)
    guard oversample >= 0, powerIterations >= 0, errorProbes >= 0, errorProbes <= maxErrorProbes else {
        throw SpectralError.invalidArgument("randomizedSVD: oversample and powerIterations must be ≥ 0, errorProbes in 0...\(maxErrorProbes)")
    }
    let nt = try resolveThreads(threads)
    let l = rank + Swift.min(oversample, Swift.min(m, n) - rank)
    let working = 4 * (m + n) * (l + errorProbes) * MemoryLayout<T>.stride + 2 * l * n * MemoryLayout<T>.stride
    let (blockRows, planned) = try planBlocks(reader, T.self, workingBytes: working, budget: memoryBudget, what: "randomizedSVD")
    let (approx, op, extraPasses, extraBytes) = try withFileOperator(reader, blockRows: blockRows, threads: nt, passes: 2 + 2 * powerIterations,
                                                                     progress: progress) { (op: FileOperator<T>) in
        try randomizedSVDCore(op.linearOperator, rank: rank, oversample: oversample, powerIterations: powerIterations, seed: seed,
                              errorProbes: errorProbes, frobeniusNorm: { op.frobeniusNorm }, threads: nt)
    }
    return OutOfCoreResult(value: op.scale.isIdentity ? approx : try approx.scaledUp(by: op.scale), passes: op.passes + extraPasses, bytesRead: op.bytesRead + extraBytes, blockRows: blockRows,
                           plannedBytes: planned)
}

/// The randomized column ID of a 2-D .npy file larger than the memory it may use: the matrix-free
/// `interpolativeDecomposition(rows:cols:…)` on the file (the same answer as the matrix-free ID on the same matrix in
/// memory, to rounding; not the matrix form's Float sketch and backward elimination, which need A's columns, so its
/// columns and error can differ from `interpolativeDecomposition(_:rank:method: .randomized)` by the sketch's margin). Passes: one for the sketch, two per power iteration, two for the projection (C = A·E_S and C⁺·A); in
/// tolerance mode a saturated sketch is redrawn larger, which costs its passes again, up to 4× the first sketch
/// (the budget's working set); a rank that needs more is a clear error.
///
/// ```swift
/// let id = try interpolativeDecomposition(npyFile: "big.npy", as: Double.self, rank: 50, memoryBudget: 1 << 30)
/// ```
/// - Parameters:
///   - path: a 2-D C-order .npy file of float32 or float64.
///   - type: the scalar type to compute in (Float or Double; a file of the other type is converted).
///   - rank: k; or
///   - tolerance: relative ε in (0, 1).
///   - options: the sketch's sizes (`RandomizedIDOptions`).
///   - seed: the sketch's seed.
///   - memoryBudget: bytes the run may use.
///   - threads: worker threads (default `SpectralRuntime.defaultThreads`); the result is the same for any count.
///   - progress: called after each block.
/// - Returns: the ID and the passes, bytes read and block plan.
/// - Throws: as the matrix-free ID and `randomizedSVD(npyFile:)`.
public func interpolativeDecomposition<T: SpectralScalar>(npyFile path: String, as type: T.Type = T.self, rank: Int? = nil, tolerance: T? = nil,
                                                          options: RandomizedIDOptions = .default, seed: UInt64 = 0,
                                                          memoryBudget: Int = defaultMemoryBudget, threads: Int? = nil,
                                                          progress: ((OutOfCoreProgress) -> Void)? = nil) throws -> OutOfCoreResult<InterpolativeDecomposition<T>> {
    let (oversample, powerIterations) = (options.oversample, options.powerIterations)
    let reader = try NpyRowReader(path: path)
    let (m, n) = (reader.rows, reader.cols)
    try checkOperatorIDArguments(m, n, rank: rank, tolerance: tolerance, oversample: oversample, powerIterations: powerIterations)
    let nt = try resolveThreads(threads)
    let d = Swift.min(m, (rank ?? 22) + Swift.min(Swift.max(0, oversample), Swift.max(m, n)))
    let working = 4 * (m + n) * Swift.max(1, tolerance == nil ? d : Swift.min(m, 4 * d)) * MemoryLayout<T>.stride
    let (blockRows, planned) = try planBlocks(reader, T.self, workingBytes: working, budget: memoryBudget, what: "interpolativeDecomposition")
    let (id, op, extraPasses, extraBytes) = try withFileOperator(reader, blockRows: blockRows, threads: nt,
                                                                 passes: tolerance == nil ? 3 + 2 * powerIterations : 0,
                                                                 progress: progress) { (op: FileOperator<T>) in
        try operatorInterpolativeDecomposition(op.linearOperator, rank: rank, tolerance: tolerance, oversample: oversample,
                                               powerIterations: powerIterations, seed: seed, threads: nt, maxSketchRows: Swift.min(m, 4 * d))
    }
    return OutOfCoreResult(value: id, passes: op.passes + extraPasses, bytesRead: op.bytesRead + extraBytes, blockRows: blockRows,
                           plannedBytes: planned)
}

/// ‖A‖₂ of a 2-D .npy file larger than the memory it may use: the power iteration of `estimateSpectralNorm` (same
/// start, same normalisations, the same answer to rounding), one pass per round: each block gives its part of
/// y = A·x and adds A_bᵀ·y_b to Aᵀ·y in the same pass.
///
/// ```swift
/// let n2 = try estimateSpectralNorm(npyFile: "big.npy", as: Double.self, memoryBudget: 1 << 30).value
/// ```
/// - Parameters:
///   - path: a 2-D C-order .npy file of float32 or float64.
///   - type: the scalar type to compute in (Float or Double; a file of the other type is converted).
///   - iterations: power-iteration rounds (one pass each).
///   - seed: the start vector's seed.
///   - memoryBudget: bytes the run may use.
///   - threads: worker threads (default `SpectralRuntime.defaultThreads`); the result is the same for any count.
///   - progress: called after each block.
/// - Returns: the estimate of ‖A‖₂ and the passes, bytes read and block plan.
/// - Throws: as `estimateSpectralNorm` and `randomizedSVD(npyFile:)`.
public func estimateSpectralNorm<T: SpectralScalar>(npyFile path: String, as type: T.Type = T.self, iterations: Int = 20, seed: UInt64 = 0,
                                                    memoryBudget: Int = defaultMemoryBudget, threads: Int? = nil,
                                                    progress: ((OutOfCoreProgress) -> Void)? = nil) throws -> OutOfCoreResult<T> {
    let reader = try NpyRowReader(path: path)
    let (m, n) = (reader.rows, reader.cols)
    let nt = try resolveThreads(threads)
    let (blockRows, planned) = try planBlocks(reader, T.self, workingBytes: 4 * (m + n) * MemoryLayout<T>.stride, budget: memoryBudget,
                                              what: "estimateSpectralNorm")
    let (estimate, op, extraPasses, extraBytes) = try withFileOperator(reader, blockRows: blockRows, threads: nt, passes: iterations,
                                                                       progress: progress) { (op: FileOperator<T>) -> T in
        try powerIterationNorm(rows: m, cols: n, iterations: iterations, seed: seed) { x in
            // One pass: y = A·x block by block, and Aᵀ·y accumulated from the same blocks; Aᵀ·(y/‖y‖) = (Aᵀ·y)/‖y‖.
            let xm = try Matrix<T>(rows: n, cols: 1, elements: x)
            var y = [T](repeating: 0, count: m)
            var z = Matrix<T>(rows: n, cols: 1)
            try op.forEachBlock { r0, block in
                let yb = try matmul(block, xm, threads: nt)
                for i in 0..<yb.rows { y[r0 + i] = yb[i, 0] }
                try gemm(block, yb, beta: 1, into: &z, transposeA: true, threads: nt)
            }
            let ny = nrm2(y)
            guard ny.isFinite else { throw SpectralError.nonFinite("estimateSpectralNorm: the operator produced a non-finite value") }
            return ny == 0 ? (0, []) : (ny, (0..<n).map { z[$0, 0] / ny })
        }
    }
    return OutOfCoreResult(value: op.scale.up(estimate), passes: op.passes + extraPasses, bytesRead: op.bytesRead + extraBytes,
                           blockRows: blockRows, plannedBytes: planned)
}
