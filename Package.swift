// swift-tools-version:6.0
import PackageDescription

// Tuned builds are opt-in so that Spectral stays usable as a versioned dependency (no unsafeFlags by default).
// Either pass the flags on the command line (works for consumers too):
//   swift build -c release -Xcc -march=x86-64-v3 -Xswiftc -DSPECTRAL_FMA
// or, in this package as root, set SPECTRAL_TUNED=1 (compared to "1"), which adds the same two settings to every target.
let tuned = Context.environment["SPECTRAL_TUNED"] == "1"
var tunedSettings: [SwiftSetting] = []
#if arch(x86_64)
if tuned {
    tunedSettings = [.unsafeFlags(["-Xcc", "-march=x86-64-v3"]), .define("SPECTRAL_FMA")]
}
#endif

let package = Package(
    name: "Spectral",
    platforms: [.macOS(.v15), .iOS(.v18)],   // Synchronization.Atomic
    products: [
        .library(name: "Spectral", targets: ["Spectral"]),
        .executable(name: "spectral", targets: ["spectral"]),
    ],
    targets: [
        .target(name: "Spectral", swiftSettings: tunedSettings),
        .executableTarget(name: "spectral", dependencies: ["Spectral"], swiftSettings: tunedSettings),
        .testTarget(name: "SpectralTests", dependencies: ["Spectral"], exclude: ["Fixtures"], swiftSettings: tunedSettings),
    ],
    swiftLanguageModes: [.v6]
)
