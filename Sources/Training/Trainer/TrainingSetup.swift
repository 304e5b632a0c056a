import Foundation
import Logging
import TemporalSSL
import TensorCore
import VideoIO
import VideoTransformers

/// The parts a recipe describes, built once: data, backbone (with its initial weights), objective,
/// the model tree joining them, optimizer, schedule and weight average.
///
/// ``Trainer`` runs the loop over these parts; the demo, the memory estimate and tests build them
/// the same way. Random draws happen in a fixed order from one generator seeded by `seed`: the
/// backbone's weights, its stochastic layers' seeds, then the objective's heads.
public final class TrainingSetup {
    /// The resolved recipe: `model.overrides.num_classes` filled in from the data when absent.
    public let recipe: Recipe
    /// The training videos (with class names when `data.classes` is given), without the held-out
    /// ones.
    public let dataset: VideoDataset
    /// The videos `data.holdout` took out of `data.train` for validation, or nil.
    public let heldOut: VideoDataset?
    /// The backbone's resolved configuration.
    public let config: any BackboneConfiguration
    /// The objective.
    public let objective: any TrainingObjective
    /// Backbone and heads as one module tree.
    public let model: TrainingModel
    /// The optimizer over every parameter of ``model``.
    public let optimizer: any Optimizer
    /// The learning rate per fractional epoch.
    public let schedule: any LearningRateSchedule
    /// The weight decay per optimizer step when `schedule.weight_decay_end` is set.
    public let weightDecaySchedule: [Double]?
    /// The weight average, when the recipe asks for one.
    public let ema: ExponentialMovingAverage?
    /// The training loader, computing the objective's extras.
    public let loader: DataLoader
    /// What `model.weights` loaded, when the recipe names weights.
    public let weightReport: WeightReport?
    /// The generator after initialisation, kept in checkpoints. The draws of each batch (frame
    /// permutations, masks, dropout) come from ``BatchStreams`` instead, so they do not depend on
    /// which process or micro-batch handles the batch.
    public internal(set) var generator: RandomGenerator

    /// Builds every part of `recipe`; with `loadingWeights` false, `model.weights` is not read
    /// (a resumed run takes every tensor from its checkpoint, so the original file may be gone).
    ///
    /// - Throws: ``RecipeError`` (missing data paths), ``DatasetError``, ``TrainerError`` (labels
    ///   beyond the classes, too few clips), ``ObjectiveError`` (an objective that needs patch
    ///   tokens on a backbone without them), ``BackboneConfigError``, and for `model.weights`
    ///   ``CheckpointError``, ``KeyMaps/RegistryError`` or ``WeightImportError`` — all before any
    ///   training.
    /// - Parameters:
    ///   - ranks: the processes of a data-parallel run; per-iteration schedules count the steps
    ///     of an epoch, which take `accumulation` batches from each of them.
    ///   - writesFiles: false on every rank but 0, whose objective alone gets the run folder for
    ///     files of its own (VideoMAE's reconstruction images).
    public init(recipe: Recipe, loadingWeights: Bool = true, ranks: Int = 1, writesFiles: Bool = true) throws {
        precondition(ranks >= 1, "TrainingSetup: ranks \(ranks) must be at least 1")
        try recipe.checkPaths()
        let data = recipe.data
        var dataset = try recipe.videoList()
        if let file = data.classes {
            dataset = try dataset.withClassNames(from: recipe.dataPath(file))
        }
        var resolved = recipe
        let registration = Objectives.registration(recipe.objective.kind)
        if resolved.model.overrides["num_classes"] == nil {
            resolved.model.overrides["num_classes"] = .int(registration?.usesClassifier ?? true ? dataset.classCount : 0)
        }
        for (key, value) in registration?.backboneDefaults ?? [:] where resolved.model.overrides[key] == nil {
            resolved.model.overrides[key] = value
        }
        self.recipe = resolved
        let config = try Backbones.config(resolved.model.name, overrides: resolved.model.overrides)
        self.config = config
        let classCount = config.numClasses
        if classCount > 0, let label = dataset.items.map(\.label).first(where: { $0 >= classCount }) {
            throw TrainerError.dataMismatch("label \(label) in \(data.train) is beyond num_classes \(config.numClasses)")
        }
        if let split = try recipe.holdoutSplit(of: dataset) {
            dataset = split.train
            heldOut = split.heldOut
        } else {
            heldOut = nil
        }
        self.dataset = dataset
        if let transformer = config as? TransformerConfig, data.crop % transformer.patchSize != 0 {
            throw TrainerError.dataMismatch(
                "data.crop \(data.crop) is not a multiple of the patch size \(transformer.patchSize) of \(resolved.model.name)")
        }
        let exempt: Set<String>

        generator = RandomGenerator(seed: recipe.seed)
        let backbone = try Backbones.create(resolved.model.name, overrides: resolved.model.overrides, using: &generator)
        backbone.reseedRandomLayers(using: &generator)
        exempt = backbone.noWeightDecayKeys
        let objective = try Objectives.make(recipe.objective, context: ObjectiveContext(
            backbone: backbone, backboneName: resolved.model.name, classCount: config.numClasses,
            frames: data.frames, crop: data.crop, backboneOverrides: resolved.model.overrides,
            epochs: recipe.training.epochs, data: data, outputDirectory: writesFiles ? recipe.outputDir : nil,
            trainingItems: dataset.count), using: &generator)
        let model = try TrainingModel(backbone: backbone, heads: objective.heads)
        self.objective = objective
        self.model = model
        if loadingWeights, let source = recipe.model.weightSource {
            weightReport = try TrainingSetup.load(source, into: model, config: config)
        } else {
            weightReport = nil
        }

        let parameters = model.namedParameters()
        let o = recipe.optimizer
        var groups: [ParameterGroup]
        switch o.weightDecayRule {
        case .ndim: groups = ParameterGroup.weightDecay(o.weightDecay, on: parameters)
        case .ndimAndBackboneKeys:
            groups = ParameterGroup.weightDecay(o.weightDecay, on: parameters) { key, p in
                p.shape.count >= 2 && !exempt.contains(key)
            }
        case .all: groups = [ParameterGroup(name: "decay", parameters: parameters, weightDecay: o.weightDecay)]
        }
        if let decay = o.layerDecay {
            groups = ParameterGroup.layerDecay(decay, splitting: groups)
        }
        switch o.name {
        case .adamw:
            optimizer = AdamW(groups, learningRate: o.lr, betas: (o.betas[0], o.betas[1]), epsilon: o.eps,
                              amsgrad: o.amsgrad)
        case .sgd:
            optimizer = SGD(groups, learningRate: o.lr, momentum: o.momentum, nesterov: o.nesterov)
        }
        ema = recipe.training.emaDecay.map { ExponentialMovingAverage(parameters, decay: $0) }

        let sampler = TrainingSetup.trainingSampler(data)
        if objective.decodesCompanions, let lacking = dataset.items.first(where: { $0.companion == nil }) {
            throw DatasetError.missingCompanion(path: recipe.dataPath(data.train), item: lacking.path)
        }
        var extras: [String: DataLoader.SampleExtra] = [:]
        for extra in objective.loaderExtras { extras[extra.name] = extra.compute }
        loader = DataLoader(dataset: dataset, configuration: DataLoaderConfiguration(
            batchSize: recipe.training.batchSize,
            frameSize: FrameSize(width: data.decodeSize[0], height: data.decodeSize[1]),
            sampler: sampler, shuffle: true, dropLast: true, seed: recipe.seed, workerCount: data.workers,
            transform: objective.views == nil ? try ClipPipeline.training(data) : nil, views: objective.views,
            extras: extras, decodesCompanions: objective.decodesCompanions))
        guard loader.batchesPerEpoch >= recipe.training.accumulation * ranks else {
            throw TrainerError.dataMismatch(
                "\(dataset.count) clips make \(loader.batchesPerEpoch) batches of \(recipe.training.batchSize), "
                + "fewer than the \(recipe.training.accumulation * ranks) an optimizer step needs"
                + (ranks > 1 ? " (\(recipe.training.accumulation) on each of \(ranks) processes)" : ""))
        }
        let stepsPerEpoch = loader.batchesPerEpoch / (recipe.training.accumulation * ranks)
        schedule = TrainingSetup.schedule(recipe.schedule, base: o.lr, epochs: recipe.training.epochs,
                                          stepsPerEpoch: stepsPerEpoch)
        weightDecaySchedule = recipe.schedule.weightDecayEnd.map { end in
            IterationSchedule.cosine(base: o.weightDecay, final: end, epochs: recipe.training.epochs,
                                     iterationsPerEpoch: stepsPerEpoch)
        }
    }

    /// Loads `model.weights` into the model tree; the objective's heads may start from their
    /// initialisation when the checkpoint lacks them.
    static func load(_ source: WeightSource, into model: TrainingModel, config: any BackboneConfiguration) throws
        -> WeightReport
    {
        try WeightImport.load(source, into: model, config: config, mayInitialise: model.isHeadKey)
    }

    /// The training sampler of `data` (random frames or window).
    static func trainingSampler(_ data: Recipe.DataSection) -> any ClipSampler {
        switch data.sampler {
        case .segment: SegmentSampler(segments: data.frames, mode: .train)
        case .uniform: UniformSampler(numFrames: data.frames)
        case .dense: DenseSampler(clipLength: data.frames, interval: data.samplingRate, mode: .train)
        }
    }

    /// The schedule a recipe describes, warm-up included; `plateau` starts at the base rate and
    /// ``Trainer`` takes over from there (``ReduceLROnPlateau``).
    static func schedule(_ s: Recipe.ScheduleSection, base: Double, epochs: Int, stepsPerEpoch: Int = 1)
        -> any LearningRateSchedule
    {
        let core: any LearningRateSchedule
        switch s.policy {
        case .iterationCosine:
            // Warm-up is part of the per-iteration table.
            return IterationTableSchedule(
                values: IterationSchedule.cosine(
                    base: base, final: s.endLR, epochs: epochs, iterationsPerEpoch: stepsPerEpoch,
                    warmupEpochs: Int(s.warmupEpochs), warmupStart: s.warmupStartLR),
                iterationsPerEpoch: stepsPerEpoch)
        case .constant, .plateau: core = ConstantSchedule(base)
        case .stepsWithRelativeLRs: core = StepsWithRelativeLRs(base: base, steps: s.steps, relativeLRs: s.relativeLRs)
        case .multiStep:
            // The rate after i milestones is base·γⁱ (γⁱ by repeated multiplication).
            var rates = [1.0]
            for _ in s.milestones { rates.append(rates[rates.count - 1] * s.gamma) }
            core = StepsWithRelativeLRs(base: base, steps: [0] + s.milestones, relativeLRs: rates)
        case .cosine: core = CosineSchedule(base: base, end: s.endLR, maxEpoch: Double(epochs))
        }
        guard s.warmupEpochs > 0 else { return core }
        return AnySchedule(core).withWarmup(epochs: s.warmupEpochs, from: s.warmupStartLR)
    }
}

/// A per-iteration table read at fractional epochs (iteration `round(epoch · iterationsPerEpoch)`,
/// the last value beyond the table).
struct IterationTableSchedule: LearningRateSchedule {
    let values: [Double]
    let iterationsPerEpoch: Int
    func learningRate(atEpoch epoch: Double) -> Double {
        guard let last = values.last else { return 0 }
        let i = Int((epoch * Double(iterationsPerEpoch)).rounded())
        return i < values.count ? values[Swift.max(i, 0)] : last
    }
}

/// A type-erased schedule, so that warm-up can wrap whichever family a recipe picks.
struct AnySchedule: LearningRateSchedule {
    let base: any LearningRateSchedule
    init(_ base: any LearningRateSchedule) { self.base = base }
    func learningRate(atEpoch epoch: Double) -> Double { base.learningRate(atEpoch: epoch) }
}
