import TensorCore

/// A set of parameters that share a weight decay and a learning-rate multiplier.
///
/// Build groups from a module's ``Module/namedParameters()`` with ``partition(_:rules:default:)``
/// or the common recipe ``weightDecay(_:on:where:)``.
public struct ParameterGroup {
    /// A short name for logs and error messages (`"decay"`, `"no_decay"`).
    public var name: String
    /// The parameters with their state-dict keys.
    public var parameters: [(key: String, parameter: Parameter)]
    /// The weight decay coefficient (decoupled for AdamW, L2 for SGD).
    public var weightDecay: Double
    /// The factor applied to the optimizer's learning rate for this group.
    public var learningRateScale: Double

    /// Creates a group from keyed parameters.
    public init(
        name: String, parameters: [(String, Parameter)], weightDecay: Double = 0,
        learningRateScale: Double = 1
    ) {
        self.name = name
        self.parameters = parameters.map { (key: $0.0, parameter: $0.1) }
        self.weightDecay = weightDecay
        self.learningRateScale = learningRateScale
    }
}

/// A rule that claims parameters for a group in ``ParameterGroup/partition(_:rules:default:)``.
public struct ParameterGroupRule {
    /// The name of the group the rule builds.
    public var name: String
    /// The group's weight decay.
    public var weightDecay: Double
    /// The group's learning-rate multiplier.
    public var learningRateScale: Double
    /// Whether a parameter (with its key) belongs to the group.
    public var matches: (String, Parameter) -> Bool

    /// Creates a rule; `matches` receives each parameter's key and the parameter.
    public init(
        name: String, weightDecay: Double = 0, learningRateScale: Double = 1,
        matches: @escaping (String, Parameter) -> Bool = { _, _ in true }
    ) {
        self.name = name
        self.weightDecay = weightDecay
        self.learningRateScale = learningRateScale
        self.matches = matches
    }
}

extension ParameterGroup {
    /// Splits parameters into groups: each parameter joins the group of the first rule that
    /// matches it, or the `default` group when none does.
    ///
    /// Frozen parameters (`requiresGrad == false`) are left out and empty groups are dropped, as
    /// SlowFast's `construct_optimizer` does. Groups come in rule order, the default group last;
    /// parameters keep their input order.
    public static func partition(
        _ parameters: [(String, Parameter)], rules: [ParameterGroupRule],
        default fallback: ParameterGroupRule = ParameterGroupRule(name: "default")
    ) -> [ParameterGroup] {
        let all = rules + [fallback]
        var members = Array(repeating: [(String, Parameter)](), count: all.count)
        for (key, parameter) in parameters where parameter.requiresGrad {
            let index = rules.firstIndex { $0.matches(key, parameter) } ?? rules.count
            members[index].append((key, parameter))
        }
        return zip(all, members).compactMap { rule, group in
            group.isEmpty ? nil : ParameterGroup(
                name: rule.name, parameters: group, weightDecay: rule.weightDecay,
                learningRateScale: rule.learningRateScale)
        }
    }

    /// The usual transformer recipe: weight decay `weightDecay` on the parameters `decayed` selects
    /// (by default every parameter with at least two dimensions, which includes the cls token and
    /// position/time embeddings) and none on the rest (biases, norm scales).
    ///
    /// This is the TIME/SlowFast setting (`ZERO_WD_1D_PARAM`). Returns the groups `"decay"` then
    /// `"no_decay"`, leaving out an empty one. To exempt a backbone's `noWeightDecayKeys` too,
    /// pass `where: { key, p in p.shape.count >= 2 && !keys.contains(key) }`.
    public static func weightDecay(
        _ weightDecay: Double, on parameters: [(String, Parameter)],
        where decayed: @escaping (String, Parameter) -> Bool = { _, p in p.shape.count >= 2 }
    ) -> [ParameterGroup] {
        partition(
            parameters,
            rules: [ParameterGroupRule(name: "decay", weightDecay: weightDecay, matches: decayed)],
            default: ParameterGroupRule(name: "no_decay", weightDecay: 0))
    }
}

/// State shared by the optimizers: checks that every key is unique across groups, and looks
/// parameters up by key when restoring.
struct ParameterIndex {
    let keys: [String]
    let shapes: [String: [Int]]

    init(_ groups: [ParameterGroup], op: String) {
        var keys: [String] = []
        var shapes: [String: [Int]] = [:]
        for group in groups {
            for entry in group.parameters {
                precondition(
                    shapes[entry.key] == nil,
                    "\(op): parameter key \(entry.key) appears twice among the parameter groups")
                keys.append(entry.key)
                shapes[entry.key] = entry.parameter.shape
            }
        }
        self.keys = keys
        self.shapes = shapes
    }
}
