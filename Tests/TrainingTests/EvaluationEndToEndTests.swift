import Foundation
import TensorCore
import Testing
import Training
import VideoIO
import VideoTransformers
import _TestSupport

/// Evaluates a one-block TimeSformer on a generated 8-class dataset (2 videos per class, 32×32,
/// 4 frames), decoded at 40×32 so that the three crops differ.
@Suite struct EvaluationEndToEndTests {
    static let dataset: (root: String, summary: SyntheticDataset.Summary) = {
        let root = Scratch.directory("eval-synthetic").path
        let configuration = SyntheticDataset.Configuration(
            width: 32, height: 32, frameCount: 4, fps: 4, trainVideosPerClass: 0, valVideosPerClass: 2, seed: 3)
        let summary = try! SyntheticDataset.write(to: root, configuration: configuration)
        return (root, summary)
    }()

    private func videos() throws -> VideoDataset {
        var dataset = try VideoDataset.pathLabelList(at: Self.dataset.summary.valList, root: Self.dataset.root)
        dataset.classNames = Self.dataset.summary.classNames
        return dataset
    }

    private func tinyModel() throws -> any VideoBackbone {
        var generator = RandomGenerator(seed: 5)
        return try Backbones.create(
            "timesformer_tiny_8x112", overrides: ["depth": 1, "img_size": 32, "num_frames": 4, "num_classes": 8],
            using: &generator)
    }

    private func configuration(crops: Int = 3, aggregation: ViewAggregation = .sum) -> EvaluationConfiguration {
        EvaluationConfiguration(
            frames: 4, cropSize: 32, frameSize: FrameSize(width: 40, height: 32), crops: crops,
            aggregation: aggregation, batchSize: 5, maxClipsPerForward: 3, seed: 11, workerCount: 2)
    }

    @Test func summedLogitsEqualTheSumOfSeparatelyComputedViews() throws {
        let model = try tinyModel()
        let dataset = try videos()
        model.train()
        let result = try Evaluator(configuration()).outputs(of: model, on: dataset)
        #expect(model.isTraining, "the model's mode was not restored")
        #expect(result.values.shape == [16, 8] && result.videoIndices == Array(0..<16) && result.skipped == 0)
        #expect(result.labels == dataset.items.map(\.label))

        model.eval()
        var generator = RandomGenerator(seed: 0)
        for video in [0, 7, 15] {
            let clip = try dataset.items[video].loadClip(
                sampler: SegmentSampler(segments: 4, mode: .test), size: FrameSize(width: 40, height: 32), using: &generator)
            var expected = Tensor(zeros: [1, 8])
            for view in try ClipTransforms.threeCrop(clip, size: 32) {
                let normalised = try ClipTransforms.normalize(view, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5])
                expected = expected + noGrad { model(normalised.reshaped([1, 4, 3, 32, 32])) }
            }
            let row = result.values.slice(axis: 0, range: video..<(video + 1))
            #expect(isClose(row, expected, atol: 1e-4, rtol: 1e-4), "video \(video): \(row) vs \(expected)")
        }

        let averaged = try Evaluator(configuration(aggregation: .mean)).outputs(of: model, on: dataset)
        #expect(isClose(averaged.values * 3, result.values, atol: 1e-4, rtol: 1e-5))
    }

    @Test func reportIsConsistentWithItsSubsets() throws {
        let model = try tinyModel()
        let dataset = try videos()
        let subsets = try ClassSubsets.load(from: Self.dataset.root + "/subsets.json", classNames: dataset.classNames)
        let report = try Evaluator(configuration(crops: 1)).evaluate(model, on: dataset, subsets: subsets)
        #expect(report.count == 16 && report.confusion.total == 16 && report.confusion.classCount == 8)
        #expect(report.classNames == dataset.classNames)
        #expect(report.top1 <= report.top5)
        let diagonal = (0..<8).map { report.confusion.counts[$0][$0] }.reduce(0, +)
        #expect(report.top1 == Double(diagonal) / 16)
        #expect(report.perClassAccuracy.allSatisfy { $0 != nil })
        #expect(report.subsets.keys.sorted() == ["static", "temporal"])
        let temporal = try #require(report.subsets["temporal"]), stationary = try #require(report.subsets["static"])
        #expect(temporal.count == 8 && stationary.count == 8)
        // Every class has two videos, so the overall top-1 is the mean of the two halves.
        #expect(Swift.abs(report.top1 - (temporal.top1 + stationary.top1) / 2) < 1e-12)
        #expect(Swift.abs(report.meanClassAccuracy - report.top1) < 1e-12)
    }

    /// With zero `time_embed` and zero `temporal_fc` (a fresh TimeSformer) every frame is processed
    /// alone and the class token averages over frames, so frame order cannot change a prediction;
    /// once the time embedding is set, shuffled frames give different logits.
    @Test func shuffledFramesChangeNothingForAnOrderBlindModelAndSomethingOtherwise() throws {
        let model = try tinyModel()
        let dataset = try videos()
        let evaluator = Evaluator(configuration(crops: 1))
        let original = try evaluator.outputs(of: model, on: dataset)
        let shuffled = try evaluator.outputs(of: model, on: dataset, shuffledFrames: true)
        // Not bit for bit: the class token's mean over frames adds them in the permuted order.
        #expect(isClose(original.values, shuffled.values, atol: 1e-5, rtol: 1e-5))
        let both = try evaluator.evaluateOriginalAndShuffled(model, on: dataset)
        #expect(both.original.top1 == both.shuffled.top1 && both.original.confusion == both.shuffled.confusion)
        #expect(both.gap.gap == 0)

        let timesformer = try #require(model as? TimeSformer)
        var generator = RandomGenerator(seed: 9)
        timesformer.timeEmbed.value = Tensor.normal(timesformer.timeEmbed.shape, using: &generator)
        let ordered = try evaluator.outputs(of: model, on: dataset)
        let permuted = try evaluator.outputs(of: model, on: dataset, shuffledFrames: true)
        let repeated = try evaluator.outputs(of: model, on: dataset, shuffledFrames: true)
        #expect(!isClose(ordered.values, permuted.values, atol: 1e-3, rtol: 0))
        #expect(permuted.values == repeated.values, "the same seed must give the same shuffled evaluation")
    }

    @Test func classEmbeddingsOfOneCentreCropMatchTheBackbone() throws {
        let model = try tinyModel()
        let dataset = try videos()
        let features = try Evaluator(configuration(crops: 1, aggregation: .mean))
            .outputs(of: model, on: dataset, kind: .classEmbedding)
        #expect(features.values.shape == [16, 192])
        model.eval()
        var generator = RandomGenerator(seed: 0)
        let clip = try dataset.items[3].loadClip(
            sampler: SegmentSampler(segments: 4, mode: .test), size: FrameSize(width: 40, height: 32), using: &generator)
        let centre = try ClipTransforms.normalize(try ClipTransforms.centerCrop(clip, size: 32),
                                                  mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5])
        let cls = noGrad { model.classEmbedding(centre.reshaped([1, 4, 3, 32, 32])) }
        #expect(isClose(features.values.slice(axis: 0, range: 3..<4), cls, atol: 1e-4, rtol: 1e-4))
    }
}
