import Foundation
import TemporalSSL
import TensorCore
import VideoTransformers

/// Times one SVT training step as the trainer takes it (``SVTTrainingObjective``): the student
/// over every view, the teacher over the global views, the DINO loss and centre update, one
/// backward, per-tensor clipping at 3.0, AdamW, and the teacher's EMA update — on random views
/// made once, so the figure is the model's, not the loader's.
///
/// `Benchmarks/SVTBenchmarks` runs it beside `Benchmarks/pytorch/svt_bench.py`, which does the
/// same work in PyTorch.
public struct SVTStepBenchmark: Sendable {
    /// One measurement.
    public struct Measurement: Sendable, Hashable, Codable {
        /// Samples per step.
        public var batch: Int
        /// Compute threads.
        public var threads: Int
        /// Views per sample.
        public var views: Int
        /// Median seconds per step.
        public var stepSeconds: Double
        /// `batch · views / stepSeconds`.
        public var viewsPerSecond: Double
        /// `batch / stepSeconds`.
        public var samplesPerSecond: Double
        /// Peak resident memory of the process after the steps.
        public var peakRSSBytes: Int
        /// Resident memory before the first step.
        public var baselineRSSBytes: Int
    }

    /// The backbone variant.
    public var model: String
    /// Its overrides (`num_classes` is 0).
    public var overrides: [String: ConfigValue]
    /// Head sizes and views.
    public var settings: SVTTrainingObjective.Settings
    /// Samples per step.
    public var batchSize: Int
    /// Timed steps (after one warm-up step).
    public var steps: Int

    /// The benchmark configuration: `svt_tiny_8x64` (192 wide, 6 blocks), head 192→512→512→128→4096,
    /// globals of 8 and 16 frames at 64², locals of 2, 2, 4, 4, 8, 8, 16, 16 frames at 32².
    public init(model: String = "svt_tiny_8x64", overrides: [String: ConfigValue] = [:], batchSize: Int = 4, steps: Int = 3) {
        precondition(batchSize > 0 && steps > 0, "SVTStepBenchmark: batch size and steps must be positive")
        self.model = model
        self.overrides = overrides.merging(["num_classes": .int(0)]) { _, zero in zero }
        var s = SVTTrainingObjective.Settings()
        (s.outDim, s.hiddenDim, s.bottleneckDim) = (4096, 512, 128)
        (s.globalSize, s.localSize) = (64, 32)
        settings = s
        self.batchSize = batchSize
        self.steps = steps
    }

    /// Student parameters (backbone and head) and the teacher's.
    public func parameterCounts() throws -> (studentBackbone: Int, studentHead: Int, teacher: Int) {
        let step = try Step(self)
        let objective = step.objective
        return (step.model.backbone.parameterCount, objective.parts.head.parameterCount, objective.parts.teacher.parameterCount)
    }

    /// Runs one warm-up and `steps` timed steps.
    public func measure() throws -> Measurement {
        let step = try Step(self)
        let baseline = ProcessMemory.residentBytes() ?? -1
        var times: [Double] = []
        for i in 0...steps {
            let start = DispatchTime.now().uptimeNanoseconds
            try step.run(i)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
        }
        let seconds = times.dropFirst().sorted()[steps / 2]
        let views = settings.globalFrames.count + settings.localFrames.count
        return Measurement(
            batch: batchSize, threads: ComputeContext.threadCount, views: views, stepSeconds: seconds,
            viewsPerSecond: Double(batchSize * views) / seconds, samplesPerSecond: Double(batchSize) / seconds,
            peakRSSBytes: ProcessMemory.peakResidentBytes() ?? -1, baselineRSSBytes: baseline)
    }

    /// The parts of one step, built once.
    final class Step {
        let objective: SVTTrainingObjective
        let model: TrainingModel
        let optimizer: AdamW
        let views: [Tensor]
        let parameters: [Parameter]
        var generator: RandomGenerator

        init(_ benchmark: SVTStepBenchmark) throws {
            var generator = RandomGenerator(seed: 0)
            let backbone = try Backbones.create(benchmark.model, overrides: benchmark.overrides, using: &generator)
            objective = try SVTTrainingObjective(benchmark.settings, context: ObjectiveContext(
                backbone: backbone, backboneName: benchmark.model, classCount: 0, frames: backbone.frameCount,
                crop: benchmark.settings.globalSize, backboneOverrides: benchmark.overrides, epochs: 100),
                using: &generator)
            model = try TrainingModel(backbone: backbone, heads: objective.heads)
            model.train()
            let named = model.namedParameters()
            optimizer = AdamW(ParameterGroup.weightDecay(0.04, on: named), learningRate: 1e-4)
            parameters = named.map(\.1)
            let s = benchmark.settings
            views = zip(s.globalFrames + s.localFrames,
                        Array(repeating: s.globalSize, count: s.globalFrames.count)
                        + Array(repeating: s.localSize, count: s.localFrames.count)).map { frames, size in
                Tensor.normal([benchmark.batchSize, frames, 3, size, size], using: &generator)
            }
            self.generator = generator
        }

        func run(_ index: Int) throws {
            let batch = TrainingBatch(clips: views[0], labels: [], views: views, epoch: 1, step: index)
            let output = try objective.lossTerms(batch, model: model, using: &generator)
            output.terms.total.backward()
            clipGradNormPerTensor(parameters, maxNorm: 3)
            objective.willApplyGradients(epoch: 1)
            optimizer.step()
            optimizer.zeroGrad()
            objective.didStep(index + 1, of: 1000)
        }
    }
}
