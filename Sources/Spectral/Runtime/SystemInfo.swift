#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the machine offers, read at run time (Linux: /proc/cpuinfo and /sys; elsewhere partly unknown).
public struct SystemInfo: Sendable {
    /// CPU model name, if known.
    public var model: String
    /// The x86 CPU family number (`cpu family` in /proc/cpuinfo: 25 for AMD Zen 3/4, 26 for Zen 5, 6 for Intel
    /// cores), if known. Hosts sold under one model name differ by family; published figures name it.
    public var family: Int?
    /// SIMD-related CPU feature flags found (`avx2`, `fma`, `avx512f`, `neon`, ...).
    public var features: [String]
    /// Cache sizes in bytes by level name (`L1d`, `L2`, `L3`), if known.
    public var caches: [(name: String, bytes: Int)]

    /// Reads the current machine.
    public static func current() -> SystemInfo {
        var model = "unknown", features: [String] = [], family: Int? = nil
        if let text = try? readFile("/proc/cpuinfo"), let s = String(validating: text, as: UTF8.self) {
            for line in s.split(separator: "\n") {
                let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters() }
                guard parts.count == 2 else { continue }
                if parts[0] == "model name" && model == "unknown" { model = parts[1] }
                if parts[0] == "cpu family" && family == nil { family = Int(parts[1]) }
                if (parts[0] == "flags" || parts[0] == "Features") && features.isEmpty {
                    let want: Set<String> = ["sse2", "avx", "avx2", "fma", "avx512f", "avx512vl", "asimd", "neon", "sve"]
                    features = parts[1].split(separator: " ").map(String.init).filter { want.contains($0) }
                }
            }
        }
        #if arch(arm64)
        if features.isEmpty { features = ["neon"] }
        #endif
        var caches: [(String, Int)] = []
        for idx in 0..<8 {
            let dir = "/sys/devices/system/cpu/cpu0/cache/index\(idx)/"
            guard let lv = try? readText(dir + "level"), let ty = try? readText(dir + "type"), let sz = try? readText(dir + "size") else { continue }
            if ty == "Instruction" { continue }
            var bytes = Int(sz.filter(\.isNumber)) ?? 0
            if sz.hasSuffix("K") { bytes *= 1024 } else if sz.hasSuffix("M") { bytes *= 1024 * 1024 }
            caches.append(("L\(lv)\(ty == "Data" ? "d" : "")", bytes))
        }
        return SystemInfo(model: model, family: family, features: features, caches: caches)
    }

    /// True when this CPU runs a faster build than this binary: the x86-64-v3 build (AVX2 and FMA) under a portable
    /// binary, or the x86-64-v4 build (AVX-512) under a portable or v3 one. `fasterBuildFlags` names it.
    public var fasterBuildAvailable: Bool { fasterBuildFlags != nil }

    /// The compiler flags of the fastest build this CPU runs (the choice `Scripts/tuned.sh` makes), when this binary
    /// is not that build; nil when it is, and on arm64, whose one build is fused already. A consumer's package gets
    /// that build with `swift build -c release` followed by these flags.
    ///
    /// ```swift
    /// if let flags = SystemInfo.current().fasterBuildFlags { print("swift build -c release \(flags)") }
    /// ```
    public var fasterBuildFlags: String? {
        #if arch(x86_64)
        let v3 = features.contains("avx2") && features.contains("fma")
        if v3 && features.contains("avx512f") && features.contains("avx512vl") && !KernelISA.avx512 { return KernelISA.v4Flags }
        if v3 && !KernelISA.fused { return KernelISA.v3Flags }
        #endif
        return nil
    }
}

private func readText(_ path: String) throws -> String {
    String(decoding: try readFile(path), as: UTF8.self).trimmingCharacters()
}

extension StringProtocol {
    func trimmingCharacters() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s = s.dropFirst() }
        while let l = s.last, l.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}

/// The machine's physical memory in bytes (0 when unknown).
func physicalMemoryBytes() -> Int {
    let pages = sysconf(Int32(_SC_PHYS_PAGES)), size = sysconf(Int32(_SC_PAGESIZE))
    return pages > 0 && size > 0 ? pages.multipliedReportingOverflow(by: size).partialValue : 0
}

/// Throws `.invalidArgument` when `count` elements of `bytesEach` bytes exceed the machine's physical memory (or
/// Int): the operations whose outputs or workspaces grow faster than their inputs (an outer product of two
/// 800 KB vectors is 80 GB) check first, instead of dying in the allocator.
func requireAllocatable(_ count: Int, bytesEach: Int, _ what: @autoclosure () -> String) throws {
    let (bytes, overflow) = count.multipliedReportingOverflow(by: bytesEach)
    let memory = physicalMemoryBytes()
    if overflow || (memory > 0 && bytes > memory) {
        let need = overflow ? "more than 2⁶³ bytes" : "\(Double(bytes) / 1e9) GB"
        throw SpectralError.invalidArgument("\(what()) would need \(need), more than this machine's \(Double(memory) / 1e9) GB of memory")
    }
}

/// m·n without trapping (Int.max when it overflows), for sizes passed to `requireAllocatable`.
func saturatingProduct(_ m: Int, _ n: Int) -> Int {
    let (p, o) = m.multipliedReportingOverflow(by: n)
    return o ? Int.max : p
}
