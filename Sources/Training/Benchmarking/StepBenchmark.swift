import Foundation
import TemporalSSL
import TensorCore
import VideoTransformers

/// Times training and inference steps of a registered backbone on random clips, and measures
/// what a training step needs in memory.
///
/// `videossl bench` and `Benchmarks/ModelBenchmarks` (against PyTorch) both measure through this
/// type. A training step is forward, cross-entropy, backward and an AdamW step (learning rate
/// 1e-4, weight decay 0.05 on parameters with two or more dimensions); with TIME the forward is
/// the trainer's: the clip, then the same clip with its frames shuffled, and TIME's four loss
/// terms (flow-direction labels drawn at random, since the model is measured, not optical flow).
///
/// ```swift
/// let bench = try StepBenchmark(model: "timesformer_tiny_8x112", batchSize: 4)
/// let train = bench.measure(.train)          // run it in a fresh process: see ``Measurement``
/// let gflops = train.clipsPerSecond * bench.matmulFlopsPerClip(.train) / 1e9
/// ```
public struct StepBenchmark: Sendable {
    /// What one measured step does.
    public enum Mode: String, Sendable, Hashable, Codable, CaseIterable {
        /// Forward in training mode, cross-entropy, backward, AdamW step.
        case train
        /// TIME's step: both forwards, the four loss terms, backward, AdamW step over the backbone
        /// and TIME's heads.
        case trainWithTIME = "train+time"
        /// Forward in evaluation mode without recording a graph.
        case inference = "infer"
    }

    /// One measurement: the median step time of ``steps`` steps after one warm-up step, and the
    /// process's memory.
    ///
    /// The peak resident set belongs to the whole process, so measure each mode in a fresh
    /// process (as `videossl bench` and ModelBenchmarks do) for it to describe that mode alone.
    public struct Measurement: Sendable, Hashable, Codable {
        /// The mode measured.
        public var mode: Mode
        /// Clips per step.
        public var batch: Int
        /// Compute threads (`ComputeContext.threadCount`).
        public var threads: Int
        /// Median seconds per step.
        public var stepSeconds: Double
        /// `batch / stepSeconds`.
        public var clipsPerSecond: Double
        /// The process's peak resident set (`VmHWM`) after the steps, in bytes.
        public var peakRSSBytes: Int
        /// The resident set once the model, inputs and optimizer existed, before the first step.
        public var baselineRSSBytes: Int

        /// Creates a measurement from its figures.
        public init(mode: Mode, batch: Int, threads: Int, stepSeconds: Double, clipsPerSecond: Double,
                    peakRSSBytes: Int, baselineRSSBytes: Int) {
            self.mode = mode
            self.batch = batch
            self.threads = threads
            self.stepSeconds = stepSeconds
            self.clipsPerSecond = clipsPerSecond
            self.peakRSSBytes = peakRSSBytes
            self.baselineRSSBytes = baselineRSSBytes
        }

        /// How far the steps raised the resident set above ``baselineRSSBytes``: what
        /// ``TrainingMemoryEstimate/trainingOverheadBytes`` predicts for a training mode.
        public var peakGrowthBytes: Int { peakRSSBytes - baselineRSSBytes }
    }

    /// The registered backbone name.
    public let model: String
    /// Overrides of its configuration.
    public let overrides: [String: ConfigValue]
    /// The resolved configuration; clips are `[batchSize, numFrames, 3, imgSize, imgSize]`.
    public let config: TransformerConfig
    /// The backbone family (`timesformer`, `motionformer`, `xvit`, `vit`).
    public let family: String
    /// Clips per step.
    public var batchSize: Int
    /// Timed steps per measurement (after one warm-up step).
    public var steps: Int
    /// AdamW's learning rate.
    public var learningRate = 1e-4
    /// AdamW's decoupled weight decay on parameters with two or more dimensions.
    public var weightDecay = 0.05
    /// Seeds the weights, the clips and the labels.
    public var seed: UInt64 = 0

    /// Resolves `model` with `overrides`.
    ///
    /// - Throws: ``BackboneConfigError`` for an unknown name or key, or a bad value.
    public init(model: String, overrides: [String: ConfigValue] = [:], batchSize: Int = 4, steps: Int = 3)
        throws(BackboneConfigError)
    {
        precondition(batchSize > 0 && steps > 0,
                     "StepBenchmark: batch size \(batchSize) and steps \(steps) must be positive")
        self.model = model
        self.overrides = overrides
        self.config = try Backbones.transformerConfig(model, overrides: overrides)
        self.family = Backbones.variants[model]!.family
        self.batchSize = batchSize
        self.steps = steps
    }

    /// Parameters that a step of `mode` updates or reads: the backbone's, plus TIME's heads for
    /// ``Mode/trainWithTIME``.
    public func parameterCount(_ mode: Mode) -> Int {
        BenchmarkedStep(self, mode: mode, batchSize: 1).parameters.reduce(0) { $0 + $1.value.count }
    }

    /// Builds the model and inputs, runs one warm-up step and ``steps`` timed steps.
    public func measure(_ mode: Mode) -> Measurement {
        let step = BenchmarkedStep(self, mode: mode, batchSize: batchSize)
        let baseline = ProcessMemory.residentBytes() ?? -1
        var times: [Double] = []
        for _ in 0...steps {
            let start = DispatchTime.now().uptimeNanoseconds
            step.run()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
        }
        let seconds = Self.median(Array(times.dropFirst()))
        return Measurement(mode: mode, batch: batchSize, threads: ComputeContext.threadCount, stepSeconds: seconds,
                           clipsPerSecond: Double(batchSize) / seconds,
                           peakRSSBytes: ProcessMemory.peakResidentBytes() ?? -1, baselineRSSBytes: baseline)
    }

    /// The memory a training step of `mode` needs at ``batchSize`` (AdamW: two state tensors per
    /// parameter), from a forward pass of one clip; `nil` for ``Mode/inference`` or where the
    /// heap cannot be measured.
    public func memoryEstimate(_ mode: Mode) -> TrainingMemoryEstimate? {
        guard mode != .inference else { return nil }
        let single = BenchmarkedStep(self, mode: mode, batchSize: 1)
        return TrainingMemoryEstimate.measure(
            batchSize: batchSize, parameters: single.parameters, optimizerStateCopies: 2
        ) { single.loss() }
    }

    /// The machine's matrix-product ceiling in this run: GFLOP/s of the fastest of `calls`
    /// `Tensor.matmul` calls on `size`×`size` matrices (1536 fits the caches of neither side's
    /// blocking, as a transformer's products do not).
    public static func sgemmGFLOPs(size: Int = 1536, calls: Int = 6) -> Double {
        var generator = RandomGenerator(seed: 1)
        let a = Tensor.normal([size, size], using: &generator)
        let b = Tensor.normal([size, size], using: &generator)
        var best = Double.infinity
        for _ in 0..<max(1, calls) {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = noGrad { Tensor.matmul(a, b) }
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
        }
        return 2 * Double(size * size * size) / best / 1e9
    }

    /// The middle value (the upper one of an even count).
    static func median(_ values: [Double]) -> Double {
        precondition(!values.isEmpty, "StepBenchmark.median: no values")
        return values.sorted()[values.count / 2]
    }
}

/// A model, optimizer and inputs ready to run one mode's step.
final class BenchmarkedStep {
    let mode: StepBenchmark.Mode
    let model: any VideoBackbone
    let objective: TIMEObjective?
    let optimizer: AdamW?
    let clip: Tensor
    let labels: [Int]
    let flowLabels: IntTensor?
    private var generator: RandomGenerator

    init(_ benchmark: StepBenchmark, mode: StepBenchmark.Mode, batchSize: Int) {
        let config = benchmark.config
        var generator = RandomGenerator(seed: benchmark.seed)
        self.mode = mode
        model = benchmark.build(using: &generator)
        objective = mode == .trainWithTIME
            ? TIMEObjective(TIMEObjective.Configuration(embedDim: config.embedDim, frameCount: config.numFrames),
                            using: &generator)
            : nil
        clip = Tensor.normal([batchSize, config.numFrames, 3, config.imgSize, config.imgSize], using: &generator)
        labels = (0..<batchSize).map { $0 % max(1, config.numClasses) }
        let patches = config.gridSize * config.gridSize
        flowLabels = objective == nil ? nil : IntTensor(
            shape: [batchSize, config.numFrames - 1, patches],
            scalars: (0..<(batchSize * (config.numFrames - 1) * patches)).map { _ in
                generator.nextInt(below: FlowDirectionHead.classCount)
            })
        if mode == .inference {
            model.eval()
            optimizer = nil
        } else {
            model.train()
            objective?.train()
            let named = model.namedParameters() + (objective?.namedParameters() ?? [])
            optimizer = AdamW(ParameterGroup.weightDecay(benchmark.weightDecay, on: named),
                              learningRate: benchmark.learningRate)
        }
        self.generator = generator
    }

    /// Every parameter the step reads.
    var parameters: [Parameter] { model.parameters() + (objective?.parameters() ?? []) }

    /// The training loss of the inputs, its graph recorded.
    func loss() -> Tensor {
        guard let objective, let flowLabels else {
            return crossEntropy(logits: model(clip), labels: labels)
        }
        // The trainer's TIME step (TIMETrainingObjective) runs the same function with the same closures.
        let backbone = model as! any TokenBackbone
        return objective.step(
            clips: clip, labels: labels, flowLabels: flowLabels, using: &generator,
            forward: backbone.logitsAndTokens, classify: { backbone($0) }).terms.total
    }

    /// One step of the mode.
    func run() {
        guard let optimizer else {
            _ = noGrad { model(clip) }
            return
        }
        optimizer.zeroGrad()
        loss().backward()
        optimizer.step()
    }
}

extension StepBenchmark {
    /// The backbone with its weights drawn from `generator`.
    func build(using generator: inout RandomGenerator) -> any VideoBackbone {
        // The configuration was validated in init, so creating the model cannot fail.
        try! Backbones.create(model, overrides: overrides, using: &generator)
    }
}
