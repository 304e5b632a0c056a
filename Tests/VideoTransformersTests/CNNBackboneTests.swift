import Foundation
import Testing
import TensorCore
import VideoTransformers
import _TestSupport

/// C3D, R3D, R(2+1)D (IIC key names) and torchvision's r3d_18 / r2plus1d_18 against PyTorch
/// (`Scripts/reference/make_conv3d_fixtures.py`: stage widths 2-4-8-16, 5 classes, a
/// [2, 8, 3, 16, 16] clip, random weights and running statistics loaded by name).
@Suite("3D-CNN backbones")
struct CNNBackboneTests {
    static let fixtureModels = ["c3d", "r3d_10", "r21d_10", "r3d_18", "r2plus1d_18"]

    static func fixture() throws -> SafeTensorsFile {
        let url = try #require(Bundle.module.url(forResource: "golden_cnn3d", withExtension: "safetensors",
                                                 subdirectory: "Fixtures"))
        return try SafeTensors.read(contentsOf: url)
    }

    @Test(arguments: fixtureModels)
    func logitsMatchPyTorchInEvalAndTrainMode(_ name: String) throws {
        let file = try Self.fixture()
        var g = RandomGenerator(seed: 0)
        let model = try Backbones.create(name, overrides: ["width": 2, "num_classes": 5], using: &g)
        #expect(!(model is any TokenBackbone), "\(name) must not offer patch tokens")
        let prefix = "\(name).param."
        let state = try file.floatTensors().filter { $0.0.hasPrefix(prefix) }.map { (String($0.0.dropFirst(prefix.count)), $0.1) }
        let report = try model.loadStateDict(state)
        #expect(report.isExact, "\(name): \(report)")
        let clip = try file.tensor(named: "input")
        model.eval()
        let features = model.classEmbedding(clip)
        let logits = model.head(features)
        for (label, value) in [("features", features), ("logits", logits)] {
            let expected = try file.tensor(named: "\(name).\(label)")
            #expect(value.shape == expected.shape && maxAbsDifference(value, expected) <= 1e-4,
                    "\(name) \(label): max diff \(maxAbsDifference(value, expected))")
        }
        model.train()
        let trainLogits = model(clip)
        let expected = try file.tensor(named: "\(name).logits_train")
        #expect(maxAbsDifference(trainLogits, expected) <= 1e-4, "\(name) train: \(maxAbsDifference(trainLogits, expected))")
        let stemKey = name.hasPrefix("r3d_18") || name.hasPrefix("r2plus1d") ? "stem.1.running_mean" : "bn1.running_mean"
        let runningMean = try #require(model.stateDict().first { $0.0 == stemKey }?.1)
        #expect(isClose(runningMean, try file.tensor(named: "\(name).running_mean"), atol: 1e-5),
                "\(name): the train-mode forward must move the running statistics as PyTorch does")
    }

    /// Full-size parameter names and shapes equal the reference's (`keys_<model>.txt`).
    @Test(arguments: ["c3d", "r3d_10", "r21d_10", "r3d_18", "r2plus1d_18"])
    func fullSizeKeysMatchTheReference(_ name: String) throws {
        let url = try #require(Bundle.module.url(forResource: "keys_\(name)", withExtension: "txt", subdirectory: "Fixtures"))
        let expected = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map(String.init)
        var g = RandomGenerator(seed: 0)
        let overrides: [String: ConfigValue] = name.hasSuffix("_18") ? [:] : ["num_classes": 101]
        let model = try Backbones.create(name, overrides: overrides, using: &g)
        let keys = model.namedParameters().map { "\($0.0) \($0.1.shape.map(String.init).joined(separator: ","))" }
        #expect(keys == expected, "\(name): first difference \(zip(keys, expected).first { $0 != $1 }.map { "\($0)" } ?? "count \(keys.count) vs \(expected.count)")")
        #expect(model.embedDim == 512)
    }

    /// `reference/SVT-VideoMS-IIC.md` §3.6: the intermediate widths of IIC's R(2+1)D.
    @Test func factoredMidWidthsFollowTheSpecTable() {
        let cases: [(Int, Int, (Int, Int, Int), Int)] = [
            (3, 64, (3, 7, 7), 83), (64, 64, (3, 3, 3), 144), (64, 128, (3, 3, 3), 230), (128, 128, (3, 3, 3), 288),
            (128, 256, (3, 3, 3), 460), (256, 256, (3, 3, 3), 576), (256, 512, (3, 3, 3), 921),
            (512, 512, (3, 3, 3), 1152), (64, 128, (1, 1, 1), 42), (128, 256, (1, 1, 1), 85), (256, 512, (1, 1, 1), 170),
        ]
        for (cin, cout, kernel, m) in cases {
            #expect(IICFactoredConv.midChannels(cin, cout, kernel: kernel) == m, "\(cin)→\(cout) \(kernel)")
        }
    }

    @Test func everyCNNVariantRunsAndEveryParameterLearns() throws {
        let names = Backbones.names.filter { Backbones.variants[$0]!.config is VideoCNNConfig }
        #expect(Set(names) == ["c3d", "r3d_10", "r21d_10", "r3d_18", "r2plus1d_18",
                               "c3d_tiny", "r3d_tiny", "r21d_tiny", "r3d_18_tiny", "r2plus1d_18_tiny"])
        for name in names {
            var g = RandomGenerator(seed: 7)
            let model = try Backbones.create(name, overrides: ["width": 2, "num_classes": 3], using: &g)
            model.train()
            let clip = Tensor.normal([2, 8, 3, 16, 16], using: &g)
            let cls = model.classEmbedding(clip)
            #expect(cls.shape == [2, 16], "\(name)")
            let logits = model.head(cls)
            #expect(logits.shape == [2, 3], "\(name)")
            logits.squared().sum().backward()
            for (key, p) in model.namedParameters() {
                let grad = p.grad?.scalars ?? []
                #expect(grad.allSatisfy { $0.isFinite } && grad.contains { $0 != 0 }, "\(name): no gradient for \(key)")
            }
        }
    }

    /// IIC's retrieval feature: the last conv map max-pooled by (1, 2, 2) and flattened channel,
    /// time, row, column; 512 × 2 × 3 × 3 = 9216 values at full width on 16 × 112².
    @Test func retrievalFeaturesPoolTheLastConvMap() throws {
        for name in ["c3d_tiny", "r3d_tiny", "r21d_tiny", "r3d_18_tiny", "r2plus1d_18_tiny"] {
            var g = RandomGenerator(seed: 4)
            let model = try Backbones.create(name, overrides: ["width": 2], using: &g)
            model.eval()
            #expect(model.hasRetrievalFeatures, "\(name)")
            let clip = Tensor.normal([2, 16, 3, 48, 48], using: &g)
            let features = noGrad { model.retrievalEmbedding(clip) }
            // The conv map by name, pooled by hand.
            let conv: Tensor
            switch model {
            case let m as C3D: conv = noGrad { m.convFeatures(clip) }
            case let m as IICResNet: conv = noGrad { m.convFeatures(clip) }
            case let m as TorchvisionVideoResNet: conv = noGrad { m.convFeatures(clip) }
            default: Issue.record("\(name) is not a 3D CNN"); continue
            }
            let (b, c, t, h, w) = (conv.shape[0], conv.shape[1], conv.shape[2], conv.shape[3], conv.shape[4])
            let (ph, pw) = (h / 2, w / 2)
            #expect(features.shape == [b, c * t * ph * pw], "\(name) \(conv.shape)")
            let x = conv.scalars, f = features.scalars
            var worst: Float = 0
            for n in 0..<b { for ch in 0..<c { for z in 0..<t { for i in 0..<ph { for j in 0..<pw {
                let base = (((n * c + ch) * t + z) * h) * w
                let m = [x[base + 2 * i * w + 2 * j], x[base + 2 * i * w + 2 * j + 1],
                         x[base + (2 * i + 1) * w + 2 * j], x[base + (2 * i + 1) * w + 2 * j + 1]].max()!
                worst = max(worst, abs(m - f[n * c * t * ph * pw + ((ch * t + z) * ph + i) * pw + j]))
            } } } } }
            #expect(worst == 0, "\(name)")
        }
        var g = RandomGenerator(seed: 0)
        let full = try Backbones.create("r3d_10", using: &g)
        full.eval()
        #expect(noGrad { full.retrievalEmbedding(Tensor(zeros: [1, 16, 3, 112, 112])) }.shape == [1, 9216])
    }

    /// BatchNorm follows the model's mode: evaluation is deterministic and leaves the running
    /// statistics alone; every training forward moves them.
    @Test func batchNormFollowsTheTrainingFlag() throws {
        var g = RandomGenerator(seed: 3)
        let model = try Backbones.create("r3d_tiny", overrides: ["width": 2], using: &g)
        let clip = Tensor.uniform([2, 8, 3, 16, 16], low: 0, high: 1, using: &g)
        func stats() -> [Float] { model.stateDict().filter { $0.0.hasSuffix("running_mean") }.flatMap { $0.1.scalars } }
        model.eval()
        let before = stats()
        let a = model(clip), b = model(clip)
        #expect(a.scalars == b.scalars && stats() == before)
        model.train()
        _ = model(clip)
        let once = stats()
        #expect(once != before)
        _ = model(clip)
        #expect(stats() != once, "each training forward updates the statistics")
        #expect(model.stateDict().contains { $0.0 == "conv3.block1.downsamplebn.running_var" })
    }

    @Test func configurationsAndOverrides() throws {
        let config = try #require(try Backbones.config("r21d_10", overrides: ["width": "16", "num_classes": 101]) as? VideoCNNConfig)
        #expect(config.architecture == .r21d && config.width == 16 && config.numClasses == 101 && config.layers == [1, 1, 1, 1])
        #expect(throws: BackboneConfigError.unknownKey("depth", validKeys: VideoCNNConfig.overrideKeys)) {
            try Backbones.config("c3d", overrides: ["depth": 3])
        }
        #expect(throws: BackboneConfigError.self) { try Backbones.transformerConfig("r3d_18") }
        let r18 = try #require(try Backbones.config("r2plus1d_18") as? VideoCNNConfig)
        #expect(r18.stemMidWidth == 45 && r18.numClasses == 400 && r18.numFrames == 16 && r18.imgSize == 112)
    }
}
