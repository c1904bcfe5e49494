/// A 64-byte-aligned heap buffer of `count` elements: the storage of an owning `Matrix`.
///
/// Reference type so that `Matrix` can copy on write; the buffer is only mutated through a `Matrix` that holds
/// the sole reference, which is why the unchecked `Sendable` conformance is sound.
public final class MatrixStorage<T: SpectralScalar>: @unchecked Sendable {
    @usableFromInline let pointer: UnsafeMutablePointer<T>
    @usableFromInline let count: Int

    /// Allocates `count` elements, all zero.
    @usableFromInline
    init(count: Int) {
        self.count = count
        let bytes = Swift.max(count * MemoryLayout<T>.stride, 64)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        pointer = raw.bindMemory(to: T.self, capacity: Swift.max(count, 1))
    }

    @usableFromInline
    func copy() -> MatrixStorage<T> {
        let s = MatrixStorage(count: count)
        s.pointer.update(from: pointer, count: count)
        return s
    }

    deinit { UnsafeMutableRawPointer(pointer).deallocate() }
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
