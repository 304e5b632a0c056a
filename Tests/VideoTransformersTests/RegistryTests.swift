import Testing
import TensorCore
import VideoTransformers
import _TestSupport

@Suite("Backbone registry")
struct RegistryTests {
    static let tiny: [String: ConfigValue] = [
        "embed_dim": 16, "depth": 2, "num_heads": 2, "patch_size": 8, "img_size": 16, "num_frames": 2,
        "num_classes": 3, "drop_path_rate": 0.1, "mlp_ratio": 2,
    ]

    @Test func registersTheTIMEVariants() throws {
        #expect(Set(Backbones.names).isSuperset(of: ["timesformer_base_8x224", "timesformer_tiny_8x112",
                                                     "vit_base_patch16_224"]))
        let tiny = try Backbones.transformerConfig("timesformer_tiny_8x112")
        #expect(tiny == TransformerConfig(embedDim: 192, depth: 12, numHeads: 3, patchSize: 16, numFrames: 8,
                                          imgSize: 112, numClasses: 174))
        let base = try Backbones.transformerConfig("timesformer_base_8x224")
        #expect(base.embedDim == 768 && base.numClasses == 174 && base.dropPathRate == 0.1 && base.numFrames == 8)
        let vit = try Backbones.transformerConfig("vit_base_patch16_224")
        #expect(vit.numClasses == 1000 && vit.numFrames == 1)
    }

    @Test func everyVariantRunsAndEveryParameterLearns() throws {
        // Token backbones take any frame count and crop; VideoMAE's fixed positions are checked below.
        // 3D CNNs (no patch tokens) are covered by CNNBackboneTests.
        for name in Backbones.names where Backbones.variants[name]!.config is TransformerConfig {
            var g = RandomGenerator(seed: 7)
            let model = try #require(try Backbones.create(name, overrides: Self.tiny, using: &g) as? any TokenBackbone)
            // Zero-initialised gates (TimeSformer's temporal_fc) block the gradient of the layers
            // behind them at step 0, so all-zero parameters get small values first.
            for (_, p) in model.namedParameters() where p.value.scalars.allSatisfy({ $0 == 0 }) {
                p.value = Tensor.normal(p.shape, std: 0.02, using: &g)
            }
            model.train()
            let frames = 3  // differs from the configured 2: exercises time-embedding resampling
            let clip = Tensor.normal([2, frames, 3, 24, 16], using: &g)
            let (cls, tokens) = model.features(clip)
            let logits = model.head(cls)
            #expect(cls.shape == [2, 16], "\(name)")
            #expect(tokens.shape == [2, frames, 6, 16], "\(name)")
            #expect(logits.shape == [2, 3], "\(name)")
            #expect(model(clip).shape == [2, 3], "\(name)")
            #expect((cls.scalars + tokens.scalars + logits.scalars).allSatisfy { $0.isFinite }, "\(name)")
            (logits.squared().sum() + tokens.squared().mean()).backward()
            for (key, p) in model.namedParameters() {
                let grad = p.grad?.scalars ?? []
                #expect(grad.allSatisfy { $0.isFinite } && grad.contains { $0 != 0 }, "\(name): no gradient for \(key)")
            }
        }
    }

    @Test func everyVideoMAEVariantRunsAndEveryParameterLearns() throws {
        let names = Backbones.names.filter { Backbones.variants[$0]!.family == "videomae" }
        #expect(Set(names) == ["videomae_vitb_16x224", "videomae_vits_16x224", "videomae_tiny_16x112"])
        for name in names {
            var g = RandomGenerator(seed: 7)
            let model = try Backbones.create(name, overrides: [
                "embed_dim": 16, "depth": 2, "num_heads": 2, "img_size": 32, "num_frames": 4, "num_classes": 3,
                "decoder_embed_dim": 8, "decoder_depth": 1, "decoder_num_heads": 2, "init_scale": 0.5], using: &g)
            model.train()
            let logits = model(Tensor.normal([2, 4, 3, 32, 32], using: &g))
            #expect(logits.shape == [2, 3], "\(name)")
            logits.squared().sum().backward()
            for (key, p) in model.namedParameters() {
                let grad = p.grad?.scalars ?? []
                #expect(grad.allSatisfy { $0.isFinite } && grad.contains { $0 != 0 }, "\(name): no gradient for \(key)")
            }
        }
    }

    @Test func overridesAcceptTypedAndTextValues() throws {
        let config = try Backbones.transformerConfig("timesformer_tiny_8x112",
                                          overrides: ["embed_dim": "96", "drop_path_rate": "0.25", "depth": 3.0])
        #expect(config.embedDim == 96 && config.dropPathRate == 0.25 && config.depth == 3 && config.numHeads == 3)
    }

    @Test func badNamesKeysAndValuesThrowWithTheValidChoices() {
        #expect(throws: BackboneConfigError.unknownModel("timesformer_huge", available: Backbones.names)) {
            try Backbones.transformerConfig("timesformer_huge")
        }
        #expect(throws: BackboneConfigError.unknownKey("heads", validKeys: Backbones.overrideKeys)) {
            try Backbones.transformerConfig("timesformer_tiny_8x112", overrides: ["heads": 4])
        }
        let unknown = BackboneConfigError.unknownKey("heads", validKeys: Backbones.overrideKeys).description
        #expect(unknown.contains("num_heads") && unknown.contains("drop_path_rate"))
        #expect(throws: BackboneConfigError.invalidValue(key: "depth", value: "two", reason: "expected an integer")) {
            try Backbones.transformerConfig("timesformer_tiny_8x112", overrides: ["depth": "two"])
        }
        #expect(throws: BackboneConfigError.invalidValue(key: "drop_path_rate", value: "1.5", reason: "must lie in [0, 1)")) {
            try Backbones.transformerConfig("timesformer_tiny_8x112", overrides: ["drop_path_rate": 1.5])
        }
        #expect(throws: BackboneConfigError.inconsistent(model: "timesformer_tiny_8x112",
                                                         reason: "embed_dim 100 is not divisible by num_heads 3")) {
            try Backbones.transformerConfig("timesformer_tiny_8x112", overrides: ["embed_dim": 100])
        }
    }
}
