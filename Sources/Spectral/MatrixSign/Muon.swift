/// Muon (Keller Jordan; PyTorch `torch.optim.Muon`; Moonlight): momentum on each weight matrix's gradient, then
/// the update is replaced by its msign (Newton–Schulz), scaled, with decoupled weight decay:
/// W ← W·(1 − lr·wd) − lr·scale·NS(u).
public struct MuonConfiguration: Sendable {
    /// How the momentum buffer accumulates.
    public enum Momentum: Sendable {
        /// m ← β·m + (1 − β)·g (Keller Jordan, PyTorch).
        case exponentialMovingAverage
        /// m ← β·m + g (Moonlight).
        case classic
    }
    /// How the orthogonalised update is scaled for a rows×cols weight.
    public enum Scaling: Sendable {
        /// √max(1, rows/cols) (Keller Jordan; PyTorch "original").
        case jordan
        /// 0.2·√max(rows, cols): update RMS 0.2, like AdamW's (Moonlight; PyTorch "match_rms_adamw").
        case matchAdamW
        /// 1.
        case none
    }
    public var learningRate: Double = 0.02
    public var momentum: Double = 0.95
    public var nesterov: Bool = true
    public var weightDecay: Double = 0
    public var momentumStyle: Momentum = .exponentialMovingAverage
    public var scaling: Scaling = .jordan
    public var schedule: NewtonSchulzSchedule = .jordan
    public var steps: Int? = nil
    public init() {}
}

/// A Muon optimizer over a fixed list of weight matrices. Its momentum buffers are its own (value-semantic copies),
/// never aliased to the weights or gradients passed in.
///
/// ```swift
/// var config = MuonConfiguration(); config.learningRate = 0.02
/// var opt = Muon<Float>(shapes: weights.map { ($0.rows, $0.cols) }, configuration: config)
/// try opt.step(&weights, gradients: grads)
/// ```
public struct Muon<T: SpectralScalar>: Sendable {
    public var configuration: MuonConfiguration
    /// One momentum buffer per weight.
    public private(set) var momenta: [Matrix<T>]

    public init(shapes: [(rows: Int, cols: Int)], configuration: MuonConfiguration = MuonConfiguration()) {
        self.configuration = configuration
        momenta = shapes.map { Matrix<T>(rows: $0.rows, cols: $0.cols) }
    }

    /// One optimizer step. - Throws: `.shapeMismatch` when the weights or gradients do not match the buffers;
    /// `.nonFinite` for NaN/Inf gradients (the weights are left unchanged).
    public mutating func step(_ weights: inout [Matrix<T>], gradients: [Matrix<T>], threads: Int? = nil) throws {
        guard weights.count == momenta.count, gradients.count == momenta.count else {
            throw SpectralError.shapeMismatch("Muon: \(momenta.count) buffers, \(weights.count) weights, \(gradients.count) gradients")
        }
        for i in 0..<momenta.count {
            let (r, c) = (momenta[i].rows, momenta[i].cols)
            guard weights[i].rows == r, weights[i].cols == c, gradients[i].rows == r, gradients[i].cols == c else {
                throw SpectralError.shapeMismatch("Muon: parameter \(i) expects \(shapeString(r, c))")
            }
            try gradients[i].requireFinite("Muon: gradient \(i)")
        }
        let cfg = configuration
        let beta = T(cfg.momentum), lr = T(cfg.learningRate), wd = T(cfg.weightDecay)
        var updates: [Matrix<T>] = []
        for i in 0..<momenta.count {
            let g = gradients[i]
            switch cfg.momentumStyle {
            case .exponentialMovingAverage: momenta[i] = try momenta[i] * beta + g * (1 - beta)
            case .classic: momenta[i] = try momenta[i] * beta + g
            }
            let u: Matrix<T>
            if cfg.nesterov {
                u = cfg.momentumStyle == .classic ? try g + momenta[i] * beta : try g * (1 - beta) + momenta[i] * beta
            } else {
                u = momenta[i]
            }
            updates.append(u)
        }
        let orthogonal = try updates.map { try newtonSchulz($0, schedule: cfg.schedule, steps: cfg.steps, threads: threads) }
        for i in 0..<momenta.count {
            let (r, c) = (Double(momenta[i].rows), Double(momenta[i].cols))
            let scale: Double
            switch cfg.scaling {
            case .jordan: scale = Swift.max(1, r / c).squareRoot()
            case .matchAdamW: scale = 0.2 * Swift.max(r, c).squareRoot()
            case .none: scale = 1
            }
            if wd != 0 { weights[i].scale(by: 1 - lr * wd) }
            weights[i] = try weights[i] - orthogonal[i] * (lr * T(scale))
        }
    }
}
