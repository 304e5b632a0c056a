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
        guard let val = recipe.data.val, recipe.training.evalEvery > 0 else { return nil }
        var dataset = try recipe.trainingList(val)
        if let classes = recipe.data.classes { dataset = try dataset.withClassNames(from: recipe.dataPath(classes)) }
        self.dataset = dataset
        subsets = try recipe.data.subsets.map {
            try ClassSubsets.load(from: recipe.dataPath($0), classNames: dataset.classNames)
        }
        let d = recipe.data, e = recipe.evaluation
        evaluator = Evaluator(EvaluationConfiguration(
            frames: d.frames, cropSize: d.crop, frameSize: FrameSize(width: d.decodeSize[0], height: d.decodeSize[1]),
            mean: d.mean.map(Float.init), std: d.std.map(Float.init), crops: e.crops, batchSize: e.batchSize,
            seed: UInt64(e.seed), workerCount: d.workers))
        every = recipe.training.evalEvery
        shuffled = e.shuffled
        metric = e.bestMetric
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

extension Trainer {
    /// Evaluates `data.val`, records the result and replaces `checkpoints/best` when the chosen
    /// metric improved (ties keep the earlier checkpoint).
    func validate(epoch: Int, with validation: Validation) throws -> [String: Double] {
        let metrics = try validation.metrics(of: model)
        model.train()
        let key = validation.metricKey
        var isBest = false
        if let value = metrics[key], value.isFinite, bestValue.map({ value > $0 }) ?? true {
            try checkpoints.writeBest(currentCheckpoint(), metric: key, value: value)
            bestValue = value
            isBest = true
        }
        validations.append(ValidationRecord(epoch: epoch, step: step, metrics: metrics, isBest: isBest))
        return metrics
    }
}
