import Foundation
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
extension ParameterGroup {
    /// The layer of a ViT-style parameter key for layer-wise learning-rate decay, as BEiT's and
    /// VideoMAE's `get_layer_id_for_vit`: 0 for the embeddings (`patch_embed.*`, `cls_token`,
    /// `pos_embed`, `mask_token`, `time_embed`), `i + 1` for `blocks.i.*`, `depth + 1` for the rest
    /// (final norm, `fc_norm`, the head).
    public static func layer(ofKey key: String, depth: Int) -> Int {
        if ["cls_token", "mask_token", "pos_embed", "time_embed"].contains(key) || key.hasPrefix("patch_embed") { return 0 }
        if key.hasPrefix("blocks.") {
            let parts = key.split(separator: ".")
            if parts.count > 1, let i = Int(parts[1]) { return i + 1 }
        }
        return depth + 1
    }

    /// Splits every group by layer (``layer(ofKey:depth:)``), each part's learning rate scaled by
    /// `decay^(depth + 1 − layer)`, where `depth` is the number of `blocks.i` present: VideoMAE's
    /// layer decay (0.75 in its fine-tuning), so the head trains at the full rate and early blocks
    /// more slowly. Parts are named `<group>_layer_<n>`.
    public static func layerDecay(_ decay: Double, splitting groups: [ParameterGroup]) -> [ParameterGroup] {
        precondition(decay > 0 && decay <= 1, "layerDecay: decay \(decay) must lie in (0, 1]")
        let keys = groups.flatMap { $0.parameters.map(\.key) }
        let depth = Set(keys.compactMap { key -> Int? in
            guard key.hasPrefix("blocks.") else { return nil }
            let parts = key.split(separator: ".")
            return parts.count > 1 ? Int(parts[1]) : nil
        }).count
        var result: [ParameterGroup] = []
        for group in groups {
            var byLayer: [Int: [(String, Parameter)]] = [:]
            for (key, parameter) in group.parameters { byLayer[layer(ofKey: key, depth: depth), default: []].append((key, parameter)) }
            for layer in byLayer.keys.sorted() {
                result.append(ParameterGroup(
                    name: "\(group.name)_layer_\(layer)", parameters: byLayer[layer]!, weightDecay: group.weightDecay,
                    learningRateScale: group.learningRateScale * pow(decay, Double(depth + 1 - layer))))
            }
        }
        return result
    }
}

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
