import Foundation
import Logging
import TemporalSSL
import TensorCore
import VideoIO
import VideoTransformers

/// Trains a backbone as a recipe says: the supervised baseline or TIME, with checkpoints that
/// resume bit for bit.
///
/// One TIME step (DESIGN.md, "One TIME training step"): forward the clip in train mode → class
/// logits and patch tokens; draw one frame permutation for the batch from the trainer's seeded
/// generator and forward the shuffled clip in train mode → class logits; ``TIMEObjective`` turns
/// both into named terms; one backward; after `accumulation` micro-batches the gradients are
/// averaged, clipped and applied, the schedule sets the next rate and the weight average updates.
///
/// ```swift
/// let trainer = try Trainer(recipe: try Recipe(contentsOf: "configs/demo.yaml"))
/// trainer.onEvent = { event in … }
/// try trainer.run()
/// ```
public final class Trainer {
    /// The resolved recipe (the class count filled in from the data when not overridden).
    public let recipe: Recipe
    /// The backbone being trained.
    public let model: any VideoBackbone
    /// TIME's heads and loss, for a `time` recipe.
    public let objective: TIMEObjective?
    /// The optimizer over the backbone and the objective's heads.
    public let optimizer: any Optimizer
    /// The weight average, when the recipe asks for one.
    public let ema: ExponentialMovingAverage?
    /// The training loader.
    public let loader: DataLoader
    /// The run folder (metrics, plots, `config.yaml`, `checkpoints/`).
    public let runDirectory: String
    /// The checkpoints of this run.
    public let checkpoints: CheckpointStore
    /// Receives progress; called on the training thread.
    public var onEvent: ((TrainerEvent) -> Void)?
    /// Runs after every epoch (e.g. validation); its numbers are logged with the epoch and a
    /// `top1` value is plotted.
    public var evaluationHook: ((Trainer) throws -> [String: Double])?

    /// Optimizer steps taken.
    public private(set) var step = 0
    /// The next batch to read.
    public private(set) var position = DataLoader.Position(epoch: 0)
    /// The checkpoint written or resumed most recently.
    public private(set) var lastCheckpoint: String?

    private var generator: RandomGenerator
    private let schedule: any LearningRateSchedule
    private let logger = Logger(label: "videossl.training")

    /// Builds everything a recipe describes, or restores it from a checkpoint.
    ///
    /// - Parameter resume: a checkpoint folder, or a run or checkpoints folder whose newest
    ///   complete checkpoint is used.
    /// - Throws: ``RecipeError`` (missing data paths, among others), ``DatasetError``,
    ///   ``CheckpointError`` or ``TrainerError`` — all before any training.
    public init(recipe: Recipe, resume: String? = nil) throws {
        try recipe.checkPaths()
        let data = recipe.data
        let dataset = try VideoDataset.pathLabelList(
            at: recipe.dataPath(data.train), root: data.root.isEmpty ? nil : data.root)
        var resolved = recipe
        if resolved.model.overrides["num_classes"] == nil {
            var classes = dataset.classCount
            if let file = data.classes,
               let text = try? String(contentsOfFile: recipe.dataPath(file), encoding: .utf8) {
                classes = max(classes, text.split(whereSeparator: \.isNewline).count)
            }
            resolved.model.overrides["num_classes"] = .int(classes)
        }
        self.recipe = resolved
        let config = try Backbones.config(resolved.model.name, overrides: resolved.model.overrides)
        if let label = dataset.items.map(\.label).first(where: { $0 >= config.numClasses }) {
            throw TrainerError.dataMismatch("label \(label) in \(data.train) is beyond num_classes \(config.numClasses)")
        }

        generator = RandomGenerator(seed: recipe.seed)
        model = try Backbones.create(resolved.model.name, overrides: resolved.model.overrides, using: &generator)
        model.reseedRandomLayers(using: &generator)
        if recipe.objective.kind == .time {
            var c = TIMEObjective.Configuration(embedDim: config.embedDim, frameCount: data.frames)
            c.labelSmoothing = Float(recipe.objective.labelSmoothing)
            c.classificationWeight = Float(recipe.objective.classificationWeight)
            c.orderWeight = Float(recipe.objective.orderWeight)
            c.debiasWeight = Float(recipe.objective.debiasWeight)
            c.flowWeight = Float(recipe.objective.flowWeight)
            objective = TIMEObjective(c, using: &generator)
        } else {
            objective = nil
        }

        let parameters = model.namedParameters() + (objective?.namedParameters() ?? [])
        let o = recipe.optimizer
        let exempt = model.noWeightDecayKeys
        let groups: [ParameterGroup]
        switch o.weightDecayRule {
        case .ndim: groups = ParameterGroup.weightDecay(o.weightDecay, on: parameters)
        case .ndimAndBackboneKeys:
            groups = ParameterGroup.weightDecay(o.weightDecay, on: parameters) { key, p in
                p.shape.count >= 2 && !exempt.contains(key)
            }
        case .all: groups = [ParameterGroup(name: "decay", parameters: parameters, weightDecay: o.weightDecay)]
        }
        switch o.name {
        case .adamw:
            optimizer = AdamW(groups, learningRate: o.lr, betas: (o.betas[0], o.betas[1]), epsilon: o.eps,
                              amsgrad: o.amsgrad)
        case .sgd:
            optimizer = SGD(groups, learningRate: o.lr, momentum: o.momentum, nesterov: o.nesterov)
        }
        ema = recipe.training.emaDecay.map { ExponentialMovingAverage(parameters, decay: $0) }
        schedule = Trainer.schedule(recipe.schedule, base: o.lr, epochs: recipe.training.epochs)

        let sampler: any ClipSampler = data.sampler == .segment
            ? SegmentSampler(segments: data.frames, mode: .train) : UniformSampler(numFrames: data.frames)
        var extras: [String: DataLoader.SampleExtra] = [:]
        if recipe.objective.kind == .time {
            extras["flow"] = DataLoader.flowDirections(FlowDirectionLabels(patchSize: config.patchSize))
        }
        loader = DataLoader(dataset: dataset, configuration: DataLoaderConfiguration(
            batchSize: recipe.training.batchSize,
            frameSize: FrameSize(width: data.decodeSize[0], height: data.decodeSize[1]),
            sampler: sampler, shuffle: true, dropLast: true, seed: recipe.seed, workerCount: data.workers,
            transform: try ClipPipeline.training(data), extras: extras))
        guard loader.batchesPerEpoch >= recipe.training.accumulation else {
            throw TrainerError.dataMismatch(
                "\(dataset.count) clips make \(loader.batchesPerEpoch) batches of \(recipe.training.batchSize), "
                + "fewer than the \(recipe.training.accumulation) an optimizer step needs")
        }

        runDirectory = recipe.outputDir
        checkpoints = CheckpointStore(directory: runDirectory + "/checkpoints")
        if let resume {
            try restore(from: CheckpointStore.resolve(resume))
        }
    }

    /// Optimizer steps per epoch (the batches of an epoch that do not fill a step are skipped).
    public var stepsPerEpoch: Int { loader.batchesPerEpoch / recipe.training.accumulation }

    /// The step the run ends at: every epoch, or `train.max_steps` if smaller.
    public var totalSteps: Int {
        min(recipe.training.epochs * stepsPerEpoch, recipe.training.maxSteps ?? Int.max)
    }

    /// The backbone's and the objective's parameters by key (the checkpoint's `model.safetensors`).
    public func namedParameters() -> [(String, Parameter)] {
        model.namedParameters() + (objective?.namedParameters() ?? [])
    }

    /// Trains until ``totalSteps`` (or, for tests and interruption, until `stopAfter` steps).
    ///
    /// Writes `config.yaml`, `steps.jsonl`/`.csv`, `epochs.jsonl`/`.csv` and `curves.svg` in the run
    /// folder, and a checkpoint every `train.checkpoint_every` steps and at the end.
    /// - Throws: ``TrainerError/nonFiniteLoss(step:terms:lastCheckpoint:)`` (the last checkpoint
    ///   stays as it was), loader errors, or ``CheckpointError``.
    public func run(stopAfter limit: Int? = nil) throws {
        try FileManager.default.createDirectory(atPath: runDirectory, withIntermediateDirectories: true)
        try recipe.yaml.write(toFile: runDirectory + "/config.yaml", atomically: true, encoding: .utf8)
        let stepLog = try MetricsLog(directory: runDirectory, name: "steps", keepingRowsUpTo: step)
        let epochLog = try MetricsLog(directory: runDirectory, name: "epochs", keepingRowsUpTo: step)
        let target = min(totalSteps, limit ?? Int.max)
        let accumulation = recipe.training.accumulation
        model.train()
        objective?.train()
        var lastWritten = lastCheckpoint == nil ? -1 : step
        let started = Date()
        let startStep = step

        while step < target && position.epoch < recipe.training.epochs {
            let epoch = position.epoch
            let batches = loader.batches(from: position)
            defer { batches.close() }
            optimizer.zeroGrad()
            var accumulator = GradientAccumulator(microBatches: accumulation)
            var sums: [String: Double] = [:], order: [String] = []
            var stepStart = Date(), waited = 0.0, clips = 0, correct = 0
            var epochSums: [String: Double] = [:], epochSteps = 0

            while step < target, let batch = try batches.next() {
                waited += batch.dataWaitSeconds
                let (terms, logits) = forward(batch)
                let values = terms.values
                let total = values.reduce(0.0) { $0 + Double($1.value) }
                guard total.isFinite else {
                    var named: [String: Double] = [:]
                    for (n, v) in values { named[n] = Double(v) }
                    throw TrainerError.nonFiniteLoss(step: step, terms: named, lastCheckpoint: lastCheckpoint)
                }
                terms.total.backward()
                for (n, v) in values {
                    if sums[n] == nil { order.append(n) }
                    sums[n, default: 0] += Double(v)
                }
                sums["loss", default: 0] += total
                clips += batch.labels.count
                correct += zip(logits.argmax(axis: 1), batch.labels).filter { $0 == $1 }.count

                let lr = schedule.learningRate(atEpoch: Double(step) / Double(stepsPerEpoch))
                optimizer.learningRate = lr
                let stepped = accumulator.finishMicroBatch(optimizer) {
                    if let maxNorm = recipe.training.clipGradNorm {
                        _ = clipGradNorm(optimizer.namedParameters.map(\.parameter), maxNorm: Float(maxNorm))
                    }
                }
                guard stepped else { continue }
                ema?.update()
                step += 1
                position = batch.nextPosition

                let seconds = Date().timeIntervalSince(stepStart)
                let perStep = Date().timeIntervalSince(started) / Double(step - startStep)
                let progress = TrainingProgress(
                    step: step, totalSteps: target, epoch: epoch,
                    terms: order.map { ($0, sums[$0]! / Double(accumulation)) },
                    loss: sums["loss"]! / Double(accumulation), learningRate: lr,
                    trainTop1: Double(correct) / Double(max(clips, 1)),
                    clipsPerSecond: Double(clips) / max(seconds, 1e-9),
                    dataWaitShare: min(1, waited / max(seconds, 1e-9)),
                    etaSeconds: perStep * Double(target - step))
                var row: [String: Double] = ["step": Double(step), "epoch": Double(epoch), "lr": lr,
                                             "loss": progress.loss, "train_top1": progress.trainTop1,
                                             "clips_per_s": progress.clipsPerSecond,
                                             "data_wait": progress.dataWaitShare]
                for (n, v) in progress.terms { row[n] = v }
                try stepLog.append(row)
                for (key, value) in row where !["step", "epoch", "lr", "clips_per_s", "data_wait"].contains(key) {
                    epochSums[key, default: 0] += value
                }
                epochSteps += 1
                onEvent?(.step(progress))

                if step % recipe.training.checkpointEvery == 0 || step == target {
                    try writeCheckpoint()
                    lastWritten = step
                }
                sums = [:]
                order = []
                (stepStart, waited, clips, correct) = (Date(), 0, 0, 0)
            }
            if step < target || position.batchIndex == 0 && position.epoch > epoch {
                // The epoch is over: batches that did not fill a step are dropped with their gradients.
                if position.epoch == epoch { position = DataLoader.Position(epoch: epoch + 1) }
                optimizer.zeroGrad()
                var metrics = epochSums.mapValues { $0 / Double(max(epochSteps, 1)) }
                metrics["step"] = Double(step)
                metrics["epoch"] = Double(epoch)
                if let hook = evaluationHook {
                    model.eval()
                    objective?.eval()
                    for (key, value) in try hook(self) { metrics[key] = value }
                    model.train()
                    objective?.train()
                }
                if epochSteps > 0 { try epochLog.append(metrics) }
                onEvent?(.epochEnded(epoch: epoch, metrics: metrics))
                try writePlot(steps: stepLog, epochs: epochLog)
            }
        }
        if lastWritten != step { try writeCheckpoint() }
        try writePlot(steps: stepLog, epochs: epochLog)
    }

    /// The loss terms and class logits of one batch (recorded for backward).
    private func forward(_ batch: DataLoader.Batch) -> (LossTerms, Tensor) {
        lossTerms(clips: batch.clips, labels: batch.labels, flowLabels: batch.extras["flow"], using: &generator)
    }

    /// The loss terms and class logits of clips (recorded for backward); TIME's frame permutation
    /// comes from `generator`.
    func lossTerms(
        clips: Tensor, labels: [Int], flowLabels: IntTensor?, using generator: inout RandomGenerator
    ) -> (LossTerms, Tensor) {
        guard let objective else {
            let logits = model(clips)
            let smoothing = Float(recipe.objective.labelSmoothing)
            let loss = crossEntropy(logits: logits, labels: labels, labelSmoothing: smoothing)
            return (LossTerms([("cls", loss * Float(recipe.objective.classificationWeight))]), logits)
        }
        return objective.lossTerms(
            model: model, clips: clips, labels: labels, flowLabels: flowLabels!, using: &generator)
    }

    /// Writes a checkpoint of the current state.
    public func writeCheckpoint() throws {
        var layers = model.randomLayerStates()
        for (path, g) in objective?.randomLayerStates() ?? [:] { layers["objective." + path] = g }
        let state = TrainerState(step: step, position: position, generator: generator, randomLayers: layers)
        let path = try checkpoints.write(TrainingCheckpoint(
            weights: namedParameters().map { ($0.0, $0.1.value) }, optimizerState: optimizer.stateDict(),
            emaState: ema?.stateDict() ?? [:], state: state, recipeYAML: recipe.yaml),
            keep: recipe.training.keepCheckpoints)
        lastCheckpoint = path
        logger.debug("checkpoint written", metadata: ["path": "\(path)"])
        onEvent?(.checkpointWritten(path: path, step: step))
    }

    private func restore(from path: String) throws {
        let checkpoint = try CheckpointStore.read(path)
        let parameters = Dictionary(uniqueKeysWithValues: namedParameters())
        let saved = Dictionary(checkpoint.weights, uniquingKeysWith: { a, _ in a })
        let missing = parameters.keys.filter { saved[$0] == nil }.sorted()
        let unexpected = saved.keys.filter { parameters[$0] == nil }.sorted()
        let reshaped = parameters.filter { key, p in saved[key].map { $0.shape != p.shape } ?? false }.keys.sorted()
        guard missing.isEmpty && unexpected.isEmpty && reshaped.isEmpty else {
            throw CheckpointError.mismatch(
                path: path, reason: "missing \(missing.prefix(5)), unexpected \(unexpected.prefix(5)), reshaped \(reshaped.prefix(5))")
        }
        do {
            try optimizer.loadStateDict(checkpoint.optimizerState)
            if let ema { try ema.loadStateDict(checkpoint.emaState) }
        } catch {
            throw CheckpointError.mismatch(path: path, reason: "\(error)")
        }
        guard let trainerGenerator = checkpoint.state.trainerGenerator,
              let layers = checkpoint.state.randomLayerGenerators else {
            throw CheckpointError.unreadable(path: path + "/trainer_state.json", reason: "malformed generator state")
        }
        var modelLayers: [String: RandomGenerator] = [:], objectiveLayers: [String: RandomGenerator] = [:]
        for (key, g) in layers {
            if key.hasPrefix("objective.") { objectiveLayers[String(key.dropFirst(10))] = g } else { modelLayers[key] = g }
        }
        do {
            try model.restoreRandomLayerStates(modelLayers)
            try objective?.restoreRandomLayerStates(objectiveLayers)
        } catch {
            throw CheckpointError.mismatch(path: path, reason: "\(error)")
        }
        let p = checkpoint.state.position
        guard p.epoch >= 0, (0...loader.batchesPerEpoch).contains(p.batchIndex) else {
            throw CheckpointError.mismatch(path: path, reason: "data position \(p) outside this loader")
        }
        for (key, parameter) in parameters { parameter.value = saved[key]! }
        generator = trainerGenerator
        step = checkpoint.state.step
        position = p.batchIndex == loader.batchesPerEpoch ? DataLoader.Position(epoch: p.epoch + 1) : p
        lastCheckpoint = path
        logger.debug("resumed", metadata: ["checkpoint": "\(path)", "step": "\(step)"])
    }

    private func writePlot(steps: MetricsLog, epochs: MetricsLog) throws {
        var series = [CurvePlot.Series(
            title: "training loss per step",
            points: steps.rows.compactMap { r in r["loss"].flatMap { l in r["step"].map { ($0, l) } } })]
        let top1 = epochs.rows.compactMap { r in r["top1"].flatMap { a in r["epoch"].map { ($0 + 1, a) } } }
        if !top1.isEmpty {
            series.append(CurvePlot.Series(title: "validation top-1 per epoch", points: top1, colour: "#d62728"))
        }
        let train = epochs.rows.compactMap { r in r["train_top1"].flatMap { a in r["epoch"].map { ($0 + 1, a) } } }
        if !train.isEmpty {
            series.append(CurvePlot.Series(title: "training top-1 per epoch", points: train, colour: "#2ca02c"))
        }
        try CurvePlot.svg(series).write(toFile: runDirectory + "/curves.svg", atomically: true, encoding: .utf8)
    }

    static func schedule(_ s: Recipe.Schedule, base: Double, epochs: Int) -> any LearningRateSchedule {
        let core: any LearningRateSchedule
        switch s.policy {
        case .constant: core = ConstantSchedule(base)
        case .stepsWithRelativeLRs: core = StepsWithRelativeLRs(base: base, steps: s.steps, relativeLRs: s.relativeLRs)
        case .cosine: core = CosineSchedule(base: base, end: s.endLR, maxEpoch: Double(epochs))
        }
        guard s.warmupEpochs > 0 else { return core }
        return AnySchedule(core).withWarmup(epochs: s.warmupEpochs, from: s.warmupStartLR)
    }
}

/// A type-erased schedule, so that warm-up can wrap whichever family a recipe picks.
struct AnySchedule: LearningRateSchedule {
    let base: any LearningRateSchedule
    init(_ base: any LearningRateSchedule) { self.base = base }
    func learningRate(atEpoch epoch: Double) -> Double { base.learningRate(atEpoch: epoch) }
}
