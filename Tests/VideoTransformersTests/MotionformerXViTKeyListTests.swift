import Foundation
import Testing
import TensorCore
import VideoTransformers
import _TestSupport

@Suite("Motionformer and X-ViT registry variants")
struct MotionformerXViTKeyListTests {
    @Test func baseKeyListsMatchReference() throws {
        // Reference lists at base size from Scripts/reference/make_backbone_golden_mf_xvit.py.
        // As in BackboneGoldenTests, the base variants are built with embed_dim 12 and the
        // reference widths mapped: 768 → 12, 1536 (proj_kv) → 24, 2304 (qkv) → 36, 3072 (MLP) → 48.
        let width = [768: 12, 1536: 24, 2304: 36, 3072: 48]
        var g = RandomGenerator(seed: 0)
        for (variant, file) in [("motionformer_base_8x224", "keys_motionformer_base"),
                                ("xvit_base_8x224", "keys_xvit_base")] {
            let model = try Backbones.create(variant, overrides: ["embed_dim": 12], using: &g)
            let expected = try BackboneGoldenTests.keyList(file).map { line in
                let parts = line.split(separator: " ")
                let shape = parts[1].split(separator: ",").map { width[Int($0)!] ?? Int($0)! }
                return "\(parts[0]) \(shape.map(String.init).joined(separator: ","))"
            }
            let actual = BackboneGoldenTests.keyList(of: model)
            #expect(actual.count == expected.count && expected.count > 100)
            let mismatch = Array(zip(actual, expected)).first { $0 != $1 }
            #expect(actual == expected, "\(variant): first difference \(String(describing: mismatch))")
        }
    }

    @Test func registersTheTIMEConfigurations() throws {
        let tiny = TransformerConfig(embedDim: 192, depth: 12, numHeads: 3, patchSize: 16, numFrames: 8,
                                     imgSize: 112, numClasses: 174, dropPathRate: 0.2)
        #expect(try Backbones.transformerConfig("motionformer_tiny_8x112") == tiny)
        var xvitTiny = tiny
        xvitTiny.dropPathRate = 0
        #expect(try Backbones.transformerConfig("xvit_tiny_8x112") == xvitTiny)
        #expect(try Backbones.transformerConfig("motionformer_base_8x224") == TransformerConfig(dropPathRate: 0.2))
        #expect(try Backbones.transformerConfig("xvit_base_8x224") == TransformerConfig(dropPathRate: 0))
        var g = RandomGenerator(seed: 0)
        #expect(try Backbones.create("motionformer_base_8x224", overrides: ["embed_dim": 12], using: &g) is Motionformer)
        #expect(try Backbones.create("xvit_base_8x224", overrides: ["embed_dim": 12], using: &g) is XViT)
    }
}
