import Foundation
import Spectral

/// One numpy/scipy peer process (`Benchmarks/peers.py --serve`) with OpenBLAS limited to `threads`, kept alive
/// for the whole run so that each case can alternate: ours, peer, ours, peer.
final class PeerServer {
    let threads: Int
    /// "numpy X scipy Y", as the peer reported.
    private(set) var versions = ""
    private let process: Process
    private let input: FileHandle
    private let output: FileHandle
    private var buffer: [UInt8] = []

    /// Starts the peer; nil (with the reason on stderr) when Python, numpy or the script is missing.
    init?(script: String, threads: Int) {
        self.threads = threads
        guard FileManager.default.fileExists(atPath: script) else {
            printError("bench: no peers: \(script) not found (run from the repository root or pass --peer PATH); continuing without them")
            return nil
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", script, "--serve"]
        var env = ProcessInfo.processInfo.environment
        env["OPENBLAS_NUM_THREADS"] = String(threads); env["OMP_NUM_THREADS"] = String(threads); env["MKL_NUM_THREADS"] = String(threads)
        // Let OpenBLAS pick its own kernel for this CPU.
        env.removeValue(forKey: "OPENBLAS_CORETYPE"); env.removeValue(forKey: "OPENBLAS_L2_SIZE")
        p.environment = env
        let inPipe = Pipe(), outPipe = Pipe()
        p.standardInput = inPipe; p.standardOutput = outPipe; p.standardError = FileHandle.nullDevice
        do { try p.run() } catch {
            printError("bench: no peers: cannot start python3 (\(error.localizedDescription)); continuing without them")
            return nil
        }
        process = p; input = inPipe.fileHandleForWriting; output = outPipe.fileHandleForReading
        guard let ready = readLine(), ready.hasPrefix("ready ") else {
            printError("bench: no peers: python3 \(script) did not start (is numpy installed? try: python3 -c 'import numpy'); continuing without them")
            p.terminate()
            return nil
        }
        versions = String(ready.dropFirst(6))
    }

    /// Median seconds of the peer on `c` over about `minTime` seconds, its own accuracy figure if it has one, and
    /// the threads it really used ("2" for OpenBLAS at 2 threads; "1" for numpy's element-wise code, which is
    /// single-threaded whatever OpenBLAS is given); nil when the peer cannot run this case (the reason on stderr).
    func time(_ c: BenchCase, minTime: Double, inputPath: String? = nil) -> (seconds: Double, error: Double?, threads: String)? {
        guard process.isRunning else { return nil }
        input.write(Data("\(c.peerKey) \(minTime)\(inputPath.map { " " + $0 } ?? "")\n".utf8))
        guard let line = readLine() else { return nil }
        let f = line.split(separator: " ")
        guard f.count >= 2, f[0] == c.peerKey else { return nil }
        if f[1] == "error" {
            printError("bench: peer cannot run \(c.peerKey): \(f.dropFirst(2).joined(separator: " "))")
            return nil
        }
        guard let s = Double(f[1]) else { return nil }
        var error: Double? = nil, used = String(threads)
        for token in f.dropFirst(2) {
            if token.hasPrefix("threads=") {
                let t = token.dropFirst(8).replacingOccurrences(of: "_", with: " ")
                used = t == "BLAS" ? String(threads) : t.replacingOccurrences(of: "BLAS", with: "\(threads)")
            } else if let e = Double(token), e.isFinite {
                error = e
            }
        }
        return (s, error, used)
    }

    private func readLine() -> String? {
        while true {
            if let nl = buffer.firstIndex(of: 10) {
                let line = String(decoding: buffer[..<nl], as: UTF8.self)
                buffer.removeSubrange(...nl)
                return line
            }
            let chunk = output.availableData
            if chunk.isEmpty { return nil }
            buffer += chunk
        }
    }

    deinit {
        try? input.close()
        if process.isRunning { process.terminate() }
    }
}
