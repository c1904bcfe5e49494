/// Every error Spectral throws. The message names the problem in terms a user understands
/// (shapes, the offending argument, the file), so a CLI can print it on one line.
public enum SpectralError: Error, Equatable, CustomStringConvertible, Sendable {
    /// Operand shapes do not agree, e.g. `"gemm: A is 3×4 but B is 5×2"`.
    case shapeMismatch(String)
    /// An argument is outside its valid range (negative size, rank out of range, bad option).
    case invalidArgument(String)
    /// The input holds NaN or ±Inf where the algorithm needs finite values.
    case nonFinite(String)
    /// An output would overlap an input (C sharing storage with A or B).
    case aliasing(String)
    /// A matrix is exactly singular where an inverse is needed (zero pivot of a triangular solve).
    case singular(String)
    /// The exact result is finite for the finite input but outside the type's range (e.g. A⁺ of a matrix whose
    /// smallest kept singular value is below 1/greatestFiniteMagnitude).
    case overflow(String)
    /// An iteration hit its cap without meeting its convergence test.
    case notConverged(String)
    /// A file could not be read or written, or its contents are corrupt or unsupported.
    case io(String)

    /// One line naming the kind of error and the problem, as the CLI prints it.
    public var description: String {
        switch self {
        case .shapeMismatch(let m): return "shape mismatch: \(m)"
        case .invalidArgument(let m): return "invalid argument: \(m)"
        case .nonFinite(let m): return "non-finite input: \(m)"
        case .aliasing(let m): return "aliasing: \(m)"
        case .singular(let m): return "singular matrix: \(m)"
        case .overflow(let m): return "overflow: \(m)"
        case .notConverged(let m): return "not converged: \(m)"
        case .io(let m): return "I/O error: \(m)"
        }
    }
}

/// "3×4", the way every message prints a shape.
@inlinable
func shapeString(_ rows: Int, _ cols: Int) -> String { "\(rows)×\(cols)" }
