import Foundation
import TensorCore

/// Adam with decoupled weight decay, with exactly the arithmetic of PyTorch's `torch.optim.AdamW`
/// (single-tensor implementation), including `amsgrad`.
///
/// Per parameter with gradient `g`, at step `t` and group learning rate `lr`:
/// `p ← p·(1 − lr·wd)`; `m ← m + (1 − β₁)(g − m)`; `v ← β₂v + (1 − β₂)g²`;
/// with amsgrad `v̂ ← max(v̂, v)` (else `v̂ = v`);
/// `p ← p − lr/(1 − β₁ᵗ) · m / (√v̂ / √(1 − β₂ᵗ) + ε)`.
/// The scalar coefficients are computed in Double and the element arithmetic in Float, fused
/// where PyTorch's CPU kernels fuse, so trajectories agree with PyTorch to the last bits.
public final class AdamW: Optimizer {
    /// The parameter groups.
    public var parameterGroups: [ParameterGroup]
    /// The base learning rate of the next step.
    public var learningRate: Double
    /// The decay rates of the first and second moment averages.
    public let betas: (Double, Double)
    /// The term added to the denominator for numerical stability.
    public let epsilon: Double
    /// Whether the denominator uses the running maximum of the second moments (AMSGrad).
    public let amsgrad: Bool

    private let index: ParameterIndex
    private var slots: [String: ParameterSlot] = [:]

    /// Creates the optimizer. The TIME recipe is
    /// `AdamW(ParameterGroup.weightDecay(0.05, on: model.namedParameters()), learningRate: 1e-4, amsgrad: true)`.
    public init(
        _ groups: [ParameterGroup], learningRate: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999),
        epsilon: Double = 1e-8, amsgrad: Bool = false
    ) {
        precondition(learningRate >= 0, "AdamW: learning rate \(learningRate) is negative")
        precondition(
            (0..<1).contains(betas.0) && (0..<1).contains(betas.1),
            "AdamW: betas (\(betas.0), \(betas.1)) must lie in [0, 1)")
        precondition(epsilon >= 0, "AdamW: epsilon \(epsilon) is negative")
        self.parameterGroups = groups
        self.learningRate = learningRate
        self.betas = betas
        self.epsilon = epsilon
        self.amsgrad = amsgrad
        self.index = ParameterIndex(groups, op: "AdamW")
    }

    /// Applies one AdamW update to every parameter that has a gradient.
    public func step() {
        forEachParameterToUpdate(parameterGroups, learningRate: learningRate, slots: &slots, op: "AdamW") {
            parameter, grad, slot, lr, weightDecay in
            slot.step += 1
            update(parameter, grad: grad, slot: slot, lr: lr, weightDecay: weightDecay)
        }
    }

    private func update(_ parameter: Parameter, grad: Tensor, slot: ParameterSlot, lr: Double, weightDecay: Double) {
        let coefficients = AdamWCoefficients(
            learningRate: lr, betas: betas, epsilon: epsilon, weightDecay: weightDecay, step: slot.step)
        let n = parameter.value.count
        grad.withUnsafeBufferPointer { g in
            slot.withBuffer("exp_avg", count: n) { m in
                slot.withBuffer("exp_avg_sq", count: n) { v in
                    withMaximum(slot, count: n) { vMax in
                        parameter.update { p in
                            guard let pp = p.baseAddress, let gp = g.baseAddress, let mp = m.baseAddress,
                                  let vp = v.baseAddress else { return }
                            AdamWKernel.update(coefficients, parameters: pp, gradients: gp, firstMoments: mp,
                                               secondMoments: vp, maxSecondMoments: vMax?.baseAddress, count: n)
                        }
                    }
                }
            }
        }
    }

    private func withMaximum(
        _ slot: ParameterSlot, count: Int, _ body: (UnsafeMutableBufferPointer<Float>?) -> Void
    ) {
        if amsgrad {
            slot.withBuffer("max_exp_avg_sq", count: count) { body($0) }
        } else {
            body(nil)
        }
    }

    /// The state as `<key>.step`, `<key>.exp_avg`, `<key>.exp_avg_sq` and, with amsgrad,
    /// `<key>.max_exp_avg_sq` — PyTorch's names.
    public func stateDict() -> [String: Tensor] {
        SlotStateDict.export(slots, shapes: index.shapes)
    }

    /// Restores state written by ``stateDict()`` (or converted from PyTorch's).
    public func loadStateDict(_ state: [String: Tensor]) throws(OptimizerStateError) {
        slots = try SlotStateDict.load(
            state, shapes: index.shapes,
            required: ["exp_avg", "exp_avg_sq"] + (amsgrad ? ["max_exp_avg_sq"] : []))
    }
}
