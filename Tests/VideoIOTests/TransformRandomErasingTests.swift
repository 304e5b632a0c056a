import Testing
import TensorCore
import VideoIO

/// Random erasing against VideoMAE's `random_erasing.py` restated in
/// `Scripts/reference/make_augment_fixtures.py` with our generator's draws (exact: the fills are
/// our own normals, copied).
@Suite struct TransformRandomErasingTests {
    static let modes: [RandomErasing.Mode] = [.constant, .perChannel, .perPixel]

    @Test func erasedClipsAndRectanglesEqualTheReference() throws {
        let input = try AugmentFixtures.file.tensor(named: "erase.input")
        let cases = AugmentFixtures.rows("erase.cases")
        #expect(cases.count >= 10)
        var skipped = 0
        for (m, c) in cases.enumerated() {
            let erasing = try RandomErasing(probability: Double(c[4]) / 1000, mode: Self.modes[c[1]], maxCount: c[3],
                                            sameRegionForAllFrames: c[2] == 1)
            var generator = RandomGenerator(seed: UInt64(c[0]))
            let (clip, regions) = try erasing.erasing(input, using: &generator)
            #expect(clip == (try AugmentFixtures.file.tensor(named: "erase.out.\(m)")), "case \(c)")
            // The reference lists (frame, top, left, h, w) in fill order: frame-major per rectangle
            // with one region for all frames, per frame otherwise.
            let want = AugmentFixtures.rows("erase.regions.\(m)").filter { $0[0] >= 0 }
            var got: [[Int]] = []
            if erasing.sameRegionForAllFrames {
                for k in 0..<(regions.first?.count ?? 0) {
                    for f in regions.indices { got.append([f, regions[f][k].top, regions[f][k].left, regions[f][k].height, regions[f][k].width]) }
                }
            } else {
                for (f, list) in regions.enumerated() {
                    for r in list { got.append([f, r.top, r.left, r.height, r.width]) }
                }
            }
            #expect(got == want, "case \(c)")
            if want.isEmpty { skipped += 1 }
        }
        #expect(skipped > 0 && skipped < cases.count)
    }

    @Test func oneRectangleForAllFramesWithFreshNoise() throws {
        let erasing = try RandomErasing(probability: 1)
        var generator = RandomGenerator(seed: 3)
        let clip = Tensor(zeros: [3, 3, 10, 12])
        let (out, regions) = try erasing.erasing(clip, using: &generator)
        let r = try #require(regions.first?.first)
        #expect(regions.allSatisfy { $0 == [r] })
        #expect(r.width < 12 && r.height < 10 && r.width * r.height > 0)
        // Per-pixel noise differs from frame to frame inside the rectangle and nothing changes outside.
        #expect(out[0, 0, r.top, r.left] != out[1, 0, r.top, r.left])
        let changed = out.scalars.filter { $0 != 0 }.count
        #expect(changed == 3 * 3 * r.width * r.height)
        // The layout moves the values, not the draws.
        var again = RandomGenerator(seed: 3)
        let thwc = try erasing(toTHWC(clip), layout: .thwc, using: &again)
        #expect(thwc == toTHWC(out))
    }

    @Test func probabilityZeroLeavesTheClipAndDrawsOnlyTheCoin() throws {
        var scratch = RandomGenerator(seed: 11)
        let clip = Tensor.normal([2, 3, 6, 6], using: &scratch)
        var generator = RandomGenerator(seed: 1), reference = generator
        #expect(try RandomErasing(probability: 0)(clip, using: &generator) == clip)
        _ = reference.nextUniformDouble()
        #expect(generator == reference)
    }

    @Test func badSettingsAreTypedErrors() {
        func refused(_ make: () throws -> RandomErasing) -> Bool {
            do { _ = try make(); return false } catch {
                guard case .invalidParameter(op: "RandomErasing", _, _, _)? = error as? TransformError else { return false }
                return "\(error)".contains("RandomErasing")
            }
        }
        #expect(refused { try RandomErasing(probability: 1.5) })
        #expect(refused { try RandomErasing(probability: -0.1) })
        #expect(refused { try RandomErasing(minArea: 0) })
        #expect(refused { try RandomErasing(minArea: 0.5, maxArea: 0.4) })
        #expect(refused { try RandomErasing(maxArea: 1.5) })
        #expect(refused { try RandomErasing(minAspect: 0) })
        #expect(refused { try RandomErasing(minAspect: 2, maxAspect: 1) })
        #expect(refused { try RandomErasing(minCount: 0) })
        #expect(refused { try RandomErasing(minCount: 2, maxCount: 1) })
    }

    @Test func aClipOfTheWrongRankIsATypedError() throws {
        var generator = RandomGenerator(seed: 0)
        #expect(throws: TransformError.self) { _ = try RandomErasing()(Tensor(zeros: [3, 4, 4]), using: &generator) }
    }
}
