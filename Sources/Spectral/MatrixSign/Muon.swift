/// Muon (Keller Jordan; PyTorch `torch.optim.Muon`; Moonlight): momentum on each weight matrix's gradient, then
/// the update is replaced by its msign (Newton–Schulz), scaled, with decoupled weight decay:
/// W ← W·(1 − lr·wd) − lr·scale·NS(u). These are its hyperparameters (`Muon.options`).
public struct MuonOptions: Sendable, Equatable {
    /// How the momentum buffer accumulates.
    public enum Momentum: Sendable, Equatable {
        /// m ← β·m + (1 − β)·g (Keller Jordan, PyTorch).
        case exponentialMovingAverage
        /// m ← β·m + g (Moonlight).
        case classic
    }
    /// How the orthogonalised update is scaled for a rows×cols weight.
    public enum Scaling: Sendable, Equatable {
        /// √max(1, rows/cols) (Keller Jordan; PyTorch "original").
        case jordan
        /// 0.2·√max(rows, cols): update RMS 0.2, like AdamW's (Moonlight; PyTorch "match_rms_adamw").
        case matchAdamW
        /// 1.
        case none
    }
    /// Step size η (default 0.02, Keller Jordan's).
    public var learningRate: Double = 0.02
    /// Momentum coefficient β (default 0.95).
    public var momentum: Double = 0.95
    /// Orthogonalise the Nesterov look-ahead (1 − β)·g + β·m (g + β·m for `.classic` momentum) instead of m
    /// (default true, as muon.py).
    public var nesterov: Bool = true
    /// Decoupled weight decay λ: W ← W·(1 − η·λ) before the update (default 0).
    public var weightDecay: Double = 0
    /// How the momentum buffer accumulates gradients (default: exponential moving average, as muon.py).
    public var momentumStyle: Momentum = .exponentialMovingAverage
    /// How the orthogonalised update is scaled for the weight's shape (default `.jordan`).
    public var scaling: Scaling = .jordan
    /// The Newton–Schulz coefficients used for msign (default `.jordan`).
    public var schedule: NewtonSchulzSchedule = .jordan
    /// Newton–Schulz steps; nil takes the schedule's `defaultSteps` (5 for `.jordan`).
    public var steps: Int? = nil
    /// Options with the given fields; every argument defaults as documented on its property (Keller Jordan's Muon).
    /// - Parameters:
    ///   - learningRate: step size η.
    ///   - momentum: momentum coefficient β.
    ///   - nesterov: orthogonalise the Nesterov look-ahead.
    ///   - weightDecay: decoupled weight decay λ.
    ///   - momentumStyle: how the momentum buffer accumulates.
    ///   - scaling: how the update is scaled for the weight's shape.
    ///   - schedule: the Newton–Schulz coefficients.
    ///   - steps: Newton–Schulz steps (nil: the schedule's own).
    public init(learningRate: Double = 0.02, momentum: Double = 0.95, nesterov: Bool = true, weightDecay: Double = 0,
                momentumStyle: Momentum = .exponentialMovingAverage, scaling: Scaling = .jordan,
                schedule: NewtonSchulzSchedule = .jordan, steps: Int? = nil) {
        self.learningRate = learningRate
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        self.momentumStyle = momentumStyle
        self.scaling = scaling
        self.schedule = schedule
        self.steps = steps
    }

    /// Keller Jordan's Muon: every field at its default.
    public static let `default` = MuonOptions()
}

/// A Muon optimizer over a fixed list of weight matrices. Its momentum buffers are its own (value-semantic copies),
/// never aliased to the weights or gradients passed in.
///
/// ```swift
/// var opt = try Muon<Float>(shapes: weights.map { ($0.rows, $0.cols) }, options: .init(learningRate: 0.02))
/// try opt.step(&weights, gradients: grads)
/// ```
public struct Muon<T: SpectralScalar>: Sendable {
    /// The hyperparameters; changing them between steps takes effect at the next step.
    public var options: MuonOptions
    /// One momentum buffer per weight.
    public private(set) var momenta: [Matrix<T>]

    /// An optimizer for weights of these shapes, its momentum buffers zero.
    /// - Throws: `.invalidArgument` for a negative size or one whose element count overflows `Int`.
    public init(shapes: [(rows: Int, cols: Int)], options: MuonOptions = .default) throws {
        for (i, s) in shapes.enumerated() where s.rows < 0 || s.cols < 0 {
            throw SpectralError.invalidArgument("Muon: parameter \(i) has the negative size \(shapeString(s.rows, s.cols))")
        }
        self.options = options
        momenta = try shapes.map { try Matrix<T>(zeros: $0.rows, $0.cols) }
    }

    /// One optimizer step, all or nothing: when it throws, the weights and the momentum buffers are as they were.
    /// - Throws: `.shapeMismatch` when the weights or gradients do not match the buffers; `.nonFinite` for NaN/Inf
    ///   weights or gradients; `.invalidArgument` for options that are not finite (learning rate, momentum,
    ///   weight decay), a momentum outside [0, 1], negative steps, or threads < 1; `.overflow` when the new momentum
    ///   or weights would overflow the type.
    public mutating func step(_ weights: inout [Matrix<T>], gradients: [Matrix<T>], threads: Int? = nil) throws {
        // Everything is checked and computed first; the weights and buffers are assigned only at the end.
        guard weights.count == momenta.count, gradients.count == momenta.count else {
            throw SpectralError.shapeMismatch("Muon: \(momenta.count) buffers, \(weights.count) weights, \(gradients.count) gradients")
        }
        let cfg = options
        guard cfg.learningRate.isFinite, cfg.weightDecay.isFinite else {
            throw SpectralError.invalidArgument("Muon: learning rate and weight decay must be finite")
        }
        guard cfg.momentum >= 0 && cfg.momentum <= 1 else {
            throw SpectralError.invalidArgument("Muon: momentum must be in [0, 1], got \(cfg.momentum)")
        }
        let nt = try resolveThreads(threads)
        let steps = try newtonSchulzSteps(cfg.steps, schedule: cfg.schedule, inputScale: 1)
        for i in 0..<momenta.count {
            let (r, c) = (momenta[i].rows, momenta[i].cols)
            guard weights[i].rows == r, weights[i].cols == c, gradients[i].rows == r, gradients[i].cols == c else {
                throw SpectralError.shapeMismatch("Muon: parameter \(i) expects \(shapeString(r, c))")
            }
            try gradients[i].requireFinite("Muon: gradient \(i)")
            try weights[i].requireFinite("Muon: weight \(i)")
        }
        let beta = T(cfg.momentum), lr = T(cfg.learningRate), wd = T(cfg.weightDecay)
        var newMomenta: [Matrix<T>] = [], newWeights: [Matrix<T>] = []
        for i in 0..<momenta.count {
            let g = gradients[i]
            let m: Matrix<T>
            switch cfg.momentumStyle {
            case .exponentialMovingAverage: m = try momenta[i] * beta + g * (1 - beta)
            case .classic: m = try momenta[i] * beta + g
            }
            try requireNoOverflow(m, "Muon: momentum \(i)")
            let u: Matrix<T>
            if cfg.nesterov {
                u = cfg.momentumStyle == .classic ? try g + m * beta : try g * (1 - beta) + m * beta
            } else {
                u = m
            }
            try requireNoOverflow(u, "Muon: update \(i)")
            let orthogonal = try newtonSchulz(u, schedule: cfg.schedule, steps: steps, threads: nt)
            let (rd, cd) = (Double(m.rows), Double(m.cols))
            let scale: Double
            switch cfg.scaling {
            case .jordan: scale = Swift.max(1, rd / cd).squareRoot()
            case .matchAdamW: scale = 0.2 * Swift.max(rd, cd).squareRoot()
            case .none: scale = 1
            }
            var w = weights[i]
            if wd != 0 { w.scale(by: 1 - lr * wd) }
            w = try w - orthogonal * (lr * T(scale))
            try requireNoOverflow(w, "Muon: weight \(i)")
            newMomenta.append(m); newWeights.append(w)
        }
        momenta = newMomenta
        weights = newWeights
    }
}

/// Throws `.overflow` naming `what` when a result computed from finite data is not finite.
private func requireNoOverflow<T: SpectralScalar>(_ m: Matrix<T>, _ what: String) throws {
    if !m.isFinite { throw SpectralError.overflow("\(what) overflows \(T.self)") }
}
