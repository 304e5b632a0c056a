import TensorCore

/// The settings of ``LinearProbe``; the defaults are SVT's `eval_linear.py` (DINO's recipe,
/// `reference/SVT-VideoMS-IIC.md` §1.8).
public struct LinearProbeConfiguration: Sendable, Codable, Equatable {
    /// Passes over the training rows (SVT: 20).
    public var epochs: Int
    /// Rows per SGD step (SVT's script: 16 per GPU); the last batch of an epoch may be smaller.
    public var batchSize: Int
    /// The starting learning rate; `nil` means DINO's rule `0.001 × batchSize / 256`.
    public var learningRate: Double?
    /// SGD momentum (0.9).
    public var momentum: Double
    /// L2 weight decay on weight and bias (0).
    public var weightDecay: Double
    /// Standard deviation of the weight's normal initialisation (0.01; the bias starts at 0).
    public var weightStd: Float
    /// Seed of the initial weight and of every epoch's shuffle.
    public var seed: UInt64

    /// Creates a configuration.
    public init(
        epochs: Int = 20, batchSize: Int = 16, learningRate: Double? = nil, momentum: Double = 0.9,
        weightDecay: Double = 0, weightStd: Float = 0.01, seed: UInt64 = 0
    ) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.weightStd = weightStd
        self.seed = seed
    }

    /// The learning rate of the first epoch: ``learningRate``, or `0.001 × batchSize / 256`.
    public var baseLearningRate: Double { learningRate ?? 0.001 * Double(batchSize) / 256 }

    /// The learning rate of each epoch: cosine annealing from ``baseLearningRate`` to 0 over
    /// ``epochs``, stepped once per epoch as `CosineAnnealingLR(T_max=epochs, eta_min=0)`.
    public var schedule: CosineSchedule { CosineSchedule(base: baseLearningRate, end: 0, maxEpoch: Double(epochs)) }

    /// Checks every setting, naming the command-line option of a bad one.
    public func validate() throws(ProbeError) {
        guard epochs > 0 else { throw .invalidSetting(name: "--epochs", value: "\(epochs)", allowed: "must be positive") }
        guard batchSize > 0 else { throw .invalidSetting(name: "--batch-size", value: "\(batchSize)", allowed: "must be positive") }
        guard baseLearningRate > 0, baseLearningRate.isFinite else {
            throw .invalidSetting(name: "--lr", value: "\(baseLearningRate)", allowed: "must be positive and finite")
        }
        guard momentum >= 0, momentum < 1 else {
            throw .invalidSetting(name: "momentum", value: "\(momentum)", allowed: "must lie in [0, 1)")
        }
        guard weightDecay >= 0, weightDecay.isFinite else {
            throw .invalidSetting(name: "weight decay", value: "\(weightDecay)", allowed: "must be zero or positive")
        }
        guard weightStd >= 0, weightStd.isFinite else {
            throw .invalidSetting(name: "weight std", value: "\(weightStd)", allowed: "must be zero or positive")
        }
    }
}

/// One epoch of ``LinearProbe`` training.
public struct LinearProbeEpoch: Sendable, Codable, Equatable {
    /// The epoch, from 1.
    public var epoch: Int
    /// The learning rate used throughout the epoch.
    public var learningRate: Double
    /// The mean cross-entropy over the epoch's training rows.
    public var trainLoss: Double
    /// Validation top-1 (0…1) after the epoch, when a validation set was given.
    public var validationTop1: Double?
    /// Validation top-5 (0…1) after the epoch, when a validation set was given.
    public var validationTop5: Double?
}

/// A trained linear probe and its history.
public struct LinearProbeResult: Sendable {
    /// The classifier's weight, `[K, C]` (PyTorch's `linear.weight`).
    public var weight: Tensor
    /// The classifier's bias, `[K]`.
    public var bias: Tensor
    /// Every epoch, in order.
    public var epochs: [LinearProbeEpoch]
    /// The epoch (from 1) with the best validation top-1, the first on ties; `nil` without validation.
    public var bestEpoch: Int?
    /// The best validation top-1: what SVT's script prints as its final "Top-1 test accuracy".
    public var bestTop1: Double?
    /// The validation report after the last epoch; `nil` without validation.
    public var final: EvaluationReport?

    /// Class logits `[N, K]` of `features` `[N, C]`.
    public func logits(_ features: Tensor) -> Tensor {
        noGrad { Tensor.linear(features, weight: weight, bias: bias) }
    }

    /// The report on `test`, the logits of a video's views summed (SVT's multi-crop test).
    ///
    /// - Throws: ``ProbeError`` for an empty test set, non-finite features, a width that differs,
    ///   or a label the classifier has no class for (``ProbeError/invalidSetting(name:value:allowed:)``).
    public func evaluate(_ test: FeatureSet) throws(ProbeError) -> EvaluationReport {
        try ProbeError.check(test.features, role: "validation")
        guard test.width == weight.shape[1] else { throw .widthMismatch(train: weight.shape[1], validation: test.width) }
        let classes = weight.shape[0]
        if let label = test.labels.first(where: { $0 >= classes }) {
            throw .invalidSetting(name: "validation label", value: "\(label)", allowed: "the probe has \(classes) classes")
        }
        return EvaluationReport(logits: test.sumOverViews(logits(test.features)), labels: test.videoLabels)
    }
}

/// SVT's (DINO's) linear probe trained by SGD on frozen features.
///
/// A `Linear(C → K)` with weight drawn from `N(0, weightStd²)` and zero bias is trained with SGD
/// (momentum 0.9, no weight decay) on cross-entropy, over shuffled mini-batches of the training
/// rows, with the learning rate annealed per epoch by a cosine to 0
/// (``LinearProbeConfiguration``). `K` is one more than the largest label of either set. After
/// each epoch the validation set is scored, the logits of a video's views summed.
///
/// DINO and SVT feed the frozen backbone a fresh random clip of each video every epoch. Here the
/// features are computed once (`videossl extract-features`), so the probe sees the cached view(s)
/// every epoch: with `--per-view` features each view is a training row of its own.
///
/// Randomness: a `RandomGenerator` seeded with ``LinearProbeConfiguration/seed`` draws the weight
/// first (row-major), then one permutation of the training rows per epoch; batches are
/// consecutive runs of that permutation.
///
/// ```swift
/// let result = try LinearProbe(LinearProbeConfiguration(epochs: 20)).train(on: train, validation: val)
/// print(result.bestTop1 ?? 0, result.final?.top1 ?? 0)
/// ```
public struct LinearProbe: Sendable {
    /// The settings.
    public var configuration: LinearProbeConfiguration

    /// Creates a probe with the given settings.
    public init(_ configuration: LinearProbeConfiguration = LinearProbeConfiguration()) {
        self.configuration = configuration
    }

    /// Trains on every row of `train`, validating after each epoch on `validation` when given.
    ///
    /// `onEpoch` is called after each epoch (for progress output).
    /// - Throws: ``ProbeError``: a bad setting, empty sets, non-finite features, widths that
    ///   differ, and ``ProbeError/diverged(epoch:learningRate:)`` when the loss stops being finite.
    public func train(
        on train: FeatureSet, validation: FeatureSet? = nil, onEpoch: ((LinearProbeEpoch) -> Void)? = nil
    ) throws(ProbeError) -> LinearProbeResult {
        let c = configuration
        try c.validate()
        try ProbeError.check(train.features, role: "train")
        if let validation { try ProbeError.check(train: train, validation: validation) }
        let classCount = Swift.max(train.labels.max()!, validation?.labels.max() ?? 0) + 1
        let (rows, width) = (train.count, train.width)

        var generator = RandomGenerator(seed: c.seed)
        // Linear draws PyTorch's default start from a generator of its own; DINO's start replaces it,
        // so the probe's generator draws only the weight and the shuffles.
        var unused = RandomGenerator(seed: 0)
        let linear = Linear(inFeatures: width, outFeatures: classCount, using: &unused)
        Init.normal(linear.weight, std: c.weightStd, using: &generator)
        Init.zeros(linear.bias!)
        let optimizer = SGD(
            [ParameterGroup(name: "linear", parameters: linear.namedParameters(), weightDecay: c.weightDecay)],
            learningRate: c.baseLearningRate, momentum: c.momentum)
        let schedule = c.schedule

        var history: [LinearProbeEpoch] = [], final: EvaluationReport? = nil
        for epoch in 0..<c.epochs {
            optimizer.learningRate = schedule(Double(epoch))
            let order = generator.permutation(rows)
            var lossSum = 0.0
            for start in stride(from: 0, to: rows, by: c.batchSize) {
                let batch = Array(order[start..<Swift.min(start + c.batchSize, rows)])
                let x = train.features.indexSelect(axis: 0, indices: batch)
                linear.zeroGrad()
                let loss = crossEntropy(logits: linear(x), labels: batch.map { train.labels[$0] })
                let value = Double(loss.item)
                guard value.isFinite else { throw .diverged(epoch: epoch + 1, learningRate: optimizer.learningRate) }
                loss.backward()
                optimizer.step()
                lossSum += value * Double(batch.count)
            }
            var record = LinearProbeEpoch(epoch: epoch + 1, learningRate: optimizer.learningRate,
                                          trainLoss: lossSum / Double(rows))
            if let validation {
                let logits = noGrad { linear(validation.features) }
                let report = EvaluationReport(logits: validation.sumOverViews(logits), labels: validation.videoLabels)
                record.validationTop1 = report.top1
                record.validationTop5 = report.top5
                final = report
            }
            history.append(record)
            onEpoch?(record)
        }
        let best = history.filter { $0.validationTop1 != nil }.max { a, b in
            a.validationTop1! < b.validationTop1! || (a.validationTop1! == b.validationTop1! && a.epoch > b.epoch)
        }
        return LinearProbeResult(
            weight: linear.weight.value.detached(), bias: linear.bias!.value.detached(), epochs: history,
            bestEpoch: best?.epoch, bestTop1: best?.validationTop1, final: final)
    }
}
