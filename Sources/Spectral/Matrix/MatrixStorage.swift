/// A 64-byte-aligned heap buffer of `count` elements: the storage of an owning `Matrix`.
///
/// Reference type so that `Matrix` can copy on write; the buffer is only mutated through a `Matrix` that holds
/// the sole reference, which is why the unchecked `Sendable` conformance is sound.
@usableFromInline
final class MatrixStorage<T: SpectralScalar>: @unchecked Sendable {
    @usableFromInline let pointer: UnsafeMutablePointer<T>
    @usableFromInline let count: Int
    /// Bytes of the block behind `pointer` (a block reused from `LargeBlockCache` may be larger than needed).
    let blockBytes: Int

    /// Allocates `count` elements, all zero.
    @usableFromInline
    convenience init(count: Int) {
        self.init(uninitializedCount: count)
        UnsafeMutableRawPointer(pointer).initializeMemory(as: UInt8.self, repeating: 0, count: Swift.max(count * MemoryLayout<T>.stride, 64))
    }

    /// Allocates `count` elements left as they are, for callers that write every one of them (a large output is
    /// then touched once, by the threads that fill it, instead of first zeroed by one).
    @usableFromInline
    init(uninitializedCount count: Int) {
        self.count = count
        let (raw, bytes) = LargeBlockCache.shared.allocate(Swift.max(count * MemoryLayout<T>.stride, 64))
        blockBytes = bytes
        pointer = raw.bindMemory(to: T.self, capacity: Swift.max(count, 1))
    }

    @usableFromInline
    func copy() -> MatrixStorage<T> {
        let s = MatrixStorage(uninitializedCount: count)
        s.pointer.update(from: pointer, count: count)
        return s
    }

    deinit { LargeBlockCache.shared.release(UnsafeMutableRawPointer(pointer), bytes: blockBytes) }
}

/// A raw strided window on matrix memory: element (i, j) lives at `base[i*rowStride + j*colStride]`.
/// The currency of the kernel and BLAS layers; never exposed by the public API.
@usableFromInline
struct StridedPointer<T>: @unchecked Sendable {
    @usableFromInline var base: UnsafeMutablePointer<T>
    @usableFromInline var rowStride: Int
    @usableFromInline var colStride: Int

    @inlinable init(_ base: UnsafeMutablePointer<T>, _ rowStride: Int, _ colStride: Int) {
        self.base = base; self.rowStride = rowStride; self.colStride = colStride
    }
    @inlinable init(_ base: UnsafePointer<T>, _ rowStride: Int, _ colStride: Int) {
        self.init(UnsafeMutablePointer(mutating: base), rowStride, colStride)
    }
    /// The same memory seen transposed.
    @inlinable var transposed: StridedPointer<T> { StridedPointer(base, colStride, rowStride) }
    @inlinable func at(_ i: Int, _ j: Int) -> UnsafeMutablePointer<T> { base + (i &* rowStride &+ j &* colStride) }
    @inlinable subscript(_ i: Int, _ j: Int) -> T {
        get { base[i &* rowStride &+ j &* colStride] }
        nonmutating set { base[i &* rowStride &+ j &* colStride] = newValue }
    }
}
