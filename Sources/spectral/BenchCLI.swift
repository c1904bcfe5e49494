import Foundation
import Spectral

/// `spectral bench cli`: each command end to end as a user runs it (a new process on .npy files), against the
/// algorithm time the command itself reports and the time to read its inputs and write its outputs in-process at
/// memory speed. Issue 17's target: wall ≤ 1.25 × (algorithm + IO). Not a timed test: a report.
let benchCLICommands: [(name: String, args: [String], inputs: [String])] = [
    ("gemm", ["gemm", "A.npy", "B.npy"], ["A.npy", "B.npy"]),
    ("qr", ["qr", "A.npy"], ["A.npy"]),
    ("qrcp", ["qrcp", "A.npy"], ["A.npy"]),
    ("svd", ["svd", "A.npy"], ["A.npy"]),
    ("pinv", ["pinv", "A.npy"], ["A.npy"]),
    ("id", ["id", "A.npy", "--rank", "100"], ["A.npy"]),
    ("cur", ["cur", "A.npy", "--rank", "50"], ["A.npy"]),
    ("msign", ["msign", "W.npy"], ["W.npy"]),
    ("topk", ["topk", "A.npy", "--k", "16"], ["A.npy"]),
    ("attention", ["attention", "Q.npy", "K.npy", "V.npy"], ["Q.npy", "K.npy", "V.npy"]),
]

func runBenchCLI(_ args: Arguments) throws {
    let quick = args.switches.contains("--quick")
    let n = quick ? 256 : 1024
    let rounds = try args.int("--rounds", default: 3, min: 1)!
    let dir = NSTemporaryDirectory() + "spectral-bench-cli-\(getpid())"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    // Inputs: f32 n×n (msign n×4n), as the measurements.
    for (name, rows, cols, seed) in [("A", n, n, 1), ("B", n, n, 2), ("W", n, 4 * n, 3), ("Q", n, 64, 4), ("K", n, 64, 5), ("V", n, 64, 6)] {
        try NpyArray(Matrix<Float>.randomNormal(rows: rows, cols: cols, seed: UInt64(seed))).write(path: dir + "/\(name).npy")
    }
    let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
    var json: [JSON] = []
    print("command      wall_ms   algorithm_ms   io_ms   wall/(algorithm+io)   (median of \(rounds) runs, \(n)² f32; msign \(n)×\(4 * n))")
    for c in benchCLICommands {
        var walls: [Double] = [], algs: [Double] = [], ios: [Double] = []
        for r in 0..<rounds {
            let out = dir + "/out-\(c.name)-\(r)"
            let argv = [exe] + c.args.map { $0.hasSuffix(".npy") ? dir + "/" + $0 : $0 } + ["--out", out]
            let t0 = now()
            let status = try spawnAndWait(argv)          // posix_spawn + waitpid: Process.waitUntilExit polls every 50 ms
            let wall = now() - t0
            guard status == 0, let data = FileManager.default.contents(atPath: out + "/summary.json"),
                  let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let alg = obj["seconds"] as? Double else {
                throw SpectralError.io("bench cli: \(c.name) failed (status \(status))")
            }
            // IO at memory speed: read the inputs and write the outputs again with the library, in this process.
            let outputs = try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.hasSuffix(".npy") }
            let arrays = try outputs.map { try NpyArray.read(path: out + "/" + $0) }
            let t1 = now()
            for f in c.inputs { _ = try NpyArray.read(path: dir + "/" + f) }
            for (i, a) in arrays.enumerated() { try a.write(path: dir + "/io-\(i).npy") }
            let io = now() - t1
            walls.append(wall); algs.append(alg); ios.append(io)
            try? FileManager.default.removeItem(atPath: out)
        }
        let (w, a, io) = (median(walls), median(algs), median(ios))
        let ratio = w / (a + io)
        print(pad(c.name, 12) + lpad(String(format: "%.1f", w * 1e3), 8) + lpad(String(format: "%.1f", a * 1e3), 15)
              + lpad(String(format: "%.1f", io * 1e3), 8) + lpad(String(format: "%.2f", ratio), 22))
        json.append(.object([("op", .string("cli-" + c.name)), ("wall_seconds", .number(w)), ("algorithm_seconds", .number(a)),
                             ("io_seconds", .number(io)), ("ratio", .number(ratio)), ("rounds", .int(rounds)), ("size", .int(n))]))
    }
    print("algorithm_ms: the time the command reports for its algorithm; io_ms: reading its inputs and writing its outputs with the library in-process (memory speed); the rest is process start, forming outputs (Q of qr) and the post-checks.")
    if let path = args.values["--json"] {
        try Data(json.map { $0.text + "\n" }.joined().utf8).write(to: URL(fileURLWithPath: path))
    }
}

/// Runs argv[0] with argv, stdout and stderr to /dev/null, and returns its wait status (0: exit 0).
func spawnAndWait(_ argv: [String]) throws -> Int32 {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    var cargs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
    defer { for p in cargs { free(p) } }
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, argv[0], &actions, nil, &cargs, environ)
    guard rc == 0 else { throw SpectralError.io("bench cli: cannot start \(argv[0]) (\(String(cString: strerror(rc))))") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    return status
}
