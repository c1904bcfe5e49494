#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Keeps a few recently freed large matrix buffers (≥ 1 MiB) for reuse, as numpy's and PyTorch's allocators do.
///
/// A fresh large allocation comes from mmap: every page faults on first touch and the kernel zeroes it, which for
/// a 64 MiB softmax output costs more than the softmax itself (measured: page faults were 60% of a 4096² row
/// softmax). Reusing a resident buffer avoids both. The cache holds at most `limitBytes` (default 256 MiB; the
/// environment variable `SPECTRAL_CACHE_MB` sets it, 0 turns the cache off) and hands out a block only when it is
/// at most twice the size asked for; the oldest blocks go first when it is full.
final class LargeBlockCache: @unchecked Sendable {
    static let shared = LargeBlockCache()
    static let minimumBytes = 1 << 20

    private let lock = Lock()
    private var blocks: [(bytes: Int, pointer: UnsafeMutableRawPointer)] = []
    private var total = 0
    let limitBytes: Int

    private init() {
        if let s = getenv("SPECTRAL_CACHE_MB"), let mb = Int(String(cString: s)), mb >= 0 { limitBytes = mb << 20 }
        else { limitBytes = 256 << 20 }
    }

    /// A block of at least `bytes` (64-byte aligned) and its true size.
    func allocate(_ bytes: Int) -> (UnsafeMutableRawPointer, Int) {
        if bytes >= LargeBlockCache.minimumBytes && limitBytes > 0 {
            let hit: (bytes: Int, pointer: UnsafeMutableRawPointer)? = lock.withLock {
                var best = -1
                for (i, b) in blocks.enumerated() where b.bytes >= bytes && b.bytes <= 2 * bytes {
                    if best < 0 || b.bytes < blocks[best].bytes { best = i }
                }
                guard best >= 0 else { return nil }
                total -= blocks[best].bytes
                return blocks.remove(at: best)
            }
            if let hit { return (hit.pointer, hit.bytes) }
        }
        let p = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        adviseHugePages(p, bytes)
        return (p, bytes)
    }

    /// Returns a block: kept if large and there is room (evicting the oldest), freed otherwise.
    func release(_ pointer: UnsafeMutableRawPointer, bytes: Int) {
        if bytes >= LargeBlockCache.minimumBytes && bytes <= limitBytes {
            var evicted: [UnsafeMutableRawPointer] = []
            lock.withLock {
                while total + bytes > limitBytes, !blocks.isEmpty {
                    let old = blocks.removeFirst()
                    total -= old.bytes
                    evicted.append(old.pointer)
                }
                blocks.append((bytes, pointer))
                total += bytes
            }
            for p in evicted { p.deallocate() }
            return
        }
        pointer.deallocate()
    }

    /// Frees every cached block.
    func purge() {
        let all = lock.withLock { () -> [UnsafeMutableRawPointer] in
            let ps = blocks.map(\.pointer)
            blocks.removeAll(); total = 0
            return ps
        }
        for p in all { p.deallocate() }
    }

    /// Blocks of at least this many bytes ask for transparent huge pages (numpy's threshold, 4 MiB).
    static let hugePageMinimumBytes = 4 << 20

    /// Asks the kernel to back the 2 MiB-aligned interior of a fresh block with transparent huge pages
    /// (`madvise(MADV_HUGEPAGE)`, as numpy does for arrays of 4 MiB and more): with 4 KiB pages, a walk down a large
    /// matrix's columns (packing Aᵀ for a GEMM, a column sweep) misses the TLB on every row. Linux only; advice only,
    /// so an error or a kernel without THP changes nothing.
    private func adviseHugePages(_ p: UnsafeMutableRawPointer, _ bytes: Int) {
        #if os(Linux)
        guard bytes >= LargeBlockCache.hugePageMinimumBytes else { return }
        let huge = 2 << 20
        let start = (Int(bitPattern: p) + huge - 1) / huge * huge, end = (Int(bitPattern: p) + bytes) / huge * huge
        if end > start { _ = madvise(UnsafeMutableRawPointer(bitPattern: start), end - start, Int32(MADV_HUGEPAGE)) }
        #endif
    }

    /// Bytes held by the cache now.
    var cachedBytes: Int { lock.withLock { total } }
}
