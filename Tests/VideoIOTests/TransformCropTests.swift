import Testing
import TensorCore
import VideoIO

/// Crops, flips and frame shuffling; three-crop views against SlowFast's `uniform_crop` from
/// `Scripts/reference/make_transform_fixtures.py` (exact: crops copy values).
@Suite struct TransformCropTests {
    @Test(arguments: ["landscape", "portrait", "square"])
    func threeCropMatchesSlowFast(_ name: String) throws {
        let input = TransformFixtures.tensor("crop/\(name)/input")
        let size = TransformFixtures.tensor("crop/\(name)/view0").shape[2]
        let views = try ClipTransforms.threeCrop(input, size: size)
        #expect(views.count == 3)
        for (i, view) in views.enumerated() {
            #expect(view == TransformFixtures.tensor("crop/\(name)/view\(i)"), "view \(i)")
        }
        #expect(try ClipTransforms.centerCrop(input, size: size) == views[1])
        let hwc = try ClipTransforms.threeCrop(toTHWC(input), size: size, layout: .thwc)
        #expect(hwc[2] == toTHWC(views[2]))
    }

    @Test func cropTakesTheRegionOfEveryFrame() throws {
        let clip = indexClip(frames: 2, channels: 2, height: 5, width: 6)
        let out = try ClipTransforms.crop(clip, top: 1, left: 2, height: 2, width: 3)
        #expect(out.shape == [2, 2, 2, 3])
        #expect(Array(out.scalars[0..<6]) == [12, 13, 14, 22, 23, 24])
        #expect(Array(out.scalars[18..<24]) == [1112, 1113, 1114, 1122, 1123, 1124])
        let cthw = try ClipTransforms.crop(toCTHW(clip), top: 1, left: 2, height: 2, width: 3, layout: .cthw)
        #expect(cthw == toCTHW(out))
    }

    @Test func centerCropRoundsOffsetsUp() throws {
        // 7 x 8 to 4: offsets ceil(3 / 2) = 2 rows and ceil(4 / 2) = 2 columns.
        let out = try ClipTransforms.centerCrop(indexClip(frames: 1, channels: 1, height: 7, width: 8), size: 4)
        #expect(out[0, 0, 0, 0] == 22 && out[0, 0, 3, 3] == 55)
    }

    @Test func randomCropIsSeededAndSharedAcrossFrames() throws {
        let clip = indexClip(frames: 3, channels: 3, height: 9, width: 12)
        var seen = Set<[Float]>()
        var corners = Set<Float>()
        for seed in 0..<60 {
            var a = RandomGenerator(seed: UInt64(seed)), b = RandomGenerator(seed: UInt64(seed))
            let x = try ClipTransforms.randomCrop(clip, size: 5, using: &a)
            #expect(x == (try ClipTransforms.randomCrop(clip, size: 5, using: &b)))
            let corner = x[0, 0, 0, 0]
            // Every frame and channel starts at the same (y, x).
            for t in 0..<3 { for c in 0..<3 { #expect(x[t, c, 0, 0] == corner + Float(1000 * t + 100 * c)) } }
            seen.insert(x.scalars)
            corners.insert(corner)
        }
        #expect(seen.count > 10)
        // Offsets in [0, 9 - 5) x [0, 12 - 5): the last row / column offset is never drawn.
        #expect(corners.allSatisfy { Int($0) / 10 < 4 && Int($0) % 10 < 7 })
        var g = RandomGenerator(seed: 1)
        #expect(try ClipTransforms.randomCrop(clip, size: 9, using: &g).shape == [3, 3, 9, 9])
    }

    @Test func randomResizedCropFollowsTorchvisionRules() throws {
        var g = RandomGenerator(seed: 4)
        for _ in 0..<200 {
            let r = ClipTransforms.sampleResizedCropRegion(height: 40, width: 60, using: &g)
            #expect(r.top >= 0 && r.left >= 0 && r.top + r.height <= 40 && r.left + r.width <= 60)
            let area = Double(r.height * r.width) / 2400
            let ratio = Double(r.width) / Double(r.height)
            // Rounding w and h moves area and ratio a little off their ranges on small crops.
            #expect(area > 0.05 && area <= 1.0 && ratio > 0.6 && ratio < 1.6, "\(r)")
        }
        // An impossible scale forces the fallback: the full height with the ratio clamped to 4/3.
        let r = ClipTransforms.sampleResizedCropRegion(height: 10, width: 100, scale: 0.99...1, ratio: 1...1, using: &g)
        #expect(r == CropRegion(top: 0, left: 45, height: 10, width: 10))
        var a = RandomGenerator(seed: 9), b = RandomGenerator(seed: 9)
        let clip = indexClip(frames: 2, channels: 3, height: 20, width: 30)
        let x = try ClipTransforms.randomResizedCrop(clip, size: 8, using: &a)
        #expect(x.shape == [2, 3, 8, 8])
        #expect(x == (try ClipTransforms.randomResizedCrop(clip, size: 8, using: &b)))
        // Same region in both frames: the frames differ by exactly 1000 everywhere.
        let n = 3 * 64
        #expect(zip(x.scalars[0..<n], x.scalars[n..<(2 * n)]).allSatisfy { abs($1 - $0 - 1000) < 1e-2 })
    }

    @Test func horizontalFlipMirrorsColumns() throws {
        let clip = indexClip(frames: 2, channels: 3, height: 2, width: 3)
        let out = try ClipTransforms.horizontalFlip(clip)
        #expect(Array(out.scalars[0..<6]) == [2, 1, 0, 12, 11, 10])
        #expect(try ClipTransforms.horizontalFlip(out) == clip)
        #expect(try ClipTransforms.horizontalFlip(toTHWC(clip), layout: .thwc) == toTHWC(out))
    }

    @Test func shuffleFramesPermutesWholeFrames() throws {
        let clip = indexClip(frames: 3, channels: 2, height: 2, width: 2)
        let out = try ClipTransforms.shuffleFrames(clip, permutation: [2, 0, 1])
        #expect(out[0, 1, 1, 1] == 2111 && out[1, 0, 0, 0] == 0 && out[2, 1, 0, 1] == 1101)
        #expect(try ClipTransforms.shuffleFrames(toCTHW(clip), permutation: [2, 0, 1], layout: .cthw) == toCTHW(out))
        #expect(try ClipTransforms.shuffleFrames(toTHWC(clip), permutation: [2, 0, 1], layout: .thwc) == toTHWC(out))
        #expect(throws: TransformError.self) { try ClipTransforms.shuffleFrames(clip, permutation: [0, 0, 1]) }
        #expect(throws: TransformError.self) { try ClipTransforms.shuffleFrames(clip, permutation: [0, 1]) }
    }

    @Test func cropsLargerThanTheFrameThrow() {
        let clip = Tensor(zeros: [2, 3, 6, 8])
        var g = RandomGenerator(seed: 0)
        #expect(throws: TransformError.sizeTooLarge(op: "centerCrop", requested: [7, 7], frame: [6, 8])) {
            try ClipTransforms.centerCrop(clip, size: 7)
        }
        #expect(throws: TransformError.self) { try ClipTransforms.threeCrop(clip, size: 9) }
        #expect(throws: TransformError.self) { try ClipTransforms.randomCrop(clip, size: 7, using: &g) }
        #expect(throws: TransformError.self) { try ClipTransforms.crop(clip, top: 1, left: 0, height: 6, width: 2) }
        #expect(throws: TransformError.self) { try ClipTransforms.randomResizedCrop(clip, size: 0, using: &g) }
        #expect(TransformError.sizeTooLarge(op: "centerCrop", requested: [7, 7], frame: [6, 8]).description
            == "centerCrop: requested size [7, 7] does not fit frames of size [6, 8] ([height, width])")
    }
}
