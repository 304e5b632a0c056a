import Foundation
import Testing
import TensorCore
import VideoTransformers
import _TestSupport

/// Compares ViT and TimeSformer with PyTorch modules written from the spec
/// (`Scripts/reference/make_backbone_golden.py`: embed 24, depth 2, heads 2, patch 8, 32×32 crops,
/// TimeSformer 3 frames, 5 classes, B 2, random weights with non-zero temporal_fc, eval mode).
@Suite("Backbones vs PyTorch golden values")
struct BackboneGoldenTests {
    static let tiny = TransformerConfig(embedDim: 24, depth: 2, numHeads: 2, patchSize: 8, numFrames: 3,
                                        imgSize: 32, numClasses: 5, dropPathRate: 0.1)

    static func fixture(_ name: String) throws -> SafeTensorsFile {
        let url = try #require(Bundle.module.url(forResource: name, withExtension: "safetensors",
                                                 subdirectory: "Fixtures"))
        return try SafeTensors.read(contentsOf: url)
    }

    static func keyList(_ name: String) throws -> [String] {
        let url = try #require(Bundle.module.url(forResource: name, withExtension: "txt", subdirectory: "Fixtures"))
        return try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    static func keyList(of model: Module) -> [String] {
        model.namedParameters().map { "\($0.0) \($0.1.shape.map(String.init).joined(separator: ","))" }
    }

    /// Loads `param.*`, runs the golden clip in eval mode and checks outputs and every gradient of
    /// `sum(logits · wl) + sum(tokens · wt)` to 1e-4 (gradients relative to their scale).
    static func checkParity(_ model: any TokenBackbone, file: SafeTensorsFile) throws {
        let params = try file.floatTensors().filter { $0.0.hasPrefix("param.") }
            .map { (String($0.0.dropFirst("param.".count)), $0.1) }
        let report = try model.loadStateDict(params)
        #expect(report.isExact, "\(report)")
        model.eval()
        let (cls, tokens) = model.features(try file.tensor(named: "input"))
        let logits = model.head(cls)
        for (name, value) in [("cls", cls), ("tokens", tokens), ("logits", logits)] {
            let expected = try file.tensor(named: name)
            #expect(value.shape == expected.shape && maxAbsDifference(value, expected) <= 1e-4,
                    "\(name): \(value.shape) vs \(expected.shape), max diff \(maxAbsDifference(value, expected))")
        }
        let (wl, wt) = (try file.tensor(named: "loss_logits_weight"), try file.tensor(named: "loss_tokens_weight"))
        let loss = (logits * wl).sum() + (tokens * wt).sum()
        loss.backward()
        for (key, p) in model.namedParameters() {
            let expected = try file.tensor(named: "grad.\(key)")
            let scale = Swift.max(1, expected.scalars.map(Swift.abs).max() ?? 0)
            let diff = p.grad.map { maxAbsDifference($0, expected) } ?? .infinity
            #expect(diff <= 1e-4 * scale, "gradient of \(key): max diff \(diff) (scale \(scale))")
        }
    }

    @Test func timesformerMatchesPyTorch() throws {
        var g = RandomGenerator(seed: 0)
        try Self.checkParity(TimeSformer(Self.tiny, using: &g), file: try Self.fixture("golden_timesformer"))
    }

    @Test func timesformerResamplesEmbeddingsLikePyTorch() throws {
        // 2 frames instead of 3 (nearest time_embed) and 40×40 crops instead of 32 (bicubic 4×4 → 5×5).
        let file = try Self.fixture("golden_timesformer")
        var g = RandomGenerator(seed: 0)
        let model = TimeSformer(Self.tiny, using: &g)
        _ = try model.loadStateDict(try file.floatTensors().filter { $0.0.hasPrefix("param.") }
            .map { (String($0.0.dropFirst("param.".count)), $0.1) })
        model.eval()
        let clip = try file.tensor(named: "resampled_input")
        let (cls, tokens) = model.features(clip)
        #expect(tokens.shape == [2, 2, 25, 24])
        let expected = try file.tensor(named: "resampled_logits")
        let logits = model.head(cls)
        #expect(maxAbsDifference(logits, expected) <= 1e-4, "max diff \(maxAbsDifference(logits, expected))")
    }

    @Test func vitMatchesPyTorch() throws {
        var config = Self.tiny
        config.numFrames = 1
        var g = RandomGenerator(seed: 0)
        try Self.checkParity(VisionTransformer(config, using: &g), file: try Self.fixture("golden_vit"))
    }

    @Test func baseKeyListsMatchReference() throws {
        // The reference lists are at base size. Building a 121 M-parameter model would take over a
        // minute in debug, so the registry's base variants are built with embed_dim 12 (still
        // 12 heads, depth 12, 224 crops, 8 frames, base class counts) and the reference shapes
        // are mapped through the width: 768 → 12, 2304 (qkv) → 36, 3072 (MLP) → 48. No other
        // extent in the lists is a multiple of 768, so the mapping is unambiguous.
        let width = [768: 12, 2304: 36, 3072: 48]
        var g = RandomGenerator(seed: 0)
        for (variant, file) in [("timesformer_base_8x224", "keys_timesformer_base"),
                                ("vit_base_patch16_224", "keys_vit_base")] {
            let model = try Backbones.create(variant, overrides: ["embed_dim": 12], using: &g)
            let expected = try Self.keyList(file).map { line in
                let parts = line.split(separator: " ")
                let shape = parts[1].split(separator: ",").map { width[Int($0)!] ?? Int($0)! }
                return "\(parts[0]) \(shape.map(String.init).joined(separator: ","))"
            }
            let actual = Self.keyList(of: model)
            #expect(actual.count == expected.count && expected.count > 100)
            let mismatch = Array(zip(actual, expected)).first { $0 != $1 }
            #expect(actual == expected, "\(variant): first difference \(String(describing: mismatch))")
        }
    }
}
