import TensorCore

/// An optimizer: updates the parameters of its groups from their accumulated gradients.
///
/// An optimizer is a reference type because it owns per-parameter state (moments, momentum
/// buffers) that must outlive any one step. The learning rate is set from outside, typically by a
/// ``LearningRateSchedule`` before each step; group `i` steps with
/// `learningRate * parameterGroups[i].learningRateScale`.
public protocol Optimizer: AnyObject {
    /// The parameter groups, each with its own weight decay and learning-rate multiplier.
    var parameterGroups: [ParameterGroup] { get set }

    /// The base learning rate of the next step.
    var learningRate: Double { get set }

    /// Applies one update to every parameter that has a gradient. Parameters without a gradient
    /// are left untouched and their state (including their step count) does not advance, as in
    /// PyTorch.
    func step()

    /// The optimizer's per-parameter state as plain tensors keyed `<parameter key>.<state name>`,
    /// with PyTorch's state names (`step`, `exp_avg`, `momentum_buffer`, ...), for checkpoints.
    func stateDict() -> [String: Tensor]

    /// Restores state written by ``stateDict()``, so that training resumes exactly.
    ///
    /// Throws if a key names no parameter or state of this optimizer, if a parameter's state is
    /// incomplete, or if a shape differs. A parameter with no entry starts fresh.
    func loadStateDict(_ state: [String: Tensor]) throws(OptimizerStateError)
}

extension Optimizer {
    /// Every parameter of every group, with its key, in group order.
    public var namedParameters: [(key: String, parameter: Parameter)] {
        parameterGroups.flatMap(\.parameters)
    }

    /// Clears the gradients of every parameter the optimizer updates.
    public func zeroGrad() {
        for group in parameterGroups {
            for entry in group.parameters { entry.parameter.zeroGrad() }
        }
    }
}

/// Why optimizer (or moving-average) state could not be restored.
public enum OptimizerStateError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Keys that name no parameter or no state of the receiver.
    case unexpectedKeys([String])
    /// A parameter's saved state lacks some of the entries it needs.
    case incompleteState(parameter: String, missing: [String])
    /// A saved tensor's shape differs from the one the receiver expects.
    case shapeMismatch(key: String, expected: [Int], found: [Int])

    /// A readable account of the problem.
    public var description: String {
        switch self {
        case .unexpectedKeys(let keys):
            return "optimizer state: unexpected keys \(keys) (saved for a different model or optimizer?)"
        case .incompleteState(let parameter, let missing):
            return "optimizer state: parameter \(parameter) lacks \(missing)"
        case .shapeMismatch(let key, let expected, let found):
            return "optimizer state: \(key) has shape \(found), expected \(expected)"
        }
    }
}
