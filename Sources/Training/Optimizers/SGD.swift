import TensorCore

/// Stochastic gradient descent with momentum, dampening, Nesterov momentum and L2 weight decay,
/// with exactly the arithmetic of PyTorch's `torch.optim.SGD` (single-tensor implementation).
///
/// Per parameter with gradient `g` and group learning rate `lr`: `d = g + wd·p`; the momentum
/// buffer starts as `b = d` on the first step and is `b ← μb + (1 − dampening)d` afterwards;
/// the direction is `d + μb` with Nesterov, else `b`; `p ← p − lr·direction`.
public final class SGD: Optimizer {
    /// The parameter groups (their `weightDecay` is an L2 term added to the gradient).
    public var parameterGroups: [ParameterGroup]
    /// The base learning rate of the next step.
    public var learningRate: Double
    /// The momentum factor μ (0 disables the momentum buffer).
    public let momentum: Double
    /// The dampening applied to new gradients in the momentum buffer.
    public let dampening: Double
    /// Whether to use Nesterov momentum.
    public let nesterov: Bool

    private let index: ParameterIndex
    private var slots: [String: ParameterSlot] = [:]

    /// Creates the optimizer. Nesterov momentum needs a positive momentum and zero dampening.
    public init(
        _ groups: [ParameterGroup], learningRate: Double, momentum: Double = 0, dampening: Double = 0,
        nesterov: Bool = false
    ) {
        precondition(learningRate >= 0, "SGD: learning rate \(learningRate) is negative")
        precondition(momentum >= 0, "SGD: momentum \(momentum) is negative")
        precondition(
            !nesterov || (momentum > 0 && dampening == 0),
            "SGD: nesterov needs momentum > 0 and dampening 0 (got momentum \(momentum), dampening \(dampening))")
        self.parameterGroups = groups
        self.learningRate = learningRate
        self.momentum = momentum
        self.dampening = dampening
        self.nesterov = nesterov
        self.index = ParameterIndex(groups, op: "SGD")
    }

    /// Applies one SGD update to every parameter that has a gradient.
    public func step() {
        forEachParameterToUpdate(parameterGroups, learningRate: learningRate, slots: &slots, op: "SGD") {
            parameter, grad, slot, lr, weightDecay in
            update(parameter, grad: grad, slot: slot, lr: lr, weightDecay: weightDecay)
        }
    }

    private func update(_ parameter: Parameter, grad: Tensor, slot: ParameterSlot, lr: Double, weightDecay: Double) {
        let n = parameter.value.count
        let wd = Float(weightDecay), mu = Float(momentum), keep = Float(1 - dampening)
        let negativeLR = Float(-lr)
        let useMomentum = momentum != 0, firstStep = slot.buffers["momentum_buffer"] == nil
        let nesterov = self.nesterov
        slot.step += 1
        grad.withUnsafeBufferPointer { g in
            let apply = { (b: UnsafeMutableBufferPointer<Float>) in
                parameter.update { p in
                    let p = p
                    ComputeContext.parallelFor(n, minimumChunk: 1 << 15) { range in
                        for i in range {
                            // PyTorch's add(alpha:) kernel is a fused multiply-add.
                            var d = wd != 0 ? g[i].addingProduct(wd, p[i]) : g[i]
                            if useMomentum {
                                b[i] = firstStep ? d : (b[i] * mu).addingProduct(keep, d)
                                d = nesterov ? d.addingProduct(mu, b[i]) : b[i]
                            }
                            p[i] = p[i].addingProduct(negativeLR, d)
                        }
                    }
                }
            }
            if useMomentum {
                slot.withBuffer("momentum_buffer", count: n, apply)
            } else {
                apply(UnsafeMutableBufferPointer(start: nil, count: 0))
            }
        }
    }

    /// The state as `<key>.step` and, with momentum, `<key>.momentum_buffer` (PyTorch's name).
    ///
    /// PyTorch's SGD keeps no step count; ours is kept so that a resumed run can be checked.
    public func stateDict() -> [String: Tensor] {
        SlotStateDict.export(slots, shapes: index.shapes)
    }

    /// Restores state written by ``stateDict()``.
    public func loadStateDict(_ state: [String: Tensor]) throws(OptimizerStateError) {
        slots = try SlotStateDict.load(
            state, shapes: index.shapes, required: momentum != 0 ? ["momentum_buffer"] : [])
    }
}
