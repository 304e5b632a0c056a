import Foundation
import Testing
import TensorCore
import VideoIO

/// The arrays written by `Scripts/reference/make_augment_fixtures.py`
/// (`Fixtures/augment.safetensors`): Pillow's resize and crop, VideoMAE's `GroupMultiScaleCrop`
/// and VideoMAE's `RandomErasing`, the last two driven by a port of our generator.
enum AugmentFixtures {
    static let file: SafeTensorsFile = {
        let url = Bundle.module.url(forResource: "augment", withExtension: "safetensors", subdirectory: "Fixtures")!
        return try! SafeTensors.read(contentsOf: url)
    }()

    static func ints(_ name: String) -> [Int] { try! file.integers(named: name).values }

    /// Rows of an integer table.
    static func rows(_ name: String) -> [[Int]] {
        let (shape, values) = try! file.integers(named: name)
        return (0..<shape[0]).map { Array(values[($0 * shape[1])..<(($0 + 1) * shape[1])]) }
    }

    /// A `[H, W, 3]` byte array as an image, or the frames of a `[T, H, W, 3]` one.
    static func images(_ name: String) -> [RGB8Image] {
        let (shape, bytes) = try! file.uint8s(named: name)
        let (h, w) = (shape[shape.count - 3], shape[shape.count - 2])
        let frames = shape.count == 4 ? shape[0] : 1
        return (0..<frames).map { f in
            RGB8Image(width: w, height: h, pixels: Array(bytes[(f * h * w * 3)..<((f + 1) * h * w * 3)]))
        }
    }
}

/// VideoMAE's multi-scale crop and the Pillow operations under it, byte for byte.
@Suite struct TransformMultiScaleCropTests {
    @Test(arguments: ["8x8", "24x24", "50x31", "37x10", "12x23", "80x5", "37x23"])
    func bilinearResizeEqualsPillow(size: String) throws {
        let image = AugmentFixtures.images("image")[0]
        let reference = AugmentFixtures.images("resize.\(size)")[0]
        let out = image.resizedBilinear(width: reference.width, height: reference.height)
        #expect(out == reference)
    }

    @Test func shrinkingAveragesEveryPixelTheOutputCovers() {
        // PIL widens the triangle filter by the reduction factor: a 4 → 1 shrink of a row weighs
        // all four pixels (5, 7, 7, 5 over 24), where F.interpolate reads the middle two only (0).
        let image = RGB8Image(width: 4, height: 1, pixels: [0, 0, 0, 0, 0, 0, 0, 0, 0, 240, 240, 240])
        #expect(image.resizedBilinear(width: 1, height: 1).pixels == [50, 50, 50])
    }

    @Test func cropOutsideTheImageIsBlackAsInPillow() {
        let image = AugmentFixtures.images("image")[0]
        let reference = AugmentFixtures.images("crop.outside")[0]
        #expect(image.cropped(left: -3, top: -2, width: 33, height: 22) == reference)
    }

    @Test func candidateSizesAreTheTenPairsOfTheReference() throws {
        let crop = try MultiScaleCrop(size: 224)
        // Short side 256: 256, 224, 192, 168 (int(256 · 0.66) = 168).
        let pairs = crop.candidateSizes(height: 256, width: 340)
        #expect(pairs.map { [$0.width, $0.height] } == [
            [256, 256], [224, 256], [256, 224], [224, 224], [192, 224], [224, 192], [192, 192], [168, 192],
            [192, 168], [168, 168],
        ])
        // 240 · 0.875 = 210 and 240 · 0.75 = 180 stay; 222 and 223 snap to 224, 226 too.
        #expect(try MultiScaleCrop(size: 224, scales: [1]).candidateSizes(height: 222, width: 300).map(\.width) == [224])
        #expect(try MultiScaleCrop(size: 224, scales: [1]).candidateSizes(height: 300, width: 226).map(\.height) == [224])
        #expect(try MultiScaleCrop(size: 224, scales: [1]).candidateSizes(height: 300, width: 227).map(\.height) == [227])
        #expect(try MultiScaleCrop(size: 224, maxDistort: 0).candidateSizes(height: 240, width: 320).count == 4)
        #expect(MultiScaleCrop.offsetGrid.count == 13)
    }

    @Test func regionsEqualTheReference() throws {
        let cases = AugmentFixtures.rows("msc.cases"), regions = AugmentFixtures.rows("msc.regions")
        #expect(cases.count >= 100)
        var outside = 0
        for (c, want) in zip(cases, regions) {
            var generator = RandomGenerator(seed: UInt64(c[0]))
            let region = try MultiScaleCrop(size: c[3]).sampleRegion(height: c[1], width: c[2], using: &generator)
            #expect([region.top, region.left, region.height, region.width] == want, "case \(c)")
            if region.top < 0 || region.left < 0 { outside += 1 }
        }
        #expect(outside > 0, "the table covers a snapped side larger than the frame")
    }

    @Test func pixelsEqualTheReferenceForImagesAndClips() throws {
        let cases = AugmentFixtures.rows("msc.pixel_cases"), regions = AugmentFixtures.rows("msc.pixel_regions")
        for (n, (c, want)) in zip(cases, regions).enumerated() {
            let frames = AugmentFixtures.images("msc.clip.\(c[1])")
            let reference = AugmentFixtures.images("msc.out.\(n)")
            let crop = try MultiScaleCrop(size: c[2])
            var generator = RandomGenerator(seed: UInt64(c[0]))
            let region = crop.sampleRegion(height: frames[0].height, width: frames[0].width, using: &generator)
            #expect([region.top, region.left, region.height, region.width] == want, "case \(c)")
            #expect(try crop.apply(region, to: frames) == reference, "case \(c) bytes")

            // The clip form, [T, 3, H, W] in [0, 1], goes through the same bytes.
            var again = RandomGenerator(seed: UInt64(c[0]))
            let clip = try crop(try ClipTransforms.clip(from: frames), using: &again)
            let expected = try ClipTransforms.clip(from: reference)
            #expect(clip.shape == [frames.count, 3, c[2], c[2]])
            #expect(clip == expected, "case \(c) clip")
            #expect(again == generator, "two draws per clip")
            // And in another layout.
            var third = RandomGenerator(seed: UInt64(c[0]))
            let thwc = try crop(try ClipTransforms.clip(from: frames, layout: .thwc), layout: .thwc, using: &third)
            #expect(thwc == (try ClipTransforms.clip(from: reference, layout: .thwc)), "case \(c) thwc")
        }
    }

    @Test func badSettingsAndFramesAreTypedErrors() throws {
        func refused(_ make: () throws -> MultiScaleCrop) -> Bool {
            do { _ = try make(); return false } catch {
                guard case .invalidParameter(op: "MultiScaleCrop", _, _, _)? = error as? TransformError else { return false }
                return true
            }
        }
        #expect(refused { try MultiScaleCrop(size: 0) })
        #expect(refused { try MultiScaleCrop(size: 224, scales: []) })
        #expect(refused { try MultiScaleCrop(size: 224, scales: [1, 1.2]) })
        #expect(refused { try MultiScaleCrop(size: 224, scales: [0, 0.5]) })
        #expect(refused { try MultiScaleCrop(size: 224, maxDistort: -1) })
        // A 1-pixel frame has crop sides int(0.66) = 0 at the smallest scale.
        let crop = try MultiScaleCrop(size: 8, scales: [0.66])
        var generator = RandomGenerator(seed: 0)
        #expect(throws: TransformError.self) { _ = try crop(Tensor(zeros: [2, 3, 1, 1]), using: &generator) }
        #expect(throws: TransformError.self) { _ = try crop(Tensor(zeros: [2, 1, 4, 4]), using: &generator) }
        #expect(throws: TransformError.self) {
            _ = try crop([RGB8Image(width: 4, height: 4, fill: .timmFill), RGB8Image(width: 5, height: 4, fill: .timmFill)],
                         using: &generator)
        }
    }

    @Test func clipBytesRoundTrip() throws {
        let frames = AugmentFixtures.images("msc.clip.1")
        for layout in [ClipLayout.tchw, .cthw, .thwc] {
            #expect(try ClipTransforms.rgb8Frames(ClipTransforms.clip(from: frames, layout: layout), layout: layout) == frames)
        }
        #expect(throws: TransformError.self) { _ = try ClipTransforms.clip(from: []) }
    }
}
