import Foundation
import Testing
import _TestSupport
import TemporalSSL
import TensorCore
import Training
import VideoTransformers

/// VideoMAE's encoder, decoder, masking, motion-centric selection, targets, loss and gradients
/// against a PyTorch re-implementation of the reference modules
/// (`Scripts/reference/make_videomae_fixtures.py`).
@Suite struct VideoMAEGoldenTests {
    static let file: SafeTensorsFile = {
        let url = Bundle.module.url(forResource: "videomae_golden", withExtension: "safetensors", subdirectory: "Fixtures")!
        return try! SafeTensors.read(contentsOf: url)
    }()

    static func tensor(_ name: String) -> Tensor { try! file.tensor(named: name) }
    static func mask(_ name: String) -> [[Int]] {
        let (shape, values) = try! file.integers(named: name)
        return (0..<shape[0]).map { Array(values[($0 * shape[1])..<(($0 + 1) * shape[1])]) }
    }

    static var config: VideoMAEConfig {
        var c = VideoMAEConfig(embedDim: 24, depth: 2, numHeads: 2, imgSize: 32, numFrames: 8, decoderEmbedDim: 16,
                               decoderDepth: 1, decoderNumHeads: 2)
        c.patchSize = 8
        c.useMeanPooling = false
        return c
    }

    /// The fixture's model: the encoder as our backbone (keys without `encoder.`), the rest as the decoder side.
    static func model() throws -> (VideoMAEViT, VideoMAEDecoder) {
        var generator = RandomGenerator(seed: 0)
        let encoder = VideoMAEViT(config, using: &generator)
        let decoder = VideoMAEDecoder(config, using: &generator)
        let weights = file.names.filter { !$0.contains(".") || $0.hasPrefix("encoder") || $0.hasPrefix("decoder") }
        var encoderState: [(String, Tensor)] = [], decoderState: [(String, Tensor)] = []
        for name in weights where !name.hasPrefix("table") {
            if name.hasPrefix("encoder.") { encoderState.append((String(name.dropFirst(8)), tensor(name))) }
            else if name == "mask_token" || name.hasPrefix("decoder.") || name.hasPrefix("encoder_to_decoder") {
                decoderState.append((name, tensor(name)))
            }
        }
        try encoder.loadStateDict(encoderState, strict: true)
        try decoder.loadStateDict(decoderState, strict: true)
        return (encoder, decoder)
    }

    static func ourLayout(_ clip: Tensor) -> Tensor { clip.permuted([0, 2, 1, 3, 4]) }

    static func selection(_ masked: [[Int]]) -> (visible: [[Int]], targets: [[Int]]) {
        (masked.map { row in row.indices.filter { row[$0] == 0 } }, masked.map { row in row.indices.filter { row[$0] == 1 } })
    }

    static func close(_ a: Tensor, _ b: Tensor, _ tolerance: Float, _ what: String) {
        #expect(a.shape == b.shape, "\(what): \(a.shape) vs \(b.shape)")
        let worst = zip(a.scalars, b.scalars).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
        #expect(worst <= tolerance, "\(what): worst error \(worst)")
    }

    @Test func positionTablesEqualTheReference() {
        Self.close(sinusoidPositionTable(positions: 64, width: 24), Self.tensor("table.encoder"), 1e-6, "encoder table")
        Self.close(sinusoidPositionTable(positions: 64, width: 16), Self.tensor("table.decoder"), 1e-6, "decoder table")
    }

    @Test func encoderDecoderTargetsLossAndGradientsEqualTheReference() throws {
        let (encoder, decoder) = try Self.model()
        let clip = Self.ourLayout(Self.tensor("input.clip"))
        let (visible, targets) = Self.selection(Self.mask("input.mask"))
        let encoded = encoder.encode(clip, visible: visible)
        Self.close(encoded, Self.tensor("output.encoder"), 1e-4, "encoder")
        let prediction = decoder(encoded, visible: visible, targets: targets)
        Self.close(prediction, Self.tensor("output.decoder"), 1e-4, "decoder")
        let mean: [Float] = [0.485, 0.456, 0.406], std: [Float] = [0.229, 0.224, 0.225]
        let target = gatherTokens(PixelTargets.targets(clip, mean: mean, std: std, tubelet: 2, patch: 8), targets)
        Self.close(target, Self.tensor("output.target"), 1e-4, "normalised targets")
        let loss = (prediction - target).squared().mean()
        Self.close(loss.reshaped([1]), Self.tensor("loss"), 1e-5, "loss")
        loss.backward()
        let parameters = Dictionary(uniqueKeysWithValues: encoder.namedParameters().map { ("encoder." + $0.0, $0.1) }
                                    + decoder.namedParameters())
        var checked = 0
        for name in Self.file.names where name.hasPrefix("grad.") {
            let key = String(name.dropFirst(5))
            let parameter = try #require(parameters[key], "no parameter \(key)")
            Self.close(try #require(parameter.grad, "\(key) has no gradient"), Self.tensor(name), 1e-4, "d loss / d \(key)")
            checked += 1
        }
        #expect(checked >= 8)
    }

    @Test func tubeAndRandomMasksEqualTheReferenceDrawsFromOurGenerator() {
        for (ratio, name) in [(0.75, "75"), (0.9, "90"), (0.5, "50")] {
            var generator = RandomGenerator(seed: 3)
            let masks = TokenMasking.tube(batch: 2, slots: 4, cells: 16, ratio: ratio, using: &generator)
            #expect(masks.map(\.targets) == Self.selection(Self.mask("mask.tube.\(name)")).targets, "tube \(ratio)")
        }
        for (ratio, name) in [(0.75, "75"), (0.9, "90")] {
            var generator = RandomGenerator(seed: 3)
            let masks = TokenMasking.random(batch: 2, tokens: 64, ratio: ratio, using: &generator)
            #expect(masks.map(\.targets) == Self.selection(Self.mask("mask.random.\(name)")).targets, "random \(ratio)")
        }
    }

    @Test func motionCentricSelectionAndItsLossEqualTheReference() throws {
        let (encoder, decoder) = try Self.model()
        let clip = Self.ourLayout(Self.tensor("input.clip"))
        let embeddings = noGrad { encoder.patchEmbeddings(clip) }.reshaped([2, 4, 16, 24])
        let importance = VideoMAEViT.motionImportance(embeddings)
        Self.close(Tensor(shape: [2, 64], scalars: importance.flatMap { $0 }), Self.tensor("mcm.importance"), 1e-5, "importance")
        var generator = RandomGenerator(seed: 3)
        let chosen = TokenMasking.motionCentric(importance: importance, maskRatio: 0.9, motionRatio: 0.7, using: &generator)
        let visible = Self.mask("mcm.visible"), target = Self.mask("mcm.target")
        #expect(chosen.map(\.visible) == visible.map { row in row.indices.filter { row[$0] == 1 } })
        #expect(chosen.map(\.targets) == target.map { row in row.indices.filter { row[$0] == 1 } })
        #expect(chosen.allSatisfy { $0.visible.count == 6 && $0.targets.count == 13 })
        let prediction = decoder(encoder.encode(clip, visible: chosen.map(\.visible)), visible: chosen.map(\.visible),
                                 targets: chosen.map(\.targets))
        Self.close(prediction, Self.tensor("mcm.decoder"), 1e-4, "decoder on motion-centric tokens")
        let pixels = gatherTokens(PixelTargets.targets(clip, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225],
                                                       tubelet: 2, patch: 8), chosen.map(\.targets))
        Self.close(pixels, Self.tensor("mcm.target_pixels"), 1e-4, "targets")
        Self.close((prediction - pixels).squared().mean().reshaped([1]), Self.tensor("mcm.loss"), 1e-5, "loss")
    }
}
