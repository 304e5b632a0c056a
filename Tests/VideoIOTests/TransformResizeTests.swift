import Testing
import TensorCore
import VideoIO
import _TestSupport

/// Resizes against `F.interpolate(align_corners=False, antialias=False)` from
/// `Scripts/reference/make_transform_fixtures.py`; tolerance 1e-4 absolute on N(0, 1) inputs
/// (Float32 accumulation order differs from PyTorch's).
@Suite struct TransformResizeTests {
    @Test(arguments: ["bilinear_down", "bilinear_up", "bilinear_short_side", "bicubic_down", "bicubic_up"])
    func resizeMatchesPyTorch(_ name: String) throws {
        let input = TransformFixtures.tensor("resize/\(name)/input")
        let expected = TransformFixtures.tensor("resize/\(name)/output")
        let filter: ClipInterpolation = name.hasPrefix("bicubic") ? .bicubic : .bilinear
        let out = try ClipTransforms.resize(input, height: expected.shape[2], width: expected.shape[3], filter: filter)
        #expect(out.shape == expected.shape)
        #expect(maxAbsDifference(out, expected) <= 1e-4, "\(name): \(maxAbsDifference(out, expected))")
    }

    @Test func shortSideResizeMatchesPyTorchAndKeepsLayouts() throws {
        let input = TransformFixtures.tensor("resize/bilinear_short_side/input")
        let expected = TransformFixtures.tensor("resize/bilinear_short_side/output")
        let out = try ClipTransforms.shortSideResize(input, to: 7)
        #expect(out.shape == [2, 3, 7, 9])
        #expect(maxAbsDifference(out, expected) <= 1e-4)
        let hwc = try ClipTransforms.shortSideResize(toTHWC(input), to: 7, layout: .thwc)
        #expect(maxAbsDifference(hwc, toTHWC(expected)) <= 1e-4)
        let cthw = try ClipTransforms.shortSideResize(toCTHW(input), to: 7, layout: .cthw)
        #expect(maxAbsDifference(cthw, toCTHW(expected)) <= 1e-4)
    }

    @Test func shortSideSizeFloorsTheLongSide() throws {
        // 240 x 427 to 256: 427 / 240 * 256 = 455.47 -> 455; portrait frames scale the height.
        #expect(ClipTransforms.shortSideSize(height: 240, width: 427, to: 256) == [256, 455])
        #expect(ClipTransforms.shortSideSize(height: 427, width: 240, to: 224) == [398, 224])
        #expect(ClipTransforms.shortSideSize(height: 100, width: 100, to: 50) == [50, 50])
        // Already the right short side: returned as is.
        let clip = indexClip(frames: 1, channels: 1, height: 4, width: 6)
        #expect(try ClipTransforms.shortSideResize(clip, to: 4) == clip)
    }

    @Test func resizeOfConstantClipIsConstant() throws {
        let clip = Tensor(repeating: 0.25, shape: [2, 3, 5, 9])
        for filter in [ClipInterpolation.bilinear, .bicubic] {
            let out = try ClipTransforms.resize(clip, height: 8, width: 4, filter: filter)
            #expect(out.scalars.allSatisfy { abs($0 - 0.25) < 1e-6 })
        }
    }

    @Test func scaleJitterDrawsInverseUniformSizesOncePerClip() throws {
        var g = RandomGenerator(seed: 5)
        var sizes: [Int] = []
        for _ in 0..<2000 { sizes.append(ClipTransforms.sampleJitterSize(minSize: 256, maxSize: 320, using: &g)) }
        #expect(sizes.min()! == 256 && sizes.max()! == 320)
        // 1/S uniform in [1/320, 1/256]: P(S <= 288) = P(1/S >= 1/288.5) = (1/256 - 1/288.5) / (1/256 - 1/320)
        // = 0.563, where a plain uniform S would give 0.5.
        let below = Double(sizes.filter { $0 <= 288 }.count) / 2000
        let expected = (1.0 / 256 - 1 / 288.5) / (1.0 / 256 - 1.0 / 320)
        #expect(abs(below - expected) < 0.03, "\(below)")

        let clip = Tensor.uniform([3, 3, 24, 32], using: &g)
        var a = RandomGenerator(seed: 11), b = RandomGenerator(seed: 11)
        let x = try ClipTransforms.scaleJitter(clip, minSize: 30, maxSize: 40, using: &a)
        let y = try ClipTransforms.scaleJitter(clip, minSize: 30, maxSize: 40, using: &b)
        #expect(x == y)
        var c = RandomGenerator(seed: 11)
        let s = ClipTransforms.sampleJitterSize(minSize: 30, maxSize: 40, using: &c)
        #expect(x.shape == [3, 3, s, Int((32.0 / 24.0 * Double(s)).rounded(.down))])
        // Same size for every frame: resizing frame 1 alone gives the clip's frame 1.
        let frame1 = Tensor(shape: [1, 3, 24, 32], scalars: Array(clip.scalars[(3 * 24 * 32)..<(6 * 24 * 32)]))
        let alone = try ClipTransforms.resize(frame1, height: x.shape[2], width: x.shape[3])
        let plane = 3 * x.shape[2] * x.shape[3]
        #expect(Array(x.scalars[plane..<(2 * plane)]) == alone.scalars)
    }

    @Test func resizeErrorsAreTyped() {
        #expect(throws: TransformError.self) { try ClipTransforms.resize(Tensor(zeros: [3, 4, 4]), height: 2, width: 2) }
        #expect(throws: TransformError.self) { try ClipTransforms.resize(Tensor(zeros: [1, 3, 4, 4]), height: 0, width: 2) }
        #expect(throws: TransformError.self) {
            var g = RandomGenerator(seed: 0)
            _ = try ClipTransforms.scaleJitter(Tensor(zeros: [1, 3, 4, 4]), minSize: 9, maxSize: 8, using: &g)
        }
        do {
            _ = try ClipTransforms.resize(Tensor(zeros: [3, 4, 4]), height: 2, width: 2)
        } catch {
            #expect(error.description.hasPrefix("resize: clip of shape [3, 4, 4]"))
        }
    }
}
