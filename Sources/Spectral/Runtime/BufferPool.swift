/// 64-byte-aligned scratch buffers (packed GEMM panels and the like), reused across calls so that a GEMM's
/// only extra memory is its packing buffers. Thread-safe; a buffer is owned by one caller between take and give.
final class BufferPool: @unchecked Sendable {
    static let shared = BufferPool()
    private let lock = Lock()
    private var free: [(pointer: UnsafeMutableRawPointer, bytes: Int)] = []
    private let keep = 8

    /// A buffer of at least `bytes` bytes (contents undefined).
    func take(_ bytes: Int) -> (pointer: UnsafeMutableRawPointer, bytes: Int) {
        let want = Swift.max(bytes, 64)
        return lock.withLock {
            if let i = free.firstIndex(where: { $0.bytes >= want }) { return free.remove(at: i) }
            return (UnsafeMutableRawPointer.allocate(byteCount: want, alignment: 64), want)
        }
    }

    /// Returns a buffer to the pool; the largest `keep` buffers are kept, the rest freed.
    func give(_ buffer: (pointer: UnsafeMutableRawPointer, bytes: Int)) {
        lock.withLock {
            free.append(buffer)
            if free.count > keep {
                free.sort { $0.bytes > $1.bytes }
                let drop = free.removeLast()
                drop.pointer.deallocate()
            }
        }
    }

    /// Runs `body` with a typed buffer of `count` elements, returned to the pool afterwards.
    func with<T, R>(_: T.Type, count: Int, _ body: (UnsafeMutablePointer<T>) throws -> R) rethrows -> R {
        let b = take(count * MemoryLayout<T>.stride)
        defer { give(b) }
        return try body(b.pointer.bindMemory(to: T.self, capacity: Swift.max(count, 1)))
    }
}
