import Foundation
import Spectral

let commands: [(CommandSpec, (Arguments) throws -> Void)] = [
    (infoSpec, runInfo), (benchSpec, runBench), (gemmSpec, runGemm), (qrSpec, runQR), (qrcpSpec, runQRCP), (svdSpec, runSVD),
    (pinvSpec, runPinv), (lstsqSpec, runLstsq), (rankSpec, runRank), (norm2Spec, runNorm2), (lowrankSpec, runLowRank), (crSpec, runCR), (idSpec, runID), (curSpec, runCUR),
    (msignSpec, runMsign), (polarSpec, runPolar), (msignCoefficientsSpec, runMsignCoefficients), (muonDemoSpec, runMuonDemo),
    (topkSpec, runTopK), (attentionSpec, runAttention),
]

@MainActor func topHelp() -> String {
    var s = "usage: spectral COMMAND [ARGS] [--help]\n\nSpectral \(SpectralRuntime.version): dense numerics in pure Swift.\n\ncommands:\n"
    let w = commands.map(\.0.name.count).max() ?? 0
    for (spec, _) in commands { s += "  " + spec.name + String(repeating: " ", count: w - spec.name.count + 2) + spec.summary + "\n" }
    return s
}

@MainActor func main() -> Int32 {
    let argv = Array(CommandLine.arguments.dropFirst())
    guard let name = argv.first else { printError("spectral: error: no command given (try spectral --help)"); return 2 }
    if name == "--help" || name == "-h" || name == "help" { print(topHelp(), terminator: ""); return 0 }
    if name == "--version" { print(SpectralRuntime.version); return 0 }
    guard let (spec, run) = commands.first(where: { $0.0.name == name }) else {
        printError("spectral: error: unknown command '\(name)' (try spectral --help)")
        return 2
    }
    do {
        let args = try Arguments(Array(argv.dropFirst()), spec: spec)
        if args.wantsHelp { print(spec.help, terminator: ""); return 0 }
        // A command's --threads N also bounds its checks (which take the library's default).
        if let t = args.values["--threads"].flatMap({ Int($0) }), t >= 1 { SpectralRuntime.defaultThreads = t }
        try run(args)
        return 0
    } catch let e as UsageError {
        printError("spectral: error: \(e.message)")
        return 2
    } catch let e as SpectralError {
        printError("spectral: error: \(e.description)")
        return 1
    } catch {
        printError("spectral: error: \(error)")
        return 1
    }
}

exit(main())
