import Foundation
import TemporalSSL
import TensorCore
import VideoTransformers

/// Times one VideoMAE / VideoMS pre-training step: masking, the encoder over the visible tokens
/// only, the decoder over visible and reconstructed tokens, normalised-pixel targets, MSE,
/// backward and AdamW (betas 0.9/0.95, weight decay 0.05) — on one random clip batch made once.
///
/// `Benchmarks/VideoMAEBenchmarks` runs it beside `Benchmarks/pytorch/videomae_bench.py`.
public struct VideoMAEStepBenchmark: Sendable {
    /// The masking measured.
    public enum Masking: Sendable, Hashable, Codable {
        /// Tube masking at a ratio (0: every token visible and reconstructed).
        case tube(Double)
        /// Motion-centric selection: mask ratio and motion-centric ratio.
        case motionCentric(Double, Double)
    }

    /// One measurement.
    public struct Measurement: Sendable, Hashable, Codable {
        /// `tube` or `motion`.
        public var mode: String
        /// The mask ratio.
        public var ratio: Double
        /// Tokens the encoder sees per clip.
        public var visibleTokens: Int
        /// Tokens reconstructed per clip.
        public var targetTokens: Int
        /// Clips per step.
        public var batch: Int
        /// Compute threads.
        public var threads: Int
        /// Median seconds per step.
        public var stepSeconds: Double
        /// `batch / stepSeconds`.
        public var clipsPerSecond: Double
        /// Peak resident memory after the steps.
        public var peakRSSBytes: Int
        /// Resident memory before the first step.
        public var baselineRSSBytes: Int
    }

    /// The model (`videomae_tiny_16x112`: 192 wide, 6 blocks; decoder 96 wide, 2 blocks; 16 × 112²).
    public var model: String
    /// Clips per step.
    public var batchSize: Int
    /// Timed steps after one warm-up.
    public var steps: Int

    /// The benchmark configuration.
    public init(model: String = "videomae_tiny_16x112", batchSize: Int = 4, steps: Int = 3) {
        precondition(batchSize > 0 && steps > 0, "VideoMAEStepBenchmark: batch size and steps must be positive")
        self.model = model
        self.batchSize = batchSize
        self.steps = steps
    }

    /// Runs one warm-up and `steps` timed steps with `masking`.
    public func measure(_ masking: Masking) throws -> Measurement {
        var generator = RandomGenerator(seed: 0)
        guard var config = try Backbones.config(model, overrides: ["num_classes": .int(0)]) as? VideoMAEConfig else {
            throw BackboneConfigError.inconsistent(model: model, reason: "is not a VideoMAE model")
        }
        config.useMeanPooling = false
        let encoder = VideoMAEViT(config, using: &generator)
        let decoder = VideoMAEDecoder(config, using: &generator)
        let named = encoder.namedParameters() + decoder.namedParameters()
        let optimizer = AdamW(ParameterGroup.weightDecay(0.05, on: named), learningRate: 1.5e-4, betas: (0.9, 0.95))
        let clip = Tensor.normal([batchSize, config.numFrames, 3, config.imgSize, config.imgSize], using: &generator)
        let mean: [Float] = [0.485, 0.456, 0.406], std: [Float] = [0.229, 0.224, 0.225]
        let cells = config.gridSize * config.gridSize, slots = config.numFrames / config.tubeletSize
        var visibleCount = 0, targetCount = 0
        func step() {
            let embedded = encoder.patchEmbeddings(clip)
            let selection: [TokenSelection]
            switch masking {
            case .tube(let ratio) where ratio == 0:
                let all = Array(0..<(slots * cells))
                selection = Array(repeating: TokenSelection(visible: all, targets: all), count: batchSize)
            case .tube(let ratio):
                selection = TokenMasking.tube(batch: batchSize, slots: slots, cells: cells, ratio: ratio, using: &generator)
            case .motionCentric(let ratio, let motion):
                let embeddings = embedded.detached().reshaped([batchSize, slots, cells, config.embedDim])
                selection = TokenMasking.motionCentric(
                    importance: VideoMAEViT.motionImportance(embeddings), maskRatio: ratio, motionRatio: motion,
                    using: &generator)
            }
            let (visible, targets) = (selection.map(\.visible), selection.map(\.targets))
            (visibleCount, targetCount) = (visible[0].count, targets[0].count)
            let prediction = decoder(encoder.encode(clip, visible: visible, embeddings: embedded), visible: visible,
                                     targets: targets)
            let target = gatherTokens(PixelTargets.targets(clip, mean: mean, std: std, tubelet: config.tubeletSize,
                                                           patch: config.patchSize), targets)
            (prediction - target).squared().mean().backward()
            optimizer.step()
            optimizer.zeroGrad()
        }
        let baseline = ProcessMemory.residentBytes() ?? -1
        var times: [Double] = []
        for _ in 0...steps {
            let start = DispatchTime.now().uptimeNanoseconds
            step()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
        }
        let seconds = times.dropFirst().sorted()[steps / 2]
        let (mode, ratio): (String, Double) = switch masking {
        case .tube(let r): ("tube", r)
        case .motionCentric(let r, _): ("motion", r)
        }
        return Measurement(
            mode: mode, ratio: ratio, visibleTokens: visibleCount, targetTokens: targetCount, batch: batchSize,
            threads: ComputeContext.threadCount, stepSeconds: seconds, clipsPerSecond: Double(batchSize) / seconds,
            peakRSSBytes: ProcessMemory.peakResidentBytes() ?? -1, baselineRSSBytes: baseline)
    }
}
