import TensorCore
import VideoIO
import VideoTransformers

/// SVT's slow-fast inference (`reference/SVT-VideoMS-IIC.md` §1.7): one network embeds a "slow"
/// clip (few frames, large crop; 8 × 224² in SVT) and a "fast" clip (many frames, small crop;
/// 64 × 96²) of each video, and the video's feature is the mean of the two class embeddings.
/// The backbone resamples its position and time embeddings for each clip size.
///
/// ```swift
/// let slow = EvaluationConfiguration(frames: 8, cropSize: 224, crops: 1, aggregation: .mean)
/// var fast = slow; fast.frames = 64; fast.cropSize = 96
/// let features = try SlowFastFeatures(slow: slow, fast: fast).outputs(of: backbone, on: dataset)
/// ```
public struct SlowFastFeatures: Sendable {
    /// The slow clip's views.
    public var slow: EvaluationConfiguration
    /// The fast clip's views.
    public var fast: EvaluationConfiguration

    /// Pairs the two view settings.
    public init(slow: EvaluationConfiguration, fast: EvaluationConfiguration) {
        self.slow = slow
        self.fast = fast
    }

    /// SVT's pair from one configuration: slow `frames × cropSize`, fast `fastFrames × fastCrop`,
    /// everything else shared.
    public init(_ base: EvaluationConfiguration, fastFrames: Int = 64, fastCrop: Int = 96) {
        var fast = base
        fast.frames = fastFrames
        fast.cropSize = fastCrop
        self.init(slow: base, fast: fast)
    }

    /// The mean of the slow and fast class embeddings of every video readable in both, `[N, C]`,
    /// rows in dataset order.
    ///
    /// - Throws: as ``Evaluator/outputs(of:on:kind:shuffledFrames:)``.
    public func outputs(of model: any VideoBackbone, on dataset: VideoDataset) throws -> Evaluator.VideoOutputs {
        let slowOut = try Evaluator(slow).outputs(of: model, on: dataset, kind: .classEmbedding)
        let fastOut = try Evaluator(fast).outputs(of: model, on: dataset, kind: .classEmbedding)
        let fastRow = Dictionary(uniqueKeysWithValues: fastOut.videoIndices.enumerated().map { ($1, $0) })
        let c = slowOut.values.shape[1]
        var rows: [Float] = [], labels: [Int] = [], indices: [Int] = []
        let s = slowOut.values.scalars, f = fastOut.values.scalars
        for (i, video) in slowOut.videoIndices.enumerated() {
            guard let j = fastRow[video] else { continue }
            for k in 0..<c { rows.append(0.5 * (s[i * c + k] + f[j * c + k])) }
            labels.append(slowOut.labels[i])
            indices.append(video)
        }
        return Evaluator.VideoOutputs(
            values: Tensor(shape: [indices.count, c], scalars: rows), labels: labels, videoIndices: indices,
            skipped: dataset.count - indices.count)
    }
}
