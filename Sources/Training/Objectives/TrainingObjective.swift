import TemporalSSL
import TensorCore
import VideoIO
import VideoTransformers

/// A training method as the trainer sees it: heads, loader extras, state and a loss for a batch.
///
/// Supervised cross-entropy and TIME conform; a new method is one conforming type plus one
/// ``Objectives/register(_:)`` call, with no change to ``Trainer``. The method's mathematics
/// stays in TemporalSSL (over tensors and closures); the conformer wires it to the backbone and
/// the loader.
///
/// - Heads are one ``Module`` whose keys are the reference's; they join the backbone in one
///   ``TrainingModel``, so the optimizer, checkpoints, modes and random streams cover them.
/// - Buffers inside the heads (centres, memory banks) are saved with the weights; other state
///   (counters, schedules, teacher copies kept outside the tree) goes through
///   ``checkpointState()`` and ``restoreCheckpointState(_:)`` and resumes exactly.
public protocol TrainingObjective: AnyObject {
    /// The method's own layers, or nil when it has none.
    var heads: Module? { get }
    /// What the loader must compute per clip beside the clip (TIME: flow-direction labels).
    var loaderExtras: [LoaderExtra] { get }
    /// Several views of each decoded window instead of the recipe's one augmented clip (SVT's
    /// global and local views); nil keeps the recipe's clip pipeline. The views reach
    /// ``lossTerms(_:model:using:)`` in ``TrainingBatch/views``.
    var views: DataLoader.ViewTransform? { get }
    /// Whether the loader decodes each item's companion file (image TIME's background-only image)
    /// and appends it to the decoded window before ``views`` run
    /// (``DataLoaderConfiguration/decodesCompanions``); every training item then needs one.
    var decodesCompanions: Bool { get }
    /// The weighted loss terms of one batch through `model`, recorded for backward, and the class
    /// logits of the original clips when the method has them (for the training top-1).
    func lossTerms(_ batch: TrainingBatch, model: TrainingModel, using generator: inout RandomGenerator)
        throws -> ObjectiveOutput
    /// State outside the module tree to store in checkpoints, by key.
    func checkpointState() -> [(String, Tensor)]
    /// Restores what ``checkpointState()`` returned.
    func restoreCheckpointState(_ state: [String: Tensor]) throws
    /// Called after every optimizer step (teacher updates, momentum schedules).
    func didStep(_ step: Int, of totalSteps: Int)
    /// Called after gradient clipping, just before the optimizer step of `epoch`; may drop
    /// gradients (DINO's frozen last layer in the first epoch). A parameter whose gradient is
    /// removed (`zeroGrad()`) is not updated at all in that step.
    func willApplyGradients(epoch: Int)
    /// Called once per optimizer step, after the gradients were averaged over the processes of
    /// `group` and before clipping: combines state the method keeps per process as its reference
    /// does across GPUs (SVT: the DINO centre from the teacher outputs of every micro-batch and
    /// rank). With one process `group` is a ``SingleProcessGroup``; the call still happens.
    ///
    /// BatchNorm statistics stay per rank (as PyTorch DDP without `SyncBatchNorm`); a method
    /// that wants them synchronised reduces its buffers here.
    func reduceAcrossRanks(_ group: any ProcessGroup) throws
    /// Forgets what ``lossTerms(_:model:using:)`` gathered for the next step without applying it
    /// (after the memory estimate's forward pass, or micro-batches an epoch's end drops).
    func discardPendingState()
}

extension TrainingObjective {
    /// No heads.
    public var heads: Module? { nil }
    /// No loader extras.
    public var loaderExtras: [LoaderExtra] { [] }
    /// The recipe's clip pipeline.
    public var views: DataLoader.ViewTransform? { nil }
    /// No companions.
    public var decodesCompanions: Bool { false }
    /// Gradients are applied as they are.
    public func willApplyGradients(epoch: Int) {}
    /// No state outside the module tree.
    public func checkpointState() -> [(String, Tensor)] { [] }
    /// Accepts only an empty state.
    public func restoreCheckpointState(_ state: [String: Tensor]) throws {
        guard state.isEmpty else {
            throw ObjectiveError.stateMismatch(reason: "unexpected objective state \(state.keys.sorted())")
        }
    }
    /// Nothing to do after a step.
    public func didStep(_ step: Int, of totalSteps: Int) {}
    /// No state to combine across processes.
    public func reduceAcrossRanks(_ group: any ProcessGroup) throws {}
    /// Nothing gathered between steps.
    public func discardPendingState() {}
}

/// The result of one objective step.
public struct ObjectiveOutput {
    /// The weighted terms; ``LossTerms/total`` is what backward starts from.
    public var terms: LossTerms
    /// Class logits `[B, K]` of the original clips, when the method computes them.
    public var logits: Tensor?

    /// Bundles terms and logits.
    public init(terms: LossTerms, logits: Tensor? = nil) {
        self.terms = terms
        self.logits = logits
    }
}

/// One batch as objectives receive it.
public struct TrainingBatch {
    /// Clips `[B, T, 3, H, W]`.
    public var clips: Tensor
    /// One class label per clip.
    public var labels: [Int]
    /// With ``TrainingObjective/views``: every view, `[B, T_v, 3, H_v, W_v]` each (``clips`` is
    /// the first); else empty.
    public var views: [Tensor]
    /// The epoch the batch belongs to, from 0.
    public var epoch: Int
    /// Optimizer steps taken before this batch.
    public var step: Int
    /// The dataset index of each clip (its line in the training list, after the loader replaced
    /// unreadable items), for objectives that keep per-video state such as IIC's memory banks;
    /// empty when the batch does not come from a loader.
    public var itemIndices: [Int]
    /// The loader extras by name.
    var extras: [String: IntTensor]

    /// Bundles a batch; `extras` are keyed by ``LoaderExtra/name``.
    public init(clips: Tensor, labels: [Int], views: [Tensor] = [], extras: [String: IntTensor] = [:],
                itemIndices: [Int] = [], epoch: Int = 0, step: Int = 0) {
        self.clips = clips
        self.labels = labels
        self.views = views
        self.extras = extras
        self.itemIndices = itemIndices
        self.epoch = epoch
        self.step = step
    }

    /// The values of `extra`, stacked `[B, …]`.
    ///
    /// - Throws: ``ObjectiveError/missingExtra(_:)`` when the loader did not compute it.
    public func values(of extra: LoaderExtra) throws(ObjectiveError) -> IntTensor {
        guard let values = extras[extra.name] else { throw .missingExtra(extra.name) }
        return values
    }
}

/// A per-clip quantity the loader computes in its worker threads beside the clip, requested by an
/// objective (typed: objectives hold the value and read it back with
/// ``TrainingBatch/values(of:)``).
public struct LoaderExtra: Sendable {
    /// The name the batch carries it under.
    public let name: String
    /// Computes the value of one augmented, normalised clip `[T, 3, H, W]`.
    public let compute: DataLoader.SampleExtra

    /// Creates an extra.
    public init(name: String, compute: @escaping DataLoader.SampleExtra) {
        self.name = name
        self.compute = compute
    }

    /// TIME's flow-direction labels `[T−1, N]` for patches of `patchSize` (Farneback flow of the
    /// augmented crops, `reference/TIME.md` §1.3).
    public static func flowDirections(patchSize: Int) -> LoaderExtra {
        LoaderExtra(name: "flow_directions",
                    compute: DataLoader.flowDirections(FlowDirectionLabels(patchSize: patchSize)))
    }
}

/// What an objective's factory is given: the backbone it trains and the run's shape.
public struct ObjectiveContext {
    /// The backbone.
    public let backbone: any VideoBackbone
    /// Its registered name.
    public let backboneName: String
    /// Classes of the training data (the classifier's width).
    public let classCount: Int
    /// Frames per training clip.
    public let frames: Int
    /// Side of the training crop.
    public let crop: Int
    /// The backbone's overrides (a second copy, such as a teacher, is built from the same).
    public let backboneOverrides: [String: ConfigValue]
    /// Epochs of the run.
    public let epochs: Int
    /// The recipe's `data` section (normalisation, crop sizes) for objectives that make views.
    public let data: Recipe.DataSection
    /// The run folder, for objectives that write files there (reconstruction images); nil outside a run.
    public let outputDirectory: String?
    /// Videos in the training list (the rows of IIC's memory banks); 0 when unknown.
    public let trainingItems: Int

    /// Creates a context.
    public init(backbone: any VideoBackbone, backboneName: String, classCount: Int, frames: Int, crop: Int,
                backboneOverrides: [String: ConfigValue] = [:], epochs: Int = 1,
                data: Recipe.DataSection = Recipe.DataSection(), outputDirectory: String? = nil,
                trainingItems: Int = 0) {
        self.trainingItems = trainingItems
        self.backbone = backbone
        self.backboneName = backboneName
        self.classCount = classCount
        self.frames = frames
        self.crop = crop
        self.backboneOverrides = backboneOverrides
        self.epochs = epochs
        self.data = data
        self.outputDirectory = outputDirectory
    }

    /// Another backbone of the same variant and overrides, initialised from `generator`.
    public func makeBackbone(using generator: inout RandomGenerator) throws -> any VideoBackbone {
        try Backbones.create(backboneName, overrides: backboneOverrides, using: &generator)
    }

    /// The backbone's patch-token interface, which token objectives need.
    ///
    /// - Throws: ``ObjectiveError/needsTokens(objective:backbone:)`` for a backbone without tokens
    ///   (a 3D CNN).
    public func tokenBackbone(for objective: String) throws(ObjectiveError) -> any TokenBackbone {
        guard let tokens = backbone as? any TokenBackbone else {
            throw .needsTokens(objective: objective, backbone: backboneName)
        }
        return tokens
    }
}

/// Why an objective could not be registered, built or run.
public enum ObjectiveError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Another objective is registered under this kind.
    case duplicateKind(String)
    /// No objective is registered under this kind.
    case unknownKind(String, available: [String])
    /// The objective reads patch tokens and the backbone has none.
    case needsTokens(objective: String, backbone: String)
    /// A batch lacks a loader extra the objective declared.
    case missingExtra(String)
    /// The objective's heads use keys the backbone already has.
    case keyCollision([String])
    /// A checkpoint's objective state does not fit the objective.
    case stateMismatch(reason: String)
    /// The run's clips do not suit the objective (e.g. TIME with one frame).
    case unsupportedInput(objective: String, reason: String)

    /// The problem, with what is valid.
    public var description: String {
        switch self {
        case .duplicateKind(let kind): "an objective of kind '\(kind)' is already registered"
        case .unknownKind(let kind, let available):
            "unknown objective '\(kind)'; registered: \(available.joined(separator: ", "))"
        case .needsTokens(let objective, let backbone):
            "objective '\(objective)' reads patch tokens, which backbone '\(backbone)' does not offer "
                + "(choose a transformer backbone or another objective)"
        case .missingExtra(let name): "the batch has no loader extra '\(name)' (declare it in loaderExtras)"
        case .keyCollision(let keys): "objective head keys clash with backbone keys: \(keys.joined(separator: ", "))"
        case .stateMismatch(let reason): "objective state does not fit: \(reason)"
        case .unsupportedInput(let objective, let reason): "objective '\(objective)': \(reason)"
        }
    }
}
