import Foundation
import Logging
import TemporalSSL
import TensorCore
import VideoIO
import VideoTransformers

/// Trains the parts a recipe describes (``TrainingSetup``) with checkpoints that resume bit for
/// bit, validation during training and a run folder that belongs to one run.
///
/// The loop knows no method: each batch goes to the objective (``TrainingObjective``), which
/// returns named loss terms; one backward; after `accumulation` micro-batches the gradients are
/// averaged, clipped and applied, the schedule sets the next rate, the weight average and the
/// objective update. At the end of every `train.eval_every`-th epoch `data.val` is evaluated and
/// `checkpoints/best` follows the chosen metric.
///
/// ```swift
/// let trainer = try Trainer(recipe: try Recipe(contentsOf: "configs/demo.yaml"))
/// trainer.onEvent = { event in … }
/// try trainer.run()
/// ```
public final class Trainer {
    /// The parts being trained.
    public let setup: TrainingSetup
    /// The resolved recipe (class count filled in, `output_dir` absolute).
    public let recipe: Recipe
    /// Backbone and objective heads as one module tree.
    public var model: TrainingModel { setup.model }
    /// The backbone being trained.
    public var backbone: any VideoBackbone { setup.model.backbone }
    /// The objective.
    public var objective: any TrainingObjective { setup.objective }
    /// The optimizer over every parameter of ``model``.
    public var optimizer: any Optimizer { setup.optimizer }
    /// The weight average, when the recipe asks for one.
    public var ema: ExponentialMovingAverage? { setup.ema }
    /// The training loader.
    public var loader: DataLoader { setup.loader }
    /// The run folder (metrics, plots, `config.yaml`, `checkpoints/`), absolute.
    public let runDirectory: String
    /// The checkpoints of this run.
    public let checkpoints: CheckpointStore
    /// What resuming had to say (damaged checkpoints passed over), empty otherwise.
    public private(set) var resumeNotes: [String] = []
    /// The processes training together (``SingleProcessGroup`` unless started under a launcher):
    /// weights start from rank 0's, each rank reads its shard of every epoch, gradients and
    /// logged metrics are averaged over the ranks, and only rank 0 writes files.
    public let processGroup: any ProcessGroup
    /// Receives progress; called on the training thread.
    public var onEvent: ((TrainerEvent) -> Void)?
    /// Runs after every epoch besides the built-in validation; its numbers are logged with the epoch.
    public var evaluationHook: ((Trainer) throws -> [String: Double])?

    /// Optimizer steps taken.
    public internal(set) var step = 0
    /// The next batch to read.
    public internal(set) var position = DataLoader.Position(epoch: 0)
    /// The checkpoint written or resumed most recently.
    public internal(set) var lastCheckpoint: String?
    /// The newest checkpoint whose mean loss was within the sane band (see ``writeCheckpoint()``);
    /// it is never pruned while the run goes on.
    public internal(set) var lastSaneCheckpoint: String?
    /// The `schedule.policy: plateau` schedule's current rate, best validation loss and counters
    /// (nil with every other policy); restored exactly on resume.
    public var plateauState: ReduceLROnPlateau.State? { plateau?.state }
    /// Every validation of this run so far, oldest first.
    public internal(set) var validations: [ValidationRecord] = []

    var generator: RandomGenerator
    var lossSinceCheckpoint: (sum: Double, count: Int) = (0, 0)
    var bestCheckpointLoss: Double?
    var lastSaneStep: Int?
    let validation: Validation?
    /// The optimizer groups whose weight decay `schedule.weight_decay_end` schedules.
    let decayingGroups: [Int]
    var bestValue: Double?
    /// The `plateau` schedule's rate and counters, stepped by each validation and kept in checkpoints.
    var plateau: ReduceLROnPlateau?
    let logger = Logger(label: "videossl.training")

    /// Builds everything a recipe describes, or restores it from a checkpoint.
    ///
    /// - Parameters:
    ///   - resume: a checkpoint folder, or a run or checkpoints folder whose newest intact
    ///     checkpoint is used (a damaged newer one is passed over and named in ``resumeNotes``).
    ///     The resumed run writes into that run folder, whatever the recipe's `output_dir` says.
    ///   - overwrite: lets a new run take over an `output_dir` that holds another run, removing
    ///     that run's checkpoints, logs and plots first.
    /// - Throws: ``RunFolderError`` when `output_dir` holds another run, and what
    ///   ``TrainingSetup/init(recipe:)`` and ``TrainingCheckpointError`` report — all before any
    ///   training.
    ///   - processGroup: the processes of a data-parallel run (default: this one alone).
    public convenience init(
        recipe: Recipe, resume: String? = nil, overwrite: Bool = false,
        processGroup: any ProcessGroup = SingleProcessGroup()
    ) throws {
        try self.init(recipe: recipe, resumingFrom: resume.map(CheckpointStore.resolveForResume), overwrite: overwrite,
                      processGroup: processGroup)
    }

    /// As ``init(recipe:resume:overwrite:)`` from a resume point already resolved (and its files
    /// verified) with ``CheckpointStore/resolveForResume(_:)``.
    ///
    /// In a data-parallel run every rank resumes from the same checkpoint folder (a filesystem
    /// all ranks see), and rank 0's weights and buffers are then broadcast to every rank.
    public init(
        recipe: Recipe, resumingFrom resumePoint: CheckpointStore.ResumePoint?, overwrite: Bool = false,
        processGroup: any ProcessGroup = SingleProcessGroup()
    ) throws {
        self.processGroup = processGroup
        var recipe = recipe
        if let resumePoint {
            recipe.outputDir = RunFolder.absolute(resumePoint.runFolder)
        } else {
            recipe.outputDir = RunFolder.absolute(recipe.outputDir)
        }
        setup = try TrainingSetup(recipe: recipe, loadingWeights: resumePoint == nil, ranks: processGroup.worldSize,
                                  writesFiles: processGroup.isPrimary)
        self.recipe = setup.recipe
        runDirectory = recipe.outputDir
        checkpoints = CheckpointStore(directory: runDirectory + "/checkpoints")
        generator = setup.generator
        let groups = setup.optimizer.parameterGroups
        decayingGroups = groups.indices.filter { groups[$0].weightDecay > 0 }
        validation = try Validation(recipe: setup.recipe, heldOut: setup.heldOut)
        let s = setup.recipe.schedule
        if s.policy == .plateau {
            guard validation != nil else {
                throw RecipeError.invalidValue(key: "schedule.policy", value: "plateau",
                                               reason: "needs validation: data.val or data.holdout, and train.eval_every > 0")
            }
            plateau = ReduceLROnPlateau(learningRate: setup.recipe.optimizer.lr, factor: s.factor, patience: s.patience,
                                        threshold: s.threshold, thresholdMode: s.thresholdMode, cooldown: s.cooldown,
                                        minLR: s.minLR, eps: s.eps)
        }
        if let resumePoint {
            resumeNotes = resumePoint.passedOver.map { "passed over \($0); resuming from \(resumePoint.checkpoint)" }
            for note in resumeNotes { logger.warning("\(note)") }
            try restore(from: resumePoint.checkpoint)
            bestValue = checkpoints.bestRecord()?.value
        } else if processGroup.isPrimary {
            try RunFolder.claim(runDirectory, overwrite: overwrite)
        }
        if processGroup.isDistributed { try broadcastModelState() }
    }

    /// Optimizer steps per epoch (the batches of an epoch that do not fill a step are skipped).
    /// A step takes `accumulation` batches from each of the ``processGroup``'s ranks.
    public var stepsPerEpoch: Int { loader.batchesPerEpoch / (recipe.training.accumulation * processGroup.worldSize) }

    /// The step the run ends at: every epoch, or `train.max_steps` if smaller.
    public var totalSteps: Int {
        min(recipe.training.epochs * stepsPerEpoch, recipe.training.maxSteps ?? Int.max)
    }

    /// Every parameter of the model tree by key.
    public func namedParameters() -> [(String, Parameter)] { model.namedParameters() }

    /// Trains until ``totalSteps`` (or, for tests and interruption, until `stopAfter` steps).
    ///
    /// Writes `config.yaml`, `steps.jsonl`/`.csv`, `epochs.jsonl`/`.csv` (training means and
    /// validation metrics) and `curves.svg` in the run folder, a checkpoint every
    /// `train.checkpoint_every` steps and at the end, and `checkpoints/best` after each
    /// validation that improves the chosen metric.
    /// - Throws: ``TrainerError/nonFiniteLoss(step:terms:lastCheckpoint:)`` (the last checkpoint
    ///   stays as it was), loader and evaluation errors, or ``TrainingCheckpointError``.
    public func run(stopAfter limit: Int? = nil) throws {
        let primary = processGroup.isPrimary, ranks = processGroup.worldSize
        var stepLog: MetricsLog?, epochLog: MetricsLog?
        if primary {
            try FileManager.default.createDirectory(atPath: runDirectory, withIntermediateDirectories: true)
            try recipe.yaml.write(toFile: runDirectory + "/config.yaml", atomically: true, encoding: .utf8)
            stepLog = try MetricsLog(directory: runDirectory, name: "steps", keepingRowsUpTo: step)
            epochLog = try MetricsLog(directory: runDirectory, name: "epochs", keepingRowsUpTo: step)
        }
        if validations.isEmpty, let epochLog {
            // A resumed run's table starts with the validations its earlier processes logged.
            let bestStep = checkpoints.bestRecord()?.step
            for row in epochLog.rows where row["val_top1"] != nil {
                guard let epoch = row["epoch"], let at = row["step"] else { continue }
                validations.append(ValidationRecord(
                    epoch: Int(epoch), step: Int(at), metrics: row.filter { $0.key.hasPrefix("val_") },
                    isBest: Int(at) == bestStep))
            }
        }
        let target = min(totalSteps, limit ?? Int.max)
        let accumulation = recipe.training.accumulation
        model.train()
        var lastWritten = lastCheckpoint == nil ? -1 : step
        let started = Date()
        let startStep = step

        let buckets = GradientBuckets(parameters: optimizer.namedParameters.map(\.parameter))
        let shard = DataLoader.Shard(index: processGroup.rank, count: ranks)
        let usedBatches = stepsPerEpoch * accumulation * ranks
        while step < target && position.epoch < recipe.training.epochs {
            let epoch = position.epoch
            let batches = loader.batches(from: position, shard: shard, end: usedBatches)
            defer { batches.close() }
            optimizer.zeroGrad()
            var accumulator = GradientAccumulator(microBatches: accumulation)
            var sums: [String: Double] = [:], order: [String] = []
            var stepStart = Date(), waited = 0.0, clips = 0, correct = 0
            var epochSums: [String: Double] = [:], epochSteps = 0
            // With `plateau`, a checkpoint due at the epoch's last step waits for the validation.
            var checkpointAfterValidation = false

            while step < target, let batch = try batches.next() {
                waited += batch.dataWaitSeconds
                // Every draw of this batch is a function of its place in the epoch (BatchStreams),
                // so it does not depend on the rank or micro-batch that handles it.
                var batchGenerator = BatchStreams.objective(seed: recipe.seed, epoch: epoch, batch: batch.position.batchIndex)
                var layerGenerator = BatchStreams.layers(seed: recipe.seed, epoch: epoch, batch: batch.position.batchIndex)
                model.reseedRandomLayers(using: &layerGenerator)
                let output = try objective.lossTerms(
                    TrainingBatch(clips: batch.clips, labels: batch.labels, views: batch.views, extras: batch.extras,
                                  itemIndices: batch.itemIndices, epoch: epoch, step: step),
                    model: model, using: &batchGenerator)
                var values = output.terms.values.map { ($0.name, Double($0.value)) }
                var batchClips = 0, batchCorrect = 0
                if let logits = output.logits {
                    batchClips = batch.labels.count
                    batchCorrect = zip(logits.argmax(axis: 1), batch.labels).filter { $0 == $1 }.count
                }
                if ranks > 1 {
                    // The logged terms are the means over the ranks; a non-finite loss on any rank
                    // stops every rank here, before a collective could wait for it.
                    var reduced = values.map(\.1) + [Double(batchClips), Double(batchCorrect)]
                    try processGroup.allReduce(&reduced, .sum)
                    for i in values.indices { values[i].1 = reduced[i] / Double(ranks) }
                    batchClips = Int(reduced[values.count])
                    batchCorrect = Int(reduced[values.count + 1])
                }
                let total = values.reduce(0.0) { $0 + $1.1 }
                guard total.isFinite else {
                    var named: [String: Double] = [:]
                    for (n, v) in values { named[n] = v }
                    throw TrainerError.nonFiniteLoss(step: step, terms: named, lastCheckpoint: lastSaneCheckpoint ?? lastCheckpoint)
                }
                output.terms.total.backward()
                for (n, v) in values {
                    if sums[n] == nil { order.append(n) }
                    sums[n, default: 0] += v
                }
                sums["loss", default: 0] += total
                clips += batchClips
                correct += batchCorrect

                let lr = plateau?.learningRate ?? setup.schedule.learningRate(atEpoch: Double(step) / Double(stepsPerEpoch))
                optimizer.learningRate = lr
                if let decays = setup.weightDecaySchedule, !decays.isEmpty {
                    let decay = decays[min(step, decays.count - 1)]
                    for g in decayingGroups {
                        optimizer.parameterGroups[g].weightDecay = decay
                    }
                }
                let stepped = try accumulator.finishMicroBatch(optimizer) {
                    try buckets.average(over: processGroup)
                    try objective.reduceAcrossRanks(processGroup)
                    let parameters = optimizer.namedParameters.map(\.parameter)
                    if let maxNorm = recipe.training.clipGradNorm {
                        _ = clipGradNorm(parameters, maxNorm: Float(maxNorm))
                    }
                    if let maxNorm = recipe.training.clipGradPerTensor {
                        clipGradNormPerTensor(parameters, maxNorm: Float(maxNorm))
                    }
                    objective.willApplyGradients(epoch: epoch)
                }
                guard stepped else { continue }
                ema?.update()
                step += 1
                lossSinceCheckpoint.sum += sums["loss"]! / Double(accumulation)
                lossSinceCheckpoint.count += 1
                objective.didStep(step, of: totalSteps)
                position = batch.nextPosition

                let seconds = Date().timeIntervalSince(stepStart)
                let perStep = Date().timeIntervalSince(started) / Double(step - startStep)
                let stepClips = batch.labels.count * accumulation * ranks
                let progress = TrainingProgress(
                    step: step, totalSteps: target, epoch: epoch,
                    terms: order.map { ($0, sums[$0]! / Double(accumulation)) },
                    loss: sums["loss"]! / Double(accumulation), learningRate: lr,
                    trainTop1: clips > 0 ? Double(correct) / Double(clips) : .nan,
                    clipsPerSecond: Double(stepClips) / max(seconds, 1e-9),
                    dataWaitShare: min(1, waited / max(seconds, 1e-9)),
                    etaSeconds: perStep * Double(target - step))
                var row: [String: Double] = ["step": Double(step), "epoch": Double(epoch), "lr": lr,
                                             "loss": progress.loss,
                                             "clips_per_s": progress.clipsPerSecond,
                                             "data_wait": progress.dataWaitShare]
                if clips > 0 { row["train_top1"] = progress.trainTop1 }
                for (n, v) in progress.terms { row[n] = v }
                try stepLog?.append(row)
                for (key, value) in row where !["step", "epoch", "lr", "clips_per_s", "data_wait"].contains(key) {
                    epochSums[key, default: 0] += value
                }
                epochSteps += 1
                onEvent?(.step(progress))

                if primary && (step % recipe.training.checkpointEvery == 0 || step == target) {
                    if plateau != nil && batch.nextPosition.epoch > epoch {
                        checkpointAfterValidation = true
                    } else {
                        try writeCheckpoint()
                        lastWritten = step
                    }
                }
                sums = [:]
                order = []
                (stepStart, waited, clips, correct) = (Date(), 0, 0, 0)
            }
            if step < target || position.batchIndex == 0 && position.epoch > epoch {
                // The epoch is over: batches that did not fill a step are dropped with their gradients.
                if position.epoch == epoch { position = DataLoader.Position(epoch: epoch + 1) }
                optimizer.zeroGrad()
                objective.discardPendingState()
                var metrics = epochSums.mapValues { $0 / Double(max(epochSteps, 1)) }
                metrics["step"] = Double(step)
                metrics["epoch"] = Double(epoch)
                let last = step >= totalSteps || epoch + 1 == recipe.training.epochs
                if let validation, validation.isDue(afterEpoch: epoch, last: last) {
                    for (key, value) in try validate(epoch: epoch, with: validation) { metrics[key] = value }
                }
                if let hook = evaluationHook {
                    model.eval()
                    defer { model.train() }
                    for (key, value) in try hook(self) { metrics[key] = value }
                }
                if checkpointAfterValidation {
                    try writeCheckpoint()
                    lastWritten = step
                }
                if epochSteps > 0 { try epochLog?.append(metrics) }
                onEvent?(.epochEnded(epoch: epoch, metrics: metrics))
                if let stepLog, let epochLog { try writePlot(steps: stepLog, epochs: epochLog) }
            }
        }
        if primary && lastWritten != step { try writeCheckpoint() }
        if let validation, step == totalSteps, step > startStep, validations.last?.step != step {
            // `train.max_steps` ended the run inside an epoch: its weights are still validated once.
            var metrics = try validate(epoch: position.epoch, with: validation)
            metrics["step"] = Double(step)
            metrics["epoch"] = Double(position.epoch)
            try epochLog?.append(metrics)
        }
        if let stepLog, let epochLog { try writePlot(steps: stepLog, epochs: epochLog) }
    }

    /// Replaces every rank's weights and buffers with rank 0's (one broadcast of all of them).
    func broadcastModelState() throws {
        let state = model.stateDict()
        var flat: [Float] = []
        flat.reserveCapacity(state.reduce(0) { $0 + $1.1.scalars.count })
        for (_, tensor) in state { flat += tensor.scalars }
        try processGroup.broadcast(&flat, root: 0)
        var offset = 0
        var received: [(String, Tensor)] = []
        for (key, tensor) in state {
            let n = tensor.scalars.count
            received.append((key, Tensor(shape: tensor.shape, scalars: Array(flat[offset..<offset + n]))))
            offset += n
        }
        try model.loadStateDict(received)
    }

    private func writePlot(steps: MetricsLog, epochs: MetricsLog) throws {
        func series(_ key: String) -> [(Double, Double)] {
            epochs.rows.compactMap { r in r[key].flatMap { a in r["epoch"].map { ($0 + 1, a) } } }
        }
        var plots = [CurvePlot.Series(
            title: "training loss per step",
            points: steps.rows.compactMap { r in r["loss"].flatMap { l in r["step"].map { ($0, l) } } })]
        let colours = ["val_top1": "#d62728", "val_top5": "#9467bd", "val_gap": "#8c564b", "train_top1": "#2ca02c"]
        let titles = ["val_top1": "validation top-1 per epoch", "val_top5": "validation top-5 per epoch",
                      "val_gap": "validation Gap per epoch", "train_top1": "training top-1 per epoch"]
        for key in ["val_top1", "val_top5", "val_gap", "train_top1"] {
            let points = series(key)
            if !points.isEmpty {
                plots.append(CurvePlot.Series(title: titles[key]!, points: points, colour: colours[key]!))
            }
        }
        try CurvePlot.svg(plots).write(toFile: runDirectory + "/curves.svg", atomically: true, encoding: .utf8)
    }
}
