import Foundation
import Testing
import _TestSupport
import TensorCore
import Training
import VideoIO

/// Mixup / CutMix against VideoMAE's `mixup.py` (timm's `Mixup`, batch mode) and timm's
/// `SoftTargetCrossEntropy`, restated in `Scripts/reference/make_augment_fixtures.py` with our
/// generator's draws (`Fixtures/mixup.safetensors`).
@Suite struct MixupTests {
    static let file: SafeTensorsFile = {
        let url = Bundle.module.url(forResource: "mixup", withExtension: "safetensors", subdirectory: "Fixtures")!
        return try! SafeTensors.read(contentsOf: url)
    }()

    /// A float64 array, exactly.
    static func doubles(_ name: String) -> [Double] {
        let bytes = try! file.rawBytes(named: name)
        return stride(from: 0, to: bytes.count, by: 8).map { o in
            Double(bitPattern: bytes[(bytes.startIndex + o)..<(bytes.startIndex + o + 8)].reversed()
                .reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        }
    }

    static func tensor(_ name: String) -> Tensor { try! file.tensor(named: name) }

    @Test func betaDrawsEqualThePort() {
        let params = Self.doubles("beta.params"), values = Self.doubles("beta.values")
        for p in 0..<(params.count / 2) {
            var generator = RandomGenerator(seed: UInt64(p))
            let draws = (0..<6).map { _ in generator.nextBeta(params[2 * p], params[2 * p + 1]) }
            #expect(draws == Array(values[(6 * p)..<(6 * p + 6)]), "Beta(\(params[2 * p]), \(params[2 * p + 1]))")
        }
    }

    @Test func mixedClipsTargetsLossAndGradientEqualTheReference() throws {
        let batch = Self.tensor("batch"), logits = Self.tensor("logits")
        let labels = try Self.file.integers(named: "labels").values
        let cases = Self.doubles("mix.cases"), draws = Self.doubles("mix.draws")
        var methods = Set<Mixup.Method>()
        for n in 0..<(cases.count / 6) {
            let c = Array(cases[(6 * n)..<(6 * n + 6)]), d = Array(draws[(6 * n)..<(6 * n + 6)])
            let mixup = try Mixup(mixupAlpha: c[1], cutmixAlpha: c[2], probability: c[3], switchProbability: c[4],
                                  labelSmoothing: c[5])
            var generator = RandomGenerator(seed: UInt64(c[0]))
            let mixed = try mixup(batch, labels: labels, classCount: 5, using: &generator)
            let method: [Mixup.Method] = [.none, .mixup, .cutmix]
            #expect(mixed.draw.method == method[Int(d[0])], "case \(n)")
            #expect(mixed.draw.lambda == d[1], "case \(n) λ")
            let box = mixed.draw.box.map { [$0.top, $0.left, $0.height, $0.width].map(Double.init) } ?? [-1, -1, -1, -1]
            #expect(box == Array(d[2..<6]), "case \(n) box")
            #expect(mixed.clips == Self.tensor("mix.clips.\(n)"), "case \(n) clips")
            #expect(mixed.targets == Self.tensor("mix.targets.\(n)"), "case \(n) targets")

            let z = logits.detached().requiringGrad()
            let loss = softTargetCrossEntropy(logits: z, targets: mixed.targets)
            loss.backward()
            let want = Self.tensor("mix.loss.\(n)").scalars[0]
            #expect(abs(loss.scalars[0] - want) <= 1e-6 * max(1, abs(want)), "case \(n) loss")
            #expect(maxAbsDifference(try #require(z.grad), Self.tensor("mix.grad.\(n)")) < 1e-7, "case \(n) gradient")
            methods.insert(mixed.draw.method)
        }
        #expect(methods == [.none, .mixup, .cutmix])
    }

    @Test func theCutMixBoxCoversEveryFrameAndChannel() throws {
        let mixup = try Mixup(mixupAlpha: 0, cutmixAlpha: 1)
        let batch = Tensor(shape: [2, 3, 3, 4, 5]) { out in for i in 0..<out.count { out[i] = i < out.count / 2 ? 0 : 1 } }
        let draw = Mixup.Draw(method: .cutmix, lambda: 0.7, box: CropRegion(top: 1, left: 2, height: 2, width: 3))
        let mixed = try mixup.mix(batch, draw)
        for t in 0..<3 {
            for c in 0..<3 {
                #expect(mixed[0, t, c, 1, 2] == 1 && mixed[0, t, c, 2, 4] == 1 && mixed[0, t, c, 0, 2] == 0)
                #expect(mixed[1, t, c, 1, 2] == 0 && mixed[1, t, c, 3, 4] == 1)
            }
        }
        #expect(mixed.scalars.filter { $0 == 1 }.count == batch.count / 2)
    }

    @Test func badSettingsAndBatchesAreTypedErrors() throws {
        func refused(_ make: () throws -> Mixup) -> Bool {
            do { _ = try make(); return false } catch {
                guard case .invalidParameter(op: "Mixup", _, _, _)? = error as? TransformError else { return false }
                return true
            }
        }
        #expect(refused { try Mixup(mixupAlpha: -0.1) })
        #expect(refused { try Mixup(cutmixAlpha: .infinity) })
        #expect(refused { try Mixup(mixupAlpha: 0, cutmixAlpha: 0) })
        #expect(refused { try Mixup(probability: 1.5) })
        #expect(refused { try Mixup(switchProbability: -1) })
        #expect(refused { try Mixup(labelSmoothing: 1) })

        let mixup = try Mixup()
        var generator = RandomGenerator(seed: 0)
        let odd = Tensor(zeros: [3, 2, 3, 4, 4])
        #expect(throws: TransformError.self) { _ = try mixup(odd, labels: [0, 1, 2], classCount: 4, using: &generator) }
        #expect(throws: TransformError.self) { _ = try mixup(Tensor(zeros: [2, 4]), labels: [0, 1], classCount: 4, using: &generator) }
        let even = Tensor(zeros: [2, 2, 3, 4, 4])
        #expect(throws: TransformError.self) { _ = try mixup(even, labels: [0, 4], classCount: 4, using: &generator) }
        #expect(throws: TransformError.self) { _ = try mixup(even, labels: [0], classCount: 4, using: &generator) }
    }

    @Test func targetsOfAnUnmixedBatchAreTheSmoothedLabels() throws {
        let targets = try Mixup(labelSmoothing: 0.1).targets(labels: [2, 0], classCount: 4, lambda: 1)
        #expect(targets.scalars == [0.025, 0.025, 0.925, 0.025, 0.925, 0.025, 0.025, 0.025])
    }
}

/// The supervised objective's mixing settings, in a recipe and in a step.
@Suite struct SupervisedMixupTests {
    @Test func mixingUsesTheTrainersGeneratorAndDropsTheTrainingTop1() throws {
        var g = RandomGenerator(seed: 0)
        let backbone = PooledBackbone(using: &g)
        var settings = SupervisedObjective.Settings()
        settings.mixupAlpha = 0.8
        settings.cutmixAlpha = 1
        settings.labelSmoothing = 0.1
        let objective = try SupervisedObjective(settings)
        let model = try TrainingModel(backbone: backbone, heads: objective.heads)
        let clips = Tensor.normal([4, 4, 3, 8, 8], using: &g), labels = [0, 3, 1, 2]

        var generator = RandomGenerator(seed: 9), reference = generator
        let output = try objective.lossTerms(TrainingBatch(clips: clips, labels: labels), model: model, using: &generator)
        #expect(output.logits == nil)
        let mixup = try #require(objective.mixup)
        let mixed = try mixup(clips, labels: labels, classCount: 4, using: &reference)
        #expect(mixed.draw.method != .none)
        let expected = softTargetCrossEntropy(logits: model.backbone(mixed.clips), targets: mixed.targets)
        #expect(output.terms.values.map(\.name) == ["cls"])
        #expect(abs(output.terms.values[0].value - expected.scalars[0]) < 1e-6)
        #expect(generator == reference)

        // Off by default: no draw, and the logits come back for the training top-1.
        let plain = try SupervisedObjective(.init())
        #expect(plain.mixup == nil)
        var untouched = RandomGenerator(seed: 9)
        let plainOutput = try plain.lossTerms(TrainingBatch(clips: clips, labels: labels), model: model, using: &untouched)
        #expect(plainOutput.logits != nil && untouched == RandomGenerator(seed: 9))
    }

    @Test func recipeKeysAreReadAndChecked() throws {
        let recipe = try TinyRun.recipe(output: "/tmp/x", kind: "supervised", overrides: [
            "objective.mixup=0.8", "objective.cutmix=1.0", "objective.mixup_prob=0.9", "objective.mixup_switch_prob=0.25",
            "objective.label_smoothing=0.1",
        ])
        let settings = try recipe.objective.settings(as: SupervisedObjective.Settings.self)
        #expect(settings.mixupAlpha == 0.8 && settings.cutmixAlpha == 1 && settings.mixupProbability == 0.9
                && settings.mixupSwitchProbability == 0.25)
        #expect(try Recipe(yaml: recipe.yaml) == recipe)
        let mixup = try #require(try settings.mixup())
        #expect(mixup.labelSmoothing == 0.1 && mixup.switchProbability == 0.25)

        for bad in ["objective.mixup=-1", "objective.cutmix=-0.5", "objective.mixup_prob=1.5", "objective.mixup_switch_prob=-0.1"] {
            let key = String(bad.prefix { $0 != "=" })
            do {
                _ = try TinyRun.recipe(output: "/tmp/x", kind: "supervised", overrides: [bad])
                Issue.record("\(bad) was accepted")
            } catch let error as RecipeError {
                guard case .invalidValue(key: key, _, _) = error else {
                    Issue.record("\(error)")
                    continue
                }
            }
        }
    }
}
