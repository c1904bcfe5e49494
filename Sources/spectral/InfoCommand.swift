import Spectral

let infoSpec = CommandSpec(
    name: "info", summary: "Print the version, the ISA this binary was built for, the CPU's features, caches and default threads.",
    usage: "spectral info", options: [], flags: [("--json", "print one JSON object instead of text")], positionals: 0...0)

func runInfo(_ args: Arguments) throws {
    let sys = SystemInfo.current()
    let caches = sys.caches.map { "\($0.name) \($0.bytes / 1024) KiB" }.joined(separator: ", ")
    if args.switches.contains("--json") {
        print(JSON.object([
            ("version", .string(SpectralRuntime.version)), ("isa", .string(KernelISA.name)), ("fma", .bool(KernelISA.fused)),
            ("tiles", .string(KernelISA.tiles)), ("cpu", .string(sys.model)),
            ("features", .array(sys.features.map(JSON.string))),
            ("caches", .object(sys.caches.map { ($0.name, .int($0.bytes)) })),
            ("cores", .int(SpectralRuntime.activeCores)), ("default_threads", .int(SpectralRuntime.defaultThreads)),
        ]).text)
    } else {
        print("Spectral \(SpectralRuntime.version)")
        print("built for:       \(KernelISA.name); GEMM tiles \(KernelISA.tiles)")
        print("cpu:             \(sys.model)")
        print("cpu features:    \(sys.features.joined(separator: " "))")
        print("caches:          \(caches.isEmpty ? "unknown" : caches)")
        print("cores:           \(SpectralRuntime.activeCores)")
        print("default threads: \(SpectralRuntime.defaultThreads) (SPECTRAL_NUM_THREADS, else active cores)")
    }
    if sys.fasterBuildAvailable {
        printError("warning: this CPU supports AVX2+FMA but this binary is the portable build (about 3× slower GEMM); "
                   + "build with: swift build -c release -Xcc -march=x86-64-v3 -Xswiftc -DSPECTRAL_FMA")
    }
}
