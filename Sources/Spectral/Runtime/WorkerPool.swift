#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import Synchronization

/// A small pool of persistent worker threads for fork–join loops.
///
/// Why not only Dispatch: `concurrentPerform` wakes its workers for every call, which costs 5–10 µs and, for
/// regions of ~100 µs, often lets the caller run every iteration itself before a worker arrives. A GEMM at
/// n = 128–512 makes two parallel regions per KC block, so that latency decides its 2-thread speed. These workers
/// spin for a short while after each region (catching the next one at once), then sleep on a condition variable.
/// One caller uses the pool at a time; a concurrent or nested caller falls back to `concurrentPerform`.
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool()

    /// Spin this many polls (≈ 50–100 µs) after a region before sleeping.
    private let spinPolls = 20_000
    private let busy = Atomic<Bool>(false)
    /// generation (bits 40–63) | iteration count (bits 20–39) | next iteration (bits 0–19), in one word, so that a
    /// worker claims an iteration of exactly the region it saw: a claim is a compare-exchange on the whole word.
    private let ticket = Atomic<UInt64>(0)
    private let finished = Atomic<Int>(0)
    private let sleepers = Atomic<Int>(0)
    private var job: ((Int) -> Void)? = nil
    private var workers = 0
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let growLock = Lock()

    private init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wake, nil)
    }

    /// Runs `body(i)` for i in 0..<n on the caller plus up to n − 1 workers; returns when all are done.
    func run(_ n: Int, _ body: (Int) -> Void) {
        guard n < 1 << 20, busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            withoutActuallyEscaping(body) { b in
                let box = UncheckedSendable(b)
                DispatchQueue.concurrentPerform(iterations: n) { box.value($0) }
            }
            return
        }
        defer { busy.store(false, ordering: .releasing) }
        ensureWorkers(n - 1)
        withoutActuallyEscaping(body) { b in
            job = b
            finished.store(0, ordering: .relaxed)
            let gen = (ticket.load(ordering: .relaxed) >> 40 &+ 1) & 0xFF_FFFF
            ticket.store(gen << 40 | UInt64(n) << 20, ordering: .sequentiallyConsistent)
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                pthread_mutex_lock(mutex); pthread_cond_broadcast(wake); pthread_mutex_unlock(mutex)
            }
            work()
            while finished.load(ordering: .acquiring) < n { spinHint() }
            job = nil
        }
    }

    /// Claims and runs iterations of the current region until none are left.
    private func work() {
        while true {
            let v = ticket.load(ordering: .acquiring)
            let index = Int(v & 0xF_FFFF), count = Int(v >> 20 & 0xF_FFFF)
            if index >= count { return }
            if ticket.compareExchange(expected: v, desired: v &+ 1, ordering: .acquiringAndReleasing).exchanged {
                // The region cannot end before this iteration does, so `job` is still its body.
                job!(index)
                finished.add(1, ordering: .releasing)
            }
        }
    }

    /// Starts workers until there are `want`. A thread that cannot be created (pthread_create fails: a process or
    /// memory limit) is not an error: the caller claims every iteration no worker takes, so the region completes
    /// with the workers there are, and the pool tries again at the next region.
    private func ensureWorkers(_ want: Int) {
        growLock.withLock {
            while workers < want {
                var tid = pthread_t(bitPattern: 0)
                let me = Unmanaged.passRetained(self).toOpaque()
                #if canImport(Glibc)
                var attr = pthread_attr_t()
                pthread_attr_init(&attr)
                pthread_attr_setstacksize(&attr, 1 << 20)
                let rc = pthread_create(&tid, &attr, { arg in
                    Unmanaged<WorkerPool>.fromOpaque(arg!).takeUnretainedValue().loop()       // never returns
                }, me)
                pthread_attr_destroy(&attr)
                #else
                let rc = pthread_create(&tid, nil, { arg in
                    Unmanaged<WorkerPool>.fromOpaque(arg).takeUnretainedValue().loop()        // never returns
                }, me)
                #endif
                if rc != 0 {
                    Unmanaged<WorkerPool>.fromOpaque(me).release()
                    return
                }
                pthread_detach(tid)
                workers += 1
            }
        }
    }

    private func loop() -> Never {
        var seen = ticket.load(ordering: .acquiring) >> 40
        while true {
            var polls = 0
            while ticket.load(ordering: .acquiring) >> 40 == seen {
                polls += 1
                if polls < spinPolls { spinHint(); continue }
                pthread_mutex_lock(mutex)
                sleepers.add(1, ordering: .sequentiallyConsistent)
                while ticket.load(ordering: .sequentiallyConsistent) >> 40 == seen { pthread_cond_wait(wake, mutex) }
                sleepers.subtract(1, ordering: .sequentiallyConsistent)
                pthread_mutex_unlock(mutex)
            }
            seen = ticket.load(ordering: .acquiring) >> 40
            work()
        }
    }
}

/// One poll of a spin-wait. Swift has no pause intrinsic, so this is empty: the loops around it re-read an atomic,
/// which the compiler cannot hoist, and the worker spins at most `spinPolls` times before it sleeps.
@inline(__always)
func spinHint() {}
