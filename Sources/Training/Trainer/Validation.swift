import Foundation
import TensorCore
import VideoIO

/// One evaluation of `data.val` during training.
public struct ValidationRecord: Sendable, Equatable {
    /// The epoch it followed (from 0).
    public var epoch: Int
    /// Optimizer steps taken by then.
    public var step: Int
    /// The metrics as logged in `epochs.csv`: `val_loss`, `val_top1`, `val_top5`, `val_mean_class`, per subset
    /// `val_top1_<subset>`, and with shuffled evaluation `val_top1_shuffled`, `val_gap`,
    /// `val_gap_<subset>` (fractions in 0…1).
    public var metrics: [String: Double]
    /// Whether this evaluation produced a new `checkpoints/best`.
    public var isBest: Bool
}

/// Validation during training: `data.val` with the recipe's test views (segment middles of
/// `data.frames` frames × `eval.crops` crops of `data.crop`, logits combined by `eval.aggregation`),
/// optionally also on frame-shuffled clips for the Gap; or, with `data.holdout`, the videos held out
/// of `data.train`, each read once per validation like a training sample (IIC's protocol).
///
/// Besides the accuracies it reports `val_loss`: the mean over the validation videos of the plain
/// cross-entropy (no label smoothing, no mixing) of each video's logits — with `eval.aggregation:
/// sum` the sum divided by the number of views, with `softmax_mean` `−log` of the averaged
/// probability of the label.
struct Validation {
    let dataset: VideoDataset
    let subsets: ClassSubsets?
    let evaluator: Evaluator
    /// The loader over the held-out videos (training sampler and transform), with `data.holdout`.
    let heldOutLoader: DataLoader?
    let views: Int
    let aggregation: ViewAggregation
    let every: Int
    let shuffled: Bool
    let metric: Recipe.EvalSection.Metric

    /// The validation `recipe` asks for, or nil (no `data.val` nor held-out videos, or
    /// `train.eval_every: 0`).
    init?(recipe: Recipe, heldOut: VideoDataset? = nil) throws {
        guard recipe.training.evalEvery > 0 else { return nil }
        let data = recipe.data
        if let heldOut {
            dataset = heldOut
            subsets = try data.subsets.map { try ClassSubsets.load(from: recipe.dataPath($0), classNames: heldOut.classNames) }
            heldOutLoader = DataLoader(dataset: heldOut, configuration: DataLoaderConfiguration(
                batchSize: recipe.evaluation.batchSize,
                frameSize: FrameSize(width: data.decodeSize[0], height: data.decodeSize[1]),
                sampler: TrainingSetup.trainingSampler(data), shuffle: false, dropLast: false,
                seed: recipe.seed &+ 1, workerCount: data.workers, transform: try ClipPipeline.training(data)))
        } else {
            guard let set = try recipe.validationSet() else { return nil }
            (dataset, subsets) = set
            heldOutLoader = nil
        }
        evaluator = Evaluator(recipe.testViews())
        views = recipe.evaluation.clips * recipe.evaluation.crops
        aggregation = recipe.evaluation.aggregation
        every = recipe.training.evalEvery
        shuffled = recipe.evaluation.shuffled && heldOutLoader == nil
        metric = recipe.evaluation.bestMetric
    }

    func isDue(afterEpoch epoch: Int, last: Bool) -> Bool {
        last || (epoch + 1) % every == 0
    }

    /// The logged metrics of one evaluation of `model` after `epoch` (which picks the held-out
    /// videos' random clips and crops, so that a resumed run draws the same ones).
    func metrics(of model: TrainingModel, epoch: Int) throws -> [String: Double] {
        let values: Tensor, labels: [Int], items: [Int]
        var loss: Double
        if let heldOutLoader {
            (values, labels, items) = try heldOutOutputs(of: model, loader: heldOutLoader, epoch: epoch)
            loss = try Validation.meanCrossEntropy(values, labels: labels, probabilities: false, scale: 1)
        } else {
            let outputs = try evaluator.outputs(of: model.backbone, on: dataset)
            (values, labels, items) = (outputs.values, outputs.labels, outputs.videoIndices)
            loss = 0
        }
        let broken = ClassificationMetrics.nonFiniteRows(values)
        if let first = broken.first {
            throw EvaluationError.nonFiniteOutputs(videos: broken.count, first: dataset.items[items[first]].path)
        }
        let classCount = values.shape[1]
        for (label, index) in zip(labels, items) where label >= classCount {
            throw EvaluationError.labelOutOfRange(label: label, classCount: classCount, path: dataset.items[index].path)
        }
        if heldOutLoader == nil {
            loss = try Validation.meanCrossEntropy(
                values, labels: labels, probabilities: aggregation == .softmaxMean,
                scale: aggregation == .sum ? 1 / Double(max(views, 1)) : 1)
        }
        let names = dataset.classNames.flatMap { $0.count == classCount ? $0 : nil }
        let original = EvaluationReport(logits: values, labels: labels, classNames: names, subsets: subsets)
        var m: [String: Double] = ["val_loss": loss, "val_top1": original.top1, "val_top5": original.top5,
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

    /// One training-mode clip of every held-out video through `model` in evaluation mode.
    private func heldOutOutputs(of model: TrainingModel, loader: DataLoader, epoch: Int) throws
        -> (Tensor, [Int], [Int])
    {
        let wasTraining = model.backbone.isTraining
        model.eval()
        defer { model.setTraining(wasTraining) }
        let batches = loader.batches(from: .init(epoch: epoch))
        defer { batches.close() }
        var seen = Set<Int>()
        var flat: [Float] = [], labels: [Int] = [], items: [Int] = []
        var width = 0
        while let batch = try batches.next() {
            let logits = noGrad { model.backbone(batch.clips) }
            width = logits.shape[1]
            let scalars = logits.scalars
            // Under `.skip` an unreadable video is replaced by a later one; only its first appearance counts.
            for (row, item) in batch.itemIndices.enumerated() where seen.insert(item).inserted {
                flat += scalars[(row * width)..<((row + 1) * width)]
                labels.append(batch.labels[row])
                items.append(item)
            }
        }
        guard !items.isEmpty else { throw EvaluationError.nothingEvaluated(count: dataset.count) }
        return (Tensor(shape: [items.count, width], scalars: flat), labels, items)
    }

    /// The mean over rows of `−log softmax(scale · values)[label]`, or of `−log values[label]` when
    /// the rows are already `probabilities`; computed in double precision.
    static func meanCrossEntropy(_ values: Tensor, labels: [Int], probabilities: Bool, scale: Double) throws -> Double {
        let width = values.shape[1]
        let scalars = values.scalars
        var total = 0.0
        for (row, label) in labels.enumerated() {
            let start = row * width
            guard label < width else { continue }
            if probabilities {
                total -= Foundation.log(Double(scalars[start + label]))
            } else {
                let z = scalars[start..<(start + width)].map { Double($0) * scale }
                let top = z.max() ?? 0
                let sum = z.reduce(0.0) { $0 + Foundation.exp($1 - top) }
                total += top + Foundation.log(sum) - z[label]
            }
        }
        return total / Double(max(labels.count, 1))
    }

    /// The logged name of the metric that picks `best/`.
    var metricKey: String {
        switch metric {
        case .top1: "val_top1"
        case .top5: "val_top5"
        case .meanClass: "val_mean_class"
        case .gap: "val_gap"
        case .loss: "val_loss"
        }
    }

    /// Whether `value` of ``metricKey`` beats `best` (lower is better for the loss).
    func improves(_ value: Double, on best: Double?) -> Bool {
        guard let best else { return true }
        return metric == .loss ? value < best : value > best
    }
}

extension Recipe {
    /// `dataset` (the `data.train` list) split by `data.holdout`: that many videos drawn at random
    /// with `data.holdout_seed` form the validation set, the rest the training set, both in list
    /// order; nil without `data.holdout`.
    ///
    /// - Throws: ``RecipeError/invalidValue(key:value:reason:)`` when `data.holdout` is not less
    ///   than the number of training videos.
    public func holdoutSplit(of dataset: VideoDataset) throws(RecipeError)
        -> (train: VideoDataset, heldOut: VideoDataset)?
    {
        guard let count = data.holdout else { return nil }
        guard count < dataset.count else {
            throw .invalidValue(key: "data.holdout", value: "\(count)",
                                reason: "must be less than the \(dataset.count) videos of data.train")
        }
        var generator = RandomGenerator(seed: UInt64(data.holdoutSeed))
        let chosen = Set(generator.permutation(dataset.count).prefix(count))
        var train = dataset, heldOut = dataset
        train.items = dataset.items.indices.filter { !chosen.contains($0) }.map { dataset.items[$0] }
        heldOut.items = dataset.items.indices.filter { chosen.contains($0) }.map { dataset.items[$0] }
        return (train, heldOut)
    }

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
    /// Evaluates `data.val` (or the held-out videos), records the result, lets a `plateau` schedule
    /// observe the validation loss and replaces `checkpoints/best` when the chosen metric improved
    /// (ties keep the earlier checkpoint).
    func validate(epoch: Int, with validation: Validation) throws -> [String: Double] {
        let metrics = try validation.metrics(of: model, epoch: epoch)
        model.train()
        if plateau != nil, plateau!.state.lastStep != step {
            // A run resumed at the end of an epoch may evaluate it again; it is observed once.
            plateau!.step(metrics["val_loss"] ?? .nan)
            plateau!.state.lastStep = step
        }
        let key = validation.metricKey
        var isBest = false
        if let value = metrics[key], value.isFinite, validation.improves(value, on: bestValue) {
            if processGroup.isPrimary { try checkpoints.writeBest(currentCheckpoint(), metric: key, value: value) }
            bestValue = value
            isBest = true
        }
        validations.append(ValidationRecord(epoch: epoch, step: step, metrics: metrics, isBest: isBest))
        return metrics
    }
}
