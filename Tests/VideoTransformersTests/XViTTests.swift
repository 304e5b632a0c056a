import Foundation
import Testing
import TensorCore
import VideoTransformers
import _TestSupport

/// X-ViT against PyTorch modules written from the spec
/// (`Scripts/reference/make_backbone_golden_mf_xvit.py`: embed 24, depth 2, heads 3 of width 8 so
/// that the 6-channel shift folds straddle heads, patch 8, 32×32 crops, 3 frames, 5 classes, B 2,
/// eval mode), plus the channel shift checked by hand.
@Suite("X-ViT")
struct XViTTests {
    static let tiny = TransformerConfig(embedDim: 24, depth: 2, numHeads: 3, patchSize: 8, numFrames: 3,
                                        imgSize: 32, numClasses: 5, dropPathRate: 0)

    @Test func matchesPyTorch() throws {
        var g = RandomGenerator(seed: 0)
        try BackboneGoldenTests.checkParity(XViT(Self.tiny, using: &g),
                                            file: try BackboneGoldenTests.fixture("golden_xvit"))
    }

    @Test func resamplesEmbeddingsLikePyTorch() throws {
        let file = try BackboneGoldenTests.fixture("golden_xvit")
        var g = RandomGenerator(seed: 0)
        let model = XViT(Self.tiny, using: &g)
        _ = try model.loadStateDict(try file.floatTensors().filter { $0.0.hasPrefix("param.") }
            .map { (String($0.0.dropFirst("param.".count)), $0.1) })
        model.eval()
        let (cls, tokens) = model.features(try file.tensor(named: "resampled_input"))
        #expect(tokens.shape == [2, 2, 25, 24])
        let expected = try file.tensor(named: "resampled_logits")
        let logits = model.head(cls)
        #expect(maxAbsDifference(logits, expected) <= 1e-4, "max diff \(maxAbsDifference(logits, expected))")
    }

    /// A mixer of 3 heads of width 4 with shift divisor 3, so the folds are whole heads: head 0
    /// reads frame t + 1, head 1 frame t − 1, head 2 its own frame. The output projection is the
    /// identity, so output channels 4h..<4h+4 are head h.
    static func headPerFoldMixer(using g: inout RandomGenerator) -> SpaceTimeMixingAttention {
        let mixer = SpaceTimeMixingAttention(dim: 12, heads: 3, shiftDivisor: 3, using: &g)
        mixer.proj.weight.value = Tensor(shape: [12, 12], scalars: (0..<144).map { $0 % 13 == 0 ? 1 : 0 })
        mixer.proj.bias!.value = Tensor(zeros: [12])
        return mixer
    }

    @Test func shiftedHeadsAttendToTheNeighbouringFrames() {
        var g = RandomGenerator(seed: 21)
        let mixer = Self.headPerFoldMixer(using: &g)
        let (t, l) = (3, 1 + 2)
        let x = Tensor.normal([t, l, 12], using: &g)  // one clip of 3 frames, 1 class token + 2 patches
        let y = mixer(x, layout: TokenLayout(frames: t, gridHeight: 1, gridWidth: 2, classTokens: 1))
        let qkv = mixer.qkv(x)
        func part(_ s: Int, head: Int, frame: Int) -> Tensor {
            qkv.slice(axis: 0, range: frame..<(frame + 1)).slice(axis: 2, range: (s * 12 + head * 4)..<(s * 12 + head * 4 + 4))
        }
        func attend(head: Int, queries: Int, keys: Int?) -> Tensor {
            guard let keys else { return Tensor(zeros: [1, l, 4]) }  // zero K and V: zero output
            return Tensor.scaledDotProductAttention(query: part(0, head: head, frame: queries),
                                                    key: part(1, head: head, frame: keys),
                                                    value: part(2, head: head, frame: keys), scale: 0.5)
        }
        for frame in 0..<t {
            let expected = Tensor.concat([
                attend(head: 0, queries: frame, keys: frame + 1 < t ? frame + 1 : nil),
                attend(head: 1, queries: frame, keys: frame > 0 ? frame - 1 : nil),
                attend(head: 2, queries: frame, keys: frame),
            ], axis: 2)
            let actual = y.slice(axis: 0, range: frame..<(frame + 1))
            #expect(isClose(actual, expected, atol: 1e-5), "frame \(frame): max diff \(maxAbsDifference(actual, expected))")
        }
    }

    @Test func shiftFoldsFollowChannelsNotHeads() {
        // Divisor 4 on 12 channels and 2 heads of 6: fold 3, so head 0 has channels 0–2 from t + 1
        // and 3–5 from t − 1 while head 1 is unshifted. Changing frame 1 must then leave frame 0's
        // head 1 untouched and change its head 0; frame 2's head 0 reads nothing (zeros) from t + 1
        // but still reads frame 1 through channels 3–5.
        var g = RandomGenerator(seed: 22)
        let mixer = SpaceTimeMixingAttention(dim: 12, heads: 2, using: &g)
        mixer.proj.weight.value = Tensor(shape: [12, 12], scalars: (0..<144).map { $0 % 13 == 0 ? 1 : 0 })
        let layout = TokenLayout(frames: 3, gridHeight: 1, gridWidth: 2, classTokens: 1)
        let x = Tensor.normal([3, 3, 12], using: &g)
        let changed = Tensor.concat([x.slice(axis: 0, range: 0..<1), Tensor.normal([1, 3, 12], using: &g),
                                     x.slice(axis: 0, range: 2..<3)], axis: 0)
        let (a, b) = (mixer(x, layout: layout), mixer(changed, layout: layout))
        func diff(frame: Int, head: Int) -> Float {
            func pick(_ z: Tensor) -> Tensor {
                z.slice(axis: 0, range: frame..<(frame + 1)).slice(axis: 2, range: (head * 6)..<(head * 6 + 6))
            }
            return maxAbsDifference(pick(a), pick(b))
        }
        #expect(diff(frame: 0, head: 0) > 1e-3)
        #expect(diff(frame: 0, head: 1) == 0)
        #expect(diff(frame: 2, head: 0) > 1e-3)
        #expect(diff(frame: 2, head: 1) == 0)
    }

    @Test func mixerGradientsMatchFiniteDifferences() {
        var g = RandomGenerator(seed: 23)
        let mixer = SpaceTimeMixingAttention(dim: 8, heads: 2, using: &g)
        let layout = TokenLayout(frames: 2, gridHeight: 1, gridWidth: 2, classTokens: 1)
        let r = checkGradients([Tensor.normal([4, 3, 8], using: &g)]) { xs in
            mixer(xs[0], layout: layout).squared().sum()
        }
        #expect(r.passed, "\(r)")
    }

    @Test func consensusHeadStartsFromAZeroClassTokenWithoutBiasInQKV() throws {
        var g = RandomGenerator(seed: 24)
        let model = XViT(TransformerConfig(embedDim: 12, depth: 1, numHeads: 3, patchSize: 8, numFrames: 2,
                                           imgSize: 16, numClasses: 4), using: &g)
        let keys = Dictionary(uniqueKeysWithValues: model.namedParameters().map { ($0.0, $0.1) })
        #expect(keys["consensus.cls_token"]?.value.scalars.allSatisfy { $0 == 0 } == true)
        #expect(keys["base_model.temp_embed"]?.shape == [1, 2, 1, 12])
        #expect(keys["base_model.temp_embed"]?.value.scalars.allSatisfy { $0 == 0 } == true)
        #expect(keys["consensus.temporal_encoder.0.attn.qkv.weight"]?.shape == [36, 12])
        #expect(keys["consensus.temporal_encoder.0.attn.qkv.bias"] == nil)
        let norm = try #require(model.consensus.temporalEncoder[0].norm1 as? LayerNorm)
        #expect(norm.epsilon == 1e-5)
        // PyTorch default init for the consensus Linear layers: U(-1/sqrt(in), 1/sqrt(in)).
        let head = try #require(keys["consensus.head.weight"]).value.scalars
        #expect(head.allSatisfy { Swift.abs($0) <= 1 / Float(12).squareRoot() } && head.contains { $0 != 0 })
    }
}
