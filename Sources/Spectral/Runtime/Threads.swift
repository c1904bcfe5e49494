#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch

/// Library-wide settings: version, default thread count, active cores, the large-buffer cache. (Not named `Spectral`:
/// a type named like its module makes module-qualified names such as `Spectral.Matrix` stop resolving in clients.)
public enum SpectralRuntime {
    /// Library version.
    public static let version = "0.1.0"

    private static let lock = Lock()
    nonisolated(unsafe) private static var _defaultThreads: Int = initialThreads()

    /// Threads a call uses when it is not given a count: `SPECTRAL_NUM_THREADS` if set to a positive integer,
    /// else the number of active cores. Setting it affects later calls; values below 1 become 1.
    public static var defaultThreads: Int {
        get { lock.withLock { _defaultThreads } }
        set { lock.withLock { _defaultThreads = Swift.max(1, newValue) } }
    }

    /// Number of online cores.
    public static var activeCores: Int { Swift.max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    /// Bytes of freed large matrix buffers (≥ 1 MiB) kept for reuse, so that a repeated large output does not page
    /// fault afresh every time; at most 256 MiB, or `SPECTRAL_CACHE_MB` (0 turns the cache off).
    public static var cachedMemory: Int { LargeBlockCache.shared.cachedBytes }

    /// Returns every cached buffer to the system (see `cachedMemory`).
    public static func releaseCachedMemory() { LargeBlockCache.shared.purge() }

    private static func initialThreads() -> Int {
        if let s = getenv("SPECTRAL_NUM_THREADS"), let n = Int(String(cString: s)), n > 0 { return n }
        return activeCores
    }
}

/// The thread count for a call: the explicit one (checked) or the global default.
@usableFromInline
func resolveThreads(_ threads: Int?) throws -> Int {
    guard let t = threads else { return SpectralRuntime.defaultThreads }
    guard t >= 1 else { throw SpectralError.invalidArgument("threads must be at least 1, got \(t)") }
    return t
}

/// Wraps state captured by Dispatch workers. Workers write disjoint memory, which is what makes this sound.
struct UncheckedSendable<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}

/// Runs `body(t)` for t in 0..<count: inline for one, on the worker pool (Dispatch when it is busy) for more.
@inline(__always)
func parallelFor(_ count: Int, _ body: (Int) -> Void) {
    if count <= 1 {
        if count == 1 { body(0) }
        return
    }
    WorkerPool.shared.run(count, body)
}

/// Splits `count` units into `parts` contiguous ranges whose sizes differ by at most one.
func evenSplit(_ count: Int, _ parts: Int, _ t: Int) -> Range<Int> {
    let base = count / parts, extra = count % parts
    let lo = t * base + Swift.min(t, extra)
    return lo..<(lo + base + (t < extra ? 1 : 0))
}
