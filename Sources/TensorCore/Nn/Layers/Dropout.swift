/// A module that draws random numbers from a generator it owns (dropout, drop-path, and any later
/// stochastic layer), so that every random draw in a model is explicit, reseedable and can be
/// checkpointed.
///
/// Conforming layers are found by ``Module/reseedRandomLayers(using:)`` and
/// ``Module/randomLayerStates()``; nothing else needs registering.
public protocol StochasticModule: Module {
    /// The generator this module draws from.
    var generator: RandomGenerator { get set }
}

/// Inverted dropout, as `torch.nn.Dropout(p)`: active in training mode, the identity in eval mode.
public final class Dropout: Module, UnaryLayer, StochasticModule {
    /// The probability of zeroing each element.
    public let probability: Float
    /// The generator the masks are drawn from.
    public var generator: RandomGenerator

    /// Creates a dropout layer. Models give each stochastic layer its own stream with
    /// ``Module/reseedRandomLayers(using:)``; the default generator is only a placeholder.
    public init(probability: Float, generator: RandomGenerator = RandomGenerator(seed: 0)) {
        precondition(probability >= 0 && probability <= 1, "Dropout: probability \(probability) outside [0, 1]")
        self.probability = probability
        self.generator = generator
        super.init()
    }

    /// Applies dropout when the module is in training mode.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        x.dropout(probability: probability, training: isTraining, using: &generator)
    }
}

/// Stochastic depth per sample, as timm's `DropPath(drop_prob)`: drops whole samples of a residual
/// branch in training mode, the identity in eval mode.
public final class DropPath: Module, UnaryLayer, StochasticModule {
    /// The probability of dropping each sample.
    public let probability: Float
    /// The generator the per-sample decisions are drawn from.
    public var generator: RandomGenerator

    /// Creates a drop-path layer (see ``Dropout/init(probability:generator:)`` about generators).
    public init(probability: Float, generator: RandomGenerator = RandomGenerator(seed: 0)) {
        precondition(probability >= 0 && probability <= 1, "DropPath: probability \(probability) outside [0, 1]")
        self.probability = probability
        self.generator = generator
        super.init()
    }

    /// Applies drop-path along axis 0 when the module is in training mode.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        x.dropPath(probability: probability, training: isTraining, using: &generator)
    }

    /// `residual + self(branch(residual))` in one pass, with the same draws from the generator, where
    /// `branch` runs only on the samples that are kept.
    ///
    /// A dropped sample's branch output is multiplied by zero, so it need not exist: when some
    /// samples are dropped, `branch` receives the kept ones alone (``Tensor/indexSelect(axis:indices:)``
    /// along axis 0) and their outputs are added back with
    /// ``Tensor/addingScaledSamples(_:samples:factors:)``. When every sample (or none) is kept, it
    /// receives the whole batch. Values and gradients are those of the unskipped computation;
    /// `branch` must treat samples independently (it may not mix them, as batch statistics would).
    public func add(to residual: Tensor, _ branch: (Tensor) -> Tensor) -> Tensor {
        precondition(residual.rank >= 1, "DropPath.add: residual \(residual.shape) needs rank ≥ 1")
        guard isTraining, probability > 0 else { return residual + branch(residual) }
        let factors = Tensor.dropPathFactors(samples: residual.shape[0], probability: probability, using: &generator)
        let kept = factors.indices.filter { factors[$0] != 0 }
        guard !kept.isEmpty && kept.count < factors.count else {
            return residual.addingScaledSamples(branch(residual), samples: Array(factors.indices), factors: factors)
        }
        let input = residual.indexSelect(axis: 0, indices: kept)
        return residual.addingScaledSamples(branch(input), samples: kept, factors: kept.map { factors[$0] })
    }
}

/// The stochastic-module generator states of a checkpoint did not match the model's modules.
public struct RandomLayerStateMismatch: Error, Sendable, Equatable, CustomStringConvertible {
    /// Paths of stochastic modules in the model that have no saved state.
    public var missing: [String]
    /// Saved paths that name no stochastic module in the model.
    public var unexpected: [String]

    /// Creates the error from the two path lists.
    public init(missing: [String], unexpected: [String]) {
        self.missing = missing
        self.unexpected = unexpected
    }

    /// The mismatch in words, with a hint about its likely cause.
    public var description: String {
        "random layer states do not match the model: missing \(missing), unexpected \(unexpected)"
            + " (was the checkpoint written by a different model configuration?)"
    }
}

extension Module {
    /// Every stochastic module in the tree (this one included), keyed by dotted path, in tree order.
    public func namedStochasticModules() -> [(String, any StochasticModule)] {
        namedModules().compactMap { path, module in
            (module as? any StochasticModule).map { (path, $0) }
        }
    }

    /// Gives every stochastic module in the tree, in tree order, its own generator seeded from the
    /// next value of `generator`, so one seed decides every random draw of the model.
    public func reseedRandomLayers(using generator: inout RandomGenerator) {
        for (_, module) in namedStochasticModules() {
            module.generator = RandomGenerator(seed: generator.next())
        }
    }

    /// The current generator of every stochastic module, keyed by dotted path (the root is `""`),
    /// for an exactly resumable checkpoint.
    public func randomLayerStates() -> [String: RandomGenerator] {
        var states: [String: RandomGenerator] = [:]
        for (path, module) in namedStochasticModules() { states[path] = module.generator }
        return states
    }

    /// Restores generators saved by ``randomLayerStates()``.
    ///
    /// Nothing is changed unless the saved paths are exactly the model's stochastic modules.
    public func restoreRandomLayerStates(
        _ states: [String: RandomGenerator]
    ) throws(RandomLayerStateMismatch) {
        let modules = namedStochasticModules()
        let paths = Set(modules.map { $0.0 })
        let missing = modules.map { $0.0 }.filter { states[$0] == nil }
        let unexpected = states.keys.filter { !paths.contains($0) }.sorted()
        guard missing.isEmpty && unexpected.isEmpty else {
            throw RandomLayerStateMismatch(missing: missing, unexpected: unexpected)
        }
        for (path, module) in modules { module.generator = states[path]! }
    }
}
