#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The element types Spectral computes in: `Float` and `Double`.
///
/// The protocol carries the SIMD vector the GEMM micro-kernel uses for this type on the ISA the library was built
/// for (see `Kernels/Blocking.swift`), plus the few elementary functions the generic code needs.
public protocol SpectralScalar: BinaryFloatingPoint, SIMDScalar, Sendable, Codable, CustomStringConvertible, LosslessStringConvertible
where RawSignificand: FixedWidthInteger {
    /// The vector the micro-kernel holds a row of its tile in (two of them per tile row).
    associatedtype KernelVector: SIMD where KernelVector.Scalar == Self
    /// Short dtype name used by the CLI and JSON output: `"f32"` or `"f64"`.
    static var dtypeName: String { get }
    /// The machine epsilon, 2^-23 or 2^-52.
    static var eps: Self { get }
    /// Exact conversion to Double (both types embed in it).
    var double: Double { get }
    /// Rounding conversion from Double.
    init(_ value: Double)
    static func sqrtValue(_ x: Self) -> Self
}

extension Float: SpectralScalar {
    #if SPECTRAL_AVX512
    /// The SIMD vector the GEMM micro-kernels use for this type in this build (AVX-512: 512 bits, AVX2 or arm64: 256, else 128).
    public typealias KernelVector = SIMD16<Float>
    #elseif SPECTRAL_FMA || arch(arm64)
    /// The SIMD vector the GEMM micro-kernels use for this type in this build (AVX-512: 512 bits, AVX2 or arm64: 256, else 128).
    public typealias KernelVector = SIMD8<Float>
    #else
    /// The SIMD vector the GEMM micro-kernels use for this type in this build (AVX-512: 512 bits, AVX2 or arm64: 256, else 128).
    public typealias KernelVector = SIMD4<Float>
    #endif
    /// numpy's name of the type: "f32".
    public static var dtypeName: String { "f32" }
    /// Machine epsilon, 2⁻²³.
    public static var eps: Float { .ulpOfOne }
    /// The value as a Double (exact).
    @inlinable public var double: Double { Double(self) }
    /// The correctly rounded square root.
    @inlinable public static func sqrtValue(_ x: Float) -> Float { x.squareRoot() }
}

extension Double: SpectralScalar {
    #if SPECTRAL_AVX512
    /// The SIMD vector the GEMM micro-kernels use for this type in this build (AVX-512: 512 bits, AVX2 or arm64: 256, else 128).
    public typealias KernelVector = SIMD8<Double>
    #elseif SPECTRAL_FMA || arch(arm64)
    /// The SIMD vector the GEMM micro-kernels use for this type in this build (AVX-512: 512 bits, AVX2 or arm64: 256, else 128).
    public typealias KernelVector = SIMD4<Double>
    #else
    /// The SIMD vector the GEMM micro-kernels use for this type in this build (AVX-512: 512 bits, AVX2 or arm64: 256, else 128).
    public typealias KernelVector = SIMD2<Double>
    #endif
    /// numpy's name of the type: "f64".
    public static var dtypeName: String { "f64" }
    /// Machine epsilon, 2⁻⁵².
    public static var eps: Double { .ulpOfOne }
    /// The value itself.
    @inlinable public var double: Double { self }
    /// The correctly rounded square root.
    @inlinable public static func sqrtValue(_ x: Double) -> Double { x.squareRoot() }
}
