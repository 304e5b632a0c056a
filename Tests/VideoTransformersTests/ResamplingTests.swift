import Testing
import TensorCore
import VideoTransformers
import _TestSupport

@Suite("Embedding resampling and frame handling")
struct ResamplingTests {
    static func config(frames: Int) -> TransformerConfig {
        TransformerConfig(embedDim: 8, depth: 2, numHeads: 2, patchSize: 4, numFrames: frames, imgSize: 8,
                          numClasses: 3, dropPathRate: 0)
    }

    @Test func bicubicKeepsTheClassPositionAndConstantGrids() {
        var g = RandomGenerator(seed: 1)
        let cls = Tensor.normal([1, 1, 2], using: &g)
        let constant = Tensor.concat([cls, Tensor(repeating: 0.5, shape: [1, 9, 2])], axis: 1)
        let out = EmbeddingResampling.bicubic(constant, from: (3, 3), to: (5, 4))
        #expect(out.shape == [1, 21, 2])
        #expect(out.slice(axis: 1, range: 0..<1) == cls)
        #expect(out.slice(axis: 1, range: 1..<21).scalars.allSatisfy { Swift.abs($0 - 0.5) < 1e-6 })
        let same = Tensor.normal([1, 10, 2], using: &g)
        #expect(EmbeddingResampling.bicubic(same, from: (3, 3), to: (3, 3)) == same)
    }

    @Test func bicubicMatchesPyTorchOnARamp() {
        // Values of F.interpolate(torch.arange(4.).view(1, 1, 1, 4), size=(1, n), mode="bicubic",
        // align_corners=False) for n = 2 and 7 (rows are constant, so only the column kernel acts).
        let ramp = Tensor(shape: [1, 5, 1], scalars: [9, 0, 1, 2, 3])
        let down = EmbeddingResampling.bicubic(ramp, from: (1, 4), to: (1, 2))
        #expect(isClose(down, Tensor(shape: [1, 3, 1], scalars: [9, 0.40625, 2.59375]), atol: 1e-6))
        let up = EmbeddingResampling.bicubic(ramp, from: (1, 4), to: (1, 7))
        let expected: [Float] = [9, -0.0992165, 0.2792450, 0.8965921, 1.5, 2.1034086, 2.7207539, 3.0992165]
        #expect(isClose(up, Tensor(shape: [1, 8, 1], scalars: expected), atol: 1e-6), "\(up)")
    }

    @Test func nearestTimeIndicesFollowPyTorch() {
        let time = Tensor(shape: [1, 4, 1], scalars: [0, 1, 2, 3])
        #expect(EmbeddingResampling.nearest(time, frames: 8).scalars == [0, 0, 1, 1, 2, 2, 3, 3])
        #expect(EmbeddingResampling.nearest(time, frames: 3).scalars == [0, 1, 2])
        #expect(EmbeddingResampling.nearest(time, frames: 2).scalars == [0, 2])
    }

    @Test func resampledEmbeddingsReceiveGradients() {
        var g = RandomGenerator(seed: 2)
        let model = TimeSformer(Self.config(frames: 4), using: &g)
        let clip = Tensor.normal([1, 2, 3, 12, 16], using: &g)  // 2 frames, 3×4 grid instead of 4 and 2×2
        let (cls, tokens) = model.features(clip)
        #expect(tokens.shape == [1, 2, 12, 8])
        (cls.sum() + tokens.squared().sum()).backward()
        let time = model.timeEmbed.grad!.reshaped([4, 8])
        // Nearest selection of 2 from 4 reads entries 0 and 2 only.
        #expect(time.slice(axis: 0, range: 0..<1).scalars.contains { $0 != 0 })
        #expect(time.slice(axis: 0, range: 1..<2).scalars.allSatisfy { $0 == 0 })
        #expect(model.posEmbed.grad!.scalars.contains { $0 != 0 })
    }

    @Test func freshTimeSformerOnOneFrameEqualsTheImageViT() throws {
        // temporal_fc and time_embed start at zero, so one frame runs exactly the image model.
        var g = RandomGenerator(seed: 3)
        let video = TimeSformer(Self.config(frames: 1), using: &g)
        var imageConfig = Self.config(frames: 1)
        imageConfig.numFrames = 1
        let image = VisionTransformer(imageConfig, using: &g)
        _ = try video.loadStateDict(image.stateDict(), strict: false)
        video.eval()
        image.eval()
        let clip = Tensor.normal([2, 1, 3, 8, 8], using: &g)
        #expect(isClose(video(clip), image(clip), atol: 1e-5), "max diff \(maxAbsDifference(video(clip), image(clip)))")
    }

    @Test func vitTreatsFramesIndependently() {
        var g = RandomGenerator(seed: 4)
        let vit = VisionTransformer(Self.config(frames: 1), using: &g)
        vit.eval()
        let clip = Tensor.normal([1, 2, 3, 8, 8], using: &g)
        let both = vit.features(clip)
        let first = vit.features(clip.slice(axis: 1, range: 0..<1))
        let second = vit.features(clip.slice(axis: 1, range: 1..<2))
        #expect(isClose(both.cls, (first.cls + second.cls) * 0.5, atol: 1e-5))
        #expect(isClose(both.tokens.slice(axis: 1, range: 1..<2), second.tokens, atol: 1e-5))
    }
}
