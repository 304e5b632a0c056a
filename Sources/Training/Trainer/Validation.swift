import Foundation
import TensorCore
import VideoIO

/// One evaluation of `data.val` during training.
public struct ValidationRecord: Sendable, Equatable {
    /// The epoch it followed (from 0).
    public var epoch: Int
    /// Optimizer steps taken by then.
    public var step: Int
    /// The metrics as logged in `epochs.csv`: `val_top1`, `val_top5`, `val_mean_class`, per subset
    /// `val_top1_<subset>`, and with shuffled evaluation `val_top1_shuffled`, `val_gap`,
    /// `val_gap_<subset>` (fractions in 0…1).
    public var metrics: [String: Double]
    /// Whether this evaluation produced a new `checkpoints/best`.
    public var isBest: Bool
}

/// Validation during training: `data.val` with the recipe's test views (segment middles of
/// `data.frames` frames × `eval.crops` crops of `data.crop`, logits summed), optionally also on
/// frame-shuffled clips for the Gap.
struct Validation {
    let dataset: VideoDataset
    let subsets: ClassSubsets?
    let evaluator: Evaluator
    let every: Int
    let shuffled: Bool
    let metric: Recipe.EvalSection.Metric

    /// The validation `recipe` asks for, or nil (no `data.val`, or `train.eval_every: 0`).
    init?(recipe: Recipe) throws {
        guard recipe.training.evalEvery > 0, let set = try recipe.validationSet() else { return nil }
        (dataset, subsets) = set
        evaluator = Evaluator(recipe.testViews())
        every = recipe.training.evalEvery
        shuffled = recipe.evaluation.shuffled
        metric = recipe.evaluation.bestMetric
    }

    func isDue(afterEpoch epoch: Int, last: Bool) -> Bool {
        last || (epoch + 1) % every == 0
    }

    /// The logged metrics of one evaluation of `model`.
    func metrics(of model: TrainingModel) throws -> [String: Double] {
        let original = try evaluator.evaluate(model.backbone, on: dataset, subsets: subsets)
        var m: [String: Double] = ["val_top1": original.top1, "val_top5": original.top5,
                                   "val_mean_class": original.meanClassAccuracy]
        for (name, report) in original.subsets { m["val_top1_\(name)"] = report.top1 }
        if shuffled {
            let other = try evaluator.evaluate(model.backbone, on: dataset, shuffledFrames: true, subsets: subsets)
            let gap = ShuffleGap(original: original, shuffled: other)
            m["val_top1_shuffled"] = gap.shuffled
            m["val_gap"] = gap.gap
            for (name, g) in gap.subsets { m["val_gap_\(name)"] = g.gap }
        }
        return m
    }

    /// The logged name of the metric that picks `best/`.
    var metricKey: String {
        switch metric {
        case .top1: "val_top1"
        case .top5: "val_top5"
        case .meanClass: "val_mean_class"
        case .gap: "val_gap"
        }
    }
}

extension Recipe {
    /// `data.val` with the names of `data.classes` and the subsets of `data.subsets`, or nil when the
    /// recipe has no validation list. Validation during training and the demo read it this way.
    ///
    /// - Throws: ``DatasetError`` or ``EvaluationError`` for unreadable files.
    public func validationSet() throws -> (dataset: VideoDataset, subsets: ClassSubsets?)? {
        guard let val = data.val else { return nil }
        var dataset = try videoList(val)
        if let classes = data.classes { dataset = try dataset.withClassNames(from: dataPath(classes)) }
        let names = dataset.classNames
        let subsets = try data.subsets.map { try ClassSubsets.load(from: dataPath($0), classNames: names) }
        return (dataset, subsets)
    }

    /// The recipe's test views: segment middles of `data.frames` frames (or `eval.clips` evenly
    /// spaced dense windows every `data.sampling_rate` frames with more clips or `data.sampler:
    /// dense`; IIC's centred clips with `eval.sampling: centred`), `eval.crops` crops of `data.crop` after resizing the short side to it,
    /// `data.mean`/`std`, then `data.input`, combined by `eval.aggregation`; the shuffled-frame permutations come from
    /// `seed` (default `eval.seed`).
    public func testViews(seed: UInt64? = nil) -> EvaluationConfiguration {
        var views = EvaluationConfiguration(
            frames: data.frames, cropSize: data.crop, frameSize: FrameSize(width: data.decodeSize[0], height: data.decodeSize[1]),
            mean: data.mean.map(Float.init), std: data.std.map(Float.init),
            sampling: evaluation.sampling == .centred ? .centred
                : evaluation.clips > 1 || data.sampler == .dense ? .dense(interval: data.samplingRate) : .segments,
            clips: evaluation.clips, crops: evaluation.crops, aggregation: evaluation.aggregation,
            batchSize: evaluation.batchSize, seed: seed ?? UInt64(evaluation.seed), workerCount: data.workers)
        views.input = data.input
        views.resizeShortSide = evaluation.resize
        return views
    }
}

extension Trainer {
    /// Evaluates `data.val`, records the result and replaces `checkpoints/best` when the chosen
    /// metric improved (ties keep the earlier checkpoint).
    func validate(epoch: Int, with validation: Validation) throws -> [String: Double] {
        let metrics = try validation.metrics(of: model)
        model.train()
        let key = validation.metricKey
        var isBest = false
        if let value = metrics[key], value.isFinite, bestValue.map({ value > $0 }) ?? true {
            if processGroup.isPrimary { try checkpoints.writeBest(currentCheckpoint(), metric: key, value: value) }
            bestValue = value
            isBest = true
        }
        validations.append(ValidationRecord(epoch: epoch, step: step, metrics: metrics, isBest: isBest))
        return metrics
    }
}
