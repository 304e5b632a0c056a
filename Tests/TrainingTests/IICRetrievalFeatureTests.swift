import Foundation
import Testing
import _TestSupport
import TensorCore
import Training
import VideoIO
import VideoTransformers

/// Retrieval features through the evaluator: IIC's centred clips, residual input, and a backbone's
/// own retrieval features preferred over its class embedding.
@Suite struct IICRetrievalFeatureTests {
    /// Class embedding: per-channel means (3 wide); retrieval features: 7 values per clip.
    final class RetrievalBackbone: Module, RetrievalFeatureBackbone {
        var seen: [Tensor] = []
        var embedDim: Int { 3 }
        var frameCount: Int { 4 }
        var noWeightDecayKeys: Set<String> { [] }
        func classEmbedding(_ clip: Tensor) -> Tensor { clip.mean(axes: [1, 3, 4]) }
        func head(_ cls: Tensor) -> Tensor { cls }
        func retrievalFeatures(_ clip: Tensor) -> Tensor {
            seen.append(clip)
            let mean = clip.mean(axes: [1, 2, 3, 4]).reshaped([clip.shape[0], 1])
            return Tensor.concat((0..<7).map { j in mean * Float(j + 1) }, axis: 1)
        }
    }

    static func configuration(input: ClipInput) -> EvaluationConfiguration {
        var c = EvaluationConfiguration(frames: 4, cropSize: 32, frameSize: FrameSize(width: 32, height: 32),
                                        mean: [0, 0, 0], std: [1, 1, 1], sampling: .centred, clips: 3, crops: 1,
                                        aggregation: .mean, batchSize: 4, workerCount: 1)
        c.input = input
        return c
    }

    @Test func retrievalFeaturesAreAveragedOverCentredClipsOfResidualInput() throws {
        let dataset = try VideoDataset.pathLabelList(at: TinyRun.data + "/val.txt", root: TinyRun.data)
        let backbone = RetrievalBackbone()
        let evaluator = Evaluator(Self.configuration(input: .residual))
        let result = try evaluator.outputs(of: backbone, on: dataset, kind: .retrievalFeatures)
        #expect(result.values.shape == [dataset.count, 7])
        #expect(backbone.seen.map { $0.shape[0] }.reduce(0, +) == 3 * dataset.count)
        // Scaled residual clips lie in [0, 1] and average about 1/2.
        for clip in backbone.seen {
            #expect(clip.shape.dropFirst() == [4, 3, 32, 32])
            #expect(clip.scalars.allSatisfy { $0 >= 0 && $0 <= 1 })
        }
        let overall = backbone.seen.flatMap(\.scalars).reduce(0, +) / Float(backbone.seen.map(\.count).reduce(0, +))
        #expect(abs(overall - 0.5) < 0.05)
        // The class embedding stays available, and is what a backbone without the capability gives.
        let embeddings = try evaluator.outputs(of: backbone, on: dataset, kind: .classEmbedding)
        #expect(embeddings.values.shape == [dataset.count, 3])
        #expect(backbone.hasRetrievalFeatures)
        var g = RandomGenerator(seed: 0)
        let pooled: any VideoBackbone = PooledBackbone(using: &g)
        #expect(!pooled.hasRetrievalFeatures)
        let clip = Tensor.uniform([2, 4, 3, 8, 8], using: &g)
        #expect(pooled.retrievalEmbedding(clip).scalars == pooled.classEmbedding(clip).scalars)
    }
}
