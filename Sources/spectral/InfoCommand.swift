import Spectral
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

let infoSpec = CommandSpec(
    name: "info", summary: "Print the version, the ISA this binary was built for, the CPU's features, caches and default threads.",
    usage: "spectral info [--json] [--disk DIR [--disk-bytes N]]",
    options: [("--disk", "also measure the disk under DIR: write a temporary file, release it from the page cache, read it back cold (the bandwidth the out-of-core routines can reach)"),
              ("--disk-bytes", "size of that file (default 1G; K/M/G suffixes)")],
    flags: [("--json", "print one JSON object instead of text")], positionals: 0...0)

func runInfo(_ args: Arguments) throws {
    let sys = SystemInfo.current()
    let caches = sys.caches.map { "\($0.name) \($0.bytes / 1024) KiB" }.joined(separator: ", ")
    var disk: DiskBandwidth? = nil
    if let dir = args.values["--disk"] {
        var size = 1 << 30
        if let text = args.values["--disk-bytes"] {
            guard let v = byteCount(text), v >= 1 << 20 else { throw UsageError(message: "info: --disk-bytes: expected at least 1M, got \"\(text)\"") }
            size = v
        }
        disk = try measureDisk(dir, bytes: size)
    }
    if args.switches.contains("--json") {
        print(JSON.object([
            ("version", .string(SpectralRuntime.version)), ("isa", .string(KernelISA.name)), ("fma", .bool(KernelISA.fused)),
            ("tiles", .string(KernelISA.tiles)), ("blocking", .string(KernelISA.cacheBlocking)), ("cpu", .string(sys.model)), ("cpu_family", sys.family.map(JSON.int) ?? .null),
            ("faster_build_flags", sys.fasterBuildFlags.map(JSON.string) ?? .null),
            ("features", .array(sys.features.map(JSON.string))),
            ("caches", .object(sys.caches.map { ($0.name, .int($0.bytes)) })),
            ("cores", .int(SpectralRuntime.activeCores)), ("default_threads", .int(SpectralRuntime.defaultThreads)),
        ] + (disk.map { [("disk", JSON.object([("dir", .string($0.dir)), ("bytes", .int($0.bytes)), ("write_bytes_per_second", .number($0.write)),
                                                 ("read_bytes_per_second", .number($0.read))]))] } ?? [])).text)
    } else {
        print("Spectral \(SpectralRuntime.version)")
        print("built for:       \(KernelISA.name); GEMM tiles \(KernelISA.tiles)")
        print("GEMM blocking:   \(KernelISA.cacheBlocking) (per build; SPECTRAL_GEMM_BLOCKING=MR,MC,KC,NC[,CHUNK] overrides)")
        print("cpu:             \(sys.model)\(sys.family.map { ", family \($0)" } ?? "")")
        print("cpu features:    \(sys.features.joined(separator: " "))")
        print("caches:          \(caches.isEmpty ? "unknown" : caches)")
        print("cores:           \(SpectralRuntime.activeCores)")
        print("default threads: \(SpectralRuntime.defaultThreads) (SPECTRAL_NUM_THREADS, else active cores)")
        if let d = disk {
            print("disk (\(d.dir)): read \(Int(d.read / 1e6)) MB/s cold, write \(Int(d.write / 1e6)) MB/s (\(d.bytes >> 20) MiB file)")
        }
    }
    if let flags = sys.fasterBuildFlags {
        // One line to copy, in this repository or in a package that depends on Spectral.
        printError("warning: this CPU runs a faster build than this binary (\(KernelISA.name))"
                   + (KernelISA.fused ? "" : "; the tuned builds' GEMM is 2.5× faster or more") + ". Build with:")
        printError("swift build -c release \(flags)")
    }
}

/// Sequential bandwidth of the disk under a directory.
struct DiskBandwidth { let dir: String, bytes: Int, write: Double, read: Double }

/// Writes `bytes` to a temporary file under `dir` (16 MiB writes, then fsync), releases its pages from the page cache
/// (posix_fadvise DONTNEED), reads it back in 16 MiB preads as `NpyRowReader` does (releasing each chunk), removes it.
func measureDisk(_ dir: String, bytes: Int) throws -> DiskBandwidth {
    let path = dir + "/.spectral-disk-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
    let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600)            // a new file of ours, never a link
    guard fd >= 0 else { throw SpectralError.io("\(dir): cannot create a file (\(String(cString: strerror(errno))))") }
    defer { close(fd); unlink(path) }
    let chunk = 16 << 20
    var buf = [UInt8](repeating: 0, count: chunk)
    for i in 0..<chunk { buf[i] = UInt8(truncatingIfNeeded: i &* 2654435761 >> 13) }     // not all zeros
    let t0 = now()
    var done = 0
    while done < bytes {
        let n = Swift.min(chunk, bytes - done)
        let w = buf.withUnsafeBytes { pwrite(fd, $0.baseAddress, n, off_t(done)) }
        guard w == n else { throw SpectralError.io("\(dir): write failed (\(String(cString: strerror(errno))))") }
        done += n
    }
    guard fsync(fd) == 0 else { throw SpectralError.io("\(dir): fsync failed") }
    let write = Double(bytes) / (now() - t0)
    #if os(Linux)
    _ = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED)
    #endif
    let t1 = now()
    done = 0
    while done < bytes {
        let n = Swift.min(chunk, bytes - done)
        let r = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress, n, off_t(done)) }
        guard r == n else { throw SpectralError.io("\(dir): read failed") }
        #if os(Linux)
        _ = posix_fadvise(fd, off_t(done), off_t(n), POSIX_FADV_DONTNEED)
        #endif
        done += n
    }
    return DiskBandwidth(dir: dir, bytes: bytes, write: write, read: Double(bytes) / (now() - t1))
}
