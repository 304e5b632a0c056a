import TensorCore
import Testing
import Training
import _TestSupport

@Suite struct OptimizerTests {
    static func parameter(_ values: [Float], grad: [Float]? = nil) -> Parameter {
        let p = Parameter(Tensor(values))
        if let grad { p.grad = Tensor(grad) }
        return p
    }

    @Test func adamWFirstStepIsSignStepAfterDecoupledDecay() throws {
        // Step 1: bias-corrected m̂ = g and v̂ = g², so the update is lr·g/(|g| + ε) ≈ lr·sign(g),
        // applied after p ← p·(1 − lr·wd).
        let p = Self.parameter([1, -2], grad: [0.5, -0.1])
        let optimizer = AdamW([ParameterGroup(name: "all", parameters: [("w", p)], weightDecay: 0.1)], learningRate: 0.1)
        optimizer.step()
        #expect(isClose(p.value, Tensor([0.99 - 0.1, -1.98 + 0.1]), atol: 1e-6, rtol: 0))
    }

    @Test func amsgradKeepsTheMaximumSecondMoment() throws {
        let p = Self.parameter([0], grad: [1])
        let optimizer = AdamW([ParameterGroup(name: "all", parameters: [("w", p)])], learningRate: 0.1, amsgrad: true)
        optimizer.step()
        p.grad = Tensor([0])
        optimizer.step()
        let state = optimizer.stateDict()
        #expect(try #require(state["w.step"]).scalars == [2])
        #expect(Swift.abs(try #require(state["w.exp_avg_sq"]).scalars[0] - 0.000999) < 1e-9)
        #expect(Swift.abs(try #require(state["w.max_exp_avg_sq"]).scalars[0] - 0.001) < 1e-9)
    }

    @Test func plainSGDAddsL2DecayToTheGradient() throws {
        let p = Self.parameter([2, -1], grad: [0.5, 0.5])
        let optimizer = SGD([ParameterGroup(name: "all", parameters: [("w", p)], weightDecay: 0.1)], learningRate: 0.5)
        optimizer.step()
        // p − 0.5·(g + 0.1·p)
        #expect(isClose(p.value, Tensor([2 - 0.5 * 0.7, -1 - 0.5 * 0.4]), atol: 1e-6, rtol: 0))
        #expect(optimizer.stateDict()["w.momentum_buffer"] == nil)
    }

    @Test func parametersWithoutGradientsAreLeftAlone() throws {
        let a = Self.parameter([1], grad: [1]), b = Self.parameter([1])
        let optimizer = AdamW([ParameterGroup(name: "all", parameters: [("a", a), ("b", b)])], learningRate: 0.1)
        optimizer.step()
        #expect(a.value.scalars[0] < 1)
        #expect(b.value.scalars == [1])
        #expect(Set(optimizer.stateDict().keys) == ["a.step", "a.exp_avg", "a.exp_avg_sq"])
        optimizer.zeroGrad()
        #expect(a.grad == nil)
    }

    @Test func groupsSplitByRankSkipFrozenAndHonourRules() throws {
        let frozen = Parameter(Tensor(zeros: [2, 2]), requiresGrad: false)
        let named: [(String, Parameter)] = [
            ("cls_token", Parameter(Tensor(zeros: [1, 1, 4]))),
            ("pos_embed", Parameter(Tensor(zeros: [1, 5, 4]))),
            ("blocks.0.norm1.weight", Parameter(Tensor(zeros: [4]))),
            ("blocks.0.attn.qkv.weight", Parameter(Tensor(zeros: [12, 4]))),
            ("blocks.0.attn.qkv.bias", Parameter(Tensor(zeros: [12]))),
            ("head.weight", frozen),
        ]
        let groups = ParameterGroup.weightDecay(0.05, on: named)
        #expect(groups.map(\.name) == ["decay", "no_decay"])
        #expect(groups[0].parameters.map(\.key) == ["cls_token", "pos_embed", "blocks.0.attn.qkv.weight"])
        #expect(groups[0].weightDecay == 0.05)
        #expect(groups[1].parameters.map(\.key) == ["blocks.0.norm1.weight", "blocks.0.attn.qkv.bias"])
        #expect(groups[1].weightDecay == 0)

        let custom = ParameterGroup.partition(named, rules: [
            ParameterGroupRule(name: "embeddings", learningRateScale: 0.1) { key, _ in key.hasSuffix("_token") || key.hasSuffix("_embed") },
            ParameterGroupRule(name: "unused") { key, _ in key.hasPrefix("decoder.") },
        ], default: ParameterGroupRule(name: "rest", weightDecay: 0.05))
        #expect(custom.map(\.name) == ["embeddings", "rest"])
        #expect(custom[0].learningRateScale == 0.1)
        #expect(custom[1].parameters.count == 3)
    }

    @Test func groupLearningRateScaleScalesTheStep() throws {
        let a = Self.parameter([0], grad: [1]), b = Self.parameter([0], grad: [1])
        let optimizer = SGD([
            ParameterGroup(name: "full", parameters: [("a", a)]),
            ParameterGroup(name: "half", parameters: [("b", b)], learningRateScale: 0.5),
        ], learningRate: 0.2)
        optimizer.step()
        #expect(a.value.scalars == [-0.2])
        #expect(b.value.scalars == [-0.1])
    }

    @Test(arguments: [false, true])
    func stateDictRoundTripResumesBitExactly(_ useSGD: Bool) throws {
        func make(_ p: Parameter) -> any Optimizer {
            let groups = [ParameterGroup(name: "all", parameters: [("layer.weight", p)], weightDecay: 0.01)]
            return useSGD ? SGD(groups, learningRate: 0.1, momentum: 0.9, nesterov: true)
                          : AdamW(groups, learningRate: 0.1, amsgrad: true)
        }
        let grads: [[Float]] = [[1, -2, 0.5], [0.3, 0.1, -1], [-0.7, 2, 0.2], [0.1, 0.1, 0.1], [2, -1, 0]]
        let original = Self.parameter([0.5, -0.5, 1])
        let first = make(original)
        for g in grads[0..<3] {
            original.grad = Tensor(g)
            first.step()
        }
        let resumed = Self.parameter(original.value.scalars)
        let second = make(resumed)
        try second.loadStateDict(first.stateDict())
        for g in grads[3...] {
            original.grad = Tensor(g)
            first.step()
            resumed.grad = Tensor(g)
            second.step()
        }
        #expect(resumed.value.scalars == original.value.scalars)
        #expect(second.stateDict().mapValues(\.scalars) == first.stateDict().mapValues(\.scalars))
    }

    @Test func loadingMismatchedStateThrowsTypedErrors() throws {
        let p = Self.parameter([1, 2])
        let optimizer = AdamW([ParameterGroup(name: "all", parameters: [("w", p)])], amsgrad: true)
        let good: [String: Tensor] = [
            "w.step": Tensor(shape: [], scalars: [3]), "w.exp_avg": Tensor([0, 0]),
            "w.exp_avg_sq": Tensor([0, 0]), "w.max_exp_avg_sq": Tensor([0, 0]),
        ]
        try optimizer.loadStateDict(good)
        #expect(optimizer.stateDict()["w.step"]?.scalars == [3])

        var unexpected = good
        unexpected["v.exp_avg"] = Tensor([0])
        #expect(throws: OptimizerStateError.unexpectedKeys(["v.exp_avg"])) { try optimizer.loadStateDict(unexpected) }
        var incomplete = good
        incomplete["w.max_exp_avg_sq"] = nil
        #expect(throws: OptimizerStateError.incompleteState(parameter: "w", missing: ["max_exp_avg_sq"])) {
            try optimizer.loadStateDict(incomplete)
        }
        var reshaped = good
        reshaped["w.exp_avg"] = Tensor([0, 0, 0])
        #expect(throws: OptimizerStateError.shapeMismatch(key: "w.exp_avg", expected: [2], found: [3])) {
            try optimizer.loadStateDict(reshaped)
        }
    }
}
