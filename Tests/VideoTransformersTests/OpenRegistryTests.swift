import Testing
import TensorCore
import VideoTransformers
import _TestSupport

/// The registry is open: a variant registered at run time is built by name, listed among the valid
/// names, and a second registration under the same name is a typed error.
@Suite("Open backbone registry")
struct OpenRegistryTests {
    static let name = "registered_timesformer_test"

    static let registered: Void = {
        try! Backbones.register(name, .init(
            family: "timesformer",
            config: TransformerConfig(embedDim: 16, depth: 1, numHeads: 2, patchSize: 8, numFrames: 2, imgSize: 16,
                                      numClasses: 3)) { config, generator in TimeSformer(config, using: &generator) })
    }()

    @Test func aRegisteredVariantWorksByNameAndIsListed() throws {
        Self.registered
        #expect(Backbones.names.contains(Self.name))
        var g = RandomGenerator(seed: 0)
        let model = try Backbones.create(Self.name, overrides: ["num_classes": 5], using: &g)
        #expect(model.parameterCount > 0 && model.head(Tensor(zeros: [1, 16])).shape == [1, 5])
        #expect(try Backbones.overrideKeys(of: Self.name) == TransformerConfig.overrideKeys)
        // Unknown names list the registered one among the valid choices.
        let error = #expect(throws: BackboneConfigError.self) { _ = try Backbones.config("no_such_net") }
        #expect(error?.description.contains(Self.name) == true)
        // Bad overrides of the registered variant name the valid keys.
        #expect(throws: BackboneConfigError.unknownKey("width", validKeys: TransformerConfig.overrideKeys)) {
            _ = try Backbones.config(Self.name, overrides: ["width": 3])
        }
    }

    @Test func duplicatesAndInvalidDefaultsAreTypedErrors() throws {
        Self.registered
        let variant = Backbones.Variant(family: "other", config: TransformerConfig(depth: 1)) { c, g in
            VisionTransformer(c, using: &g)
        }
        #expect(throws: BackboneConfigError.duplicateModel(Self.name, family: "timesformer")) {
            try Backbones.register(Self.name, variant)
        }
        #expect(throws: BackboneConfigError.duplicateModel("timesformer_base_8x224", family: "timesformer")) {
            try Backbones.register("timesformer_base_8x224", variant)
        }
        let broken = Backbones.Variant(family: "other", config: TransformerConfig(embedDim: 10, numHeads: 3)) { c, g in
            VisionTransformer(c, using: &g)
        }
        #expect(throws: BackboneConfigError.self) { try Backbones.register("broken_net", broken) }
        #expect(!Backbones.names.contains("broken_net"))
    }
}
