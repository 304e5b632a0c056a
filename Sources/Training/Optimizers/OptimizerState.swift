import TensorCore

/// The per-parameter state of an optimizer: a step count and some buffers shaped like the
/// parameter. Classes, so that a step updates the buffers in place and several buffers can be
/// open at once.
final class ParameterSlot {
    final class Buffer {
        var values: [Float]
        init(_ values: [Float]) { self.values = values }
    }

    var step: Int
    var buffers: [String: Buffer] = [:]

    init(step: Int = 0) {
        self.step = step
    }

    /// Runs `body` on the named buffer, creating it (filled with `initial`) if absent.
    func withBuffer<R>(
        _ name: String, count: Int, initial: Float = 0,
        _ body: (UnsafeMutableBufferPointer<Float>) -> R
    ) -> R {
        let buffer = buffers[name] ?? Buffer(Array(repeating: initial, count: count))
        buffers[name] = buffer
        return buffer.values.withUnsafeMutableBufferPointer { body($0) }
    }
}

/// Writing and strictly reading optimizer state dicts (`<parameter key>.<state name>`).
enum SlotStateDict {
    /// Exports slots with PyTorch's names: `step` as a 0-d tensor, buffers shaped like their
    /// parameter.
    static func export(_ slots: [String: ParameterSlot], shapes: [String: [Int]]) -> [String: Tensor] {
        var state: [String: Tensor] = [:]
        for (key, slot) in slots {
            guard let shape = shapes[key] else { continue }
            state[key + ".step"] = Tensor(shape: [], scalars: [Float(slot.step)])
            for (name, buffer) in slot.buffers {
                state[key + "." + name] = Tensor(shape: shape, scalars: buffer.values)
            }
        }
        return state
    }

    /// Rebuilds slots from `state`, requiring `required` buffers for every parameter present and
    /// accepting only `required + optional` names.
    static func load(
        _ state: [String: Tensor], shapes: [String: [Int]], required: [String], optional: [String] = []
    ) throws(OptimizerStateError) -> [String: ParameterSlot] {
        let known = Set(["step"] + required + optional)
        var grouped: [String: [String: Tensor]] = [:]
        var unexpected: [String] = []
        for (fullKey, tensor) in state {
            // State names hold no dots, so the parameter key is everything before the last one.
            guard let dot = fullKey.lastIndex(of: "."),
                  case let key = String(fullKey[..<dot]),
                  case let name = String(fullKey[fullKey.index(after: dot)...]),
                  shapes[key] != nil, known.contains(name)
            else {
                unexpected.append(fullKey)
                continue
            }
            grouped[key, default: [:]][name] = tensor
        }
        if !unexpected.isEmpty { throw .unexpectedKeys(unexpected.sorted()) }
        var slots: [String: ParameterSlot] = [:]
        for key in grouped.keys.sorted() {
            let entries = grouped[key]!
            let missing = (["step"] + required).filter { entries[$0] == nil }
            if !missing.isEmpty { throw .incompleteState(parameter: key, missing: missing) }
            let step = entries["step"]!
            guard step.count == 1 else {
                throw .shapeMismatch(key: key + ".step", expected: [], found: step.shape)
            }
            let slot = ParameterSlot(step: Int(step.scalars[0]))
            for (name, tensor) in entries where name != "step" {
                guard tensor.shape == shapes[key]! else {
                    throw .shapeMismatch(key: key + "." + name, expected: shapes[key]!, found: tensor.shape)
                }
                slot.buffers[name] = ParameterSlot.Buffer(tensor.scalars)
            }
            slots[key] = slot
        }
        return slots
    }
}

/// The walk every optimizer's `step()` makes: each parameter that has a gradient, group by group,
/// with its slot (created on first use), the group's learning rate and weight decay.
func forEachParameterToUpdate(
    _ groups: [ParameterGroup], learningRate: Double, slots: inout [String: ParameterSlot], op: String,
    _ body: (_ parameter: Parameter, _ grad: Tensor, _ slot: ParameterSlot, _ lr: Double, _ weightDecay: Double) -> Void
) {
    for group in groups {
        let lr = learningRate * group.learningRateScale
        for (key, parameter) in group.parameters {
            guard let grad = parameter.grad else { continue }
            precondition(
                grad.shape == parameter.shape,
                "\(op): gradient shape \(grad.shape) differs from parameter \(key) shape \(parameter.shape)")
            let slot = slots[key] ?? ParameterSlot()
            slots[key] = slot
            body(parameter, grad, slot, lr, group.weightDecay)
        }
    }
}
