import Testing
import TensorCore
import VideoIO
import _TestSupport

/// Normalisation and colour jitter, checked against hand-computed torchvision values.
@Suite struct TransformColorTests {
    @Test func normalizeUsesPerChannelMeanAndStd() throws {
        let clip = Tensor(shape: [1, 2, 1, 2], scalars: [0, 1, 0.5, 0.25])
        let out = try ClipTransforms.normalize(clip, mean: [0.5, 0.25], std: [0.5, 0.25])
        #expect(out.scalars == [-1, 1, 1, 0])
        let hwc = try ClipTransforms.normalize(toTHWC(clip), mean: [0.5, 0.25], std: [0.5, 0.25], layout: .thwc)
        #expect(hwc == toTHWC(out))
        #expect(throws: TransformError.self) { try ClipTransforms.normalize(clip, mean: [0.5], std: [0.5]) }
        #expect(throws: TransformError.self) { try ClipTransforms.normalize(clip, mean: [0, 0], std: [1, 0]) }
    }

    @Test func brightnessContrastSaturationMatchTorchvisionFormulas() throws {
        // One frame, two pixels: (0.2, 0.4, 0.6) and (0.8, 0.6, 0.1).
        let clip = Tensor(shape: [1, 3, 1, 2], scalars: [0.2, 0.8, 0.4, 0.6, 0.6, 0.1])
        let bright = try ColorJitter.apply(.init(brightness: 1.5), to: clip)
        #expect(maxAbsDifference(bright, Tensor(shape: [1, 3, 1, 2], scalars: [0.3, 1, 0.6, 0.9, 0.9, 0.15])) < 1e-6)
        let grey: [Float] = [0.2989 * 0.2 + 0.587 * 0.4 + 0.114 * 0.6, 0.2989 * 0.8 + 0.587 * 0.6 + 0.114 * 0.1]
        let mean = (grey[0] + grey[1]) / 2
        let contrast = try ColorJitter.apply(.init(contrast: 0.5), to: clip)
        let expectedContrast = clip.scalars.map { 0.5 * $0 + 0.5 * mean }
        #expect(zip(contrast.scalars, expectedContrast).allSatisfy { abs($0 - $1) < 1e-6 })
        let saturation = try ColorJitter.apply(.init(saturation: 0), to: clip)
        #expect(zip(saturation.scalars, [grey[0], grey[1], grey[0], grey[1], grey[0], grey[1]]).allSatisfy { abs($0 - $1) < 1e-6 })
    }

    @Test func hueShiftRotatesPrimaries() throws {
        // Red, green, grey: a third of a turn maps red to green and green to blue; grey stays.
        let clip = Tensor(shape: [1, 3, 1, 3], scalars: [1, 0, 0.5, 0, 1, 0.5, 0, 0, 0.5])
        let out = try ColorJitter.apply(.init(hue: 1.0 / 3.0), to: clip)
        let expected: [Float] = [0, 0, 0.5, 1, 0, 0.5, 0, 1, 0.5]
        #expect(zip(out.scalars, expected).allSatisfy { abs($0 - $1) < 1e-5 }, "\(out.scalars)")
        let back = try ColorJitter.apply(.init(hue: -1.0 / 3.0), to: out)
        #expect(zip(back.scalars, clip.scalars).allSatisfy { abs($0 - $1) < 1e-5 })
    }

    @Test func jitterDrawsOnceAndAppliesTheSameFactorsToEveryFrame() throws {
        var g = RandomGenerator(seed: 3)
        let frame = Tensor.uniform([1, 3, 4, 5], using: &g)
        let clip = Tensor(shape: [2, 3, 4, 5], scalars: frame.scalars + frame.scalars)
        let jitter = try ColorJitter(brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1)
        var a = RandomGenerator(seed: 8), b = RandomGenerator(seed: 8)
        let x = try jitter(clip, using: &a)
        #expect(x == (try jitter(clip, using: &b)))
        #expect(x != clip)
        #expect(Array(x.scalars[0..<60]) == Array(x.scalars[60..<120]))
        #expect(x.scalars.allSatisfy { $0 >= 0 && $0 <= 1 })
        var c = RandomGenerator(seed: 8)
        let p = jitter.sample(using: &c)
        #expect(p.order.sorted() == [0, 1, 2, 3])
        #expect(p.brightness! >= 0.6 && p.brightness! <= 1.4 && abs(p.hue!) <= 0.1)
        #expect(throws: TransformError.self) { try ColorJitter(hue: 0.6) }
        #expect(throws: TransformError.self) { try ColorJitter.apply(p, to: Tensor(zeros: [1, 1, 2, 2])) }
    }
}
