import Foundation
import Testing
import TensorCore
import VideoIO
import _TestSupport

/// TIME flow-direction labels against the reference pipeline (OpenCV flow → patch mean →
/// cartToPolar → min–max mask → 45° bins) of `Scripts/reference/make_farneback_fixtures.py`.
@Suite struct FlowDirectionLabelsTests {
    let fixtures = FarnebackFixtures.shared

    @Test func agreesWithReferenceOnRealClips() throws {
        var agree = 0, total = 0
        let cases: [(clip: String, labels: String, patch: Int, pairs: Int)] = [
            ("clip112", "labels112_p16", 16, 3), ("clip112", "labels112_p8", 8, 3), ("gray224", "labels224_p16", 16, 1),
        ]
        for c in cases {
            let ours = try FlowDirectionLabels(patchSize: c.patch).labels(clip: fixtures.normalisedClip(c.clip))
            #expect(ours.count == c.pairs)
            for t in 0..<c.pairs {
                let reference = fixtures.labels(c.labels, index: t)
                #expect(ours[t].count == reference.count)
                agree += zip(ours[t], reference).filter { $0 == $1 }.count
                total += reference.count
            }
        }
        #expect(total == 931)
        #expect(Double(agree) / Double(total) >= 0.995, "\(agree) of \(total) patches agree")
    }

    /// One patch per hand-chosen vector: the moving mask, every sector, and OpenCV's quirks at the
    /// edges (its fast arctangent puts an exact 45° at 44.99°, i.e. sector 1; -1e-7 rounds to 180°).
    @Test func handComputedSectors() throws {
        let vectors: [(Float, Float)] = [(0, 0), (1, 0), (0, 1), (-1, 0), (0, -1), (1, 1), (-1, -1e-7), (0.005, 0), (2, -2)]
        let expected = [0, 1, 3, 5, 7, 1, 5, 0, 8]
        var values = [Float](repeating: 0, count: 2 * 9 * 2 * 2)
        for (i, v) in vectors.enumerated() {
            for y in 0..<2 {
                for x in 0..<2 {
                    let p = 2 * (y * 18 + 2 * i + x)
                    values[p] = v.0
                    values[p + 1] = v.1
                }
            }
        }
        let flow = try FlowField(width: 18, height: 2, vectors: values)
        #expect(try FlowDirectionLabels(patchSize: 2).labels(for: flow) == expected)
    }

    @Test func uniformFlowIsStatic() throws {
        let flow = FlowField(width: 32, height: 32, dx: 3, dy: 1)
        #expect(try FlowDirectionLabels(patchSize: 8).labels(for: flow) == [Int](repeating: 0, count: 16))
    }

    /// Exact sub-pixel shifts of a smooth pattern, as in the reference's numerical check: a
    /// rightward shift gives only {1, 8} (plus static), a downward one only {2, 3}.
    @Test(arguments: [(1.25, 0.0, Set([1, 8])), (0.0, 1.25, Set([2, 3]))])
    func pureShifts(dx: Double, dy: Double, directions: Set<Int>) throws {
        let w = 112, h = 112
        func pattern(_ x: Double, _ y: Double) -> Float {
            Float(50 * sin(x * 0.29) * cos(y * 0.21) + 35 * sin((x + 0.7 * y) * 0.13) + 20 * cos(x * 0.05 - y * 0.11))
        }
        let a = try GrayImage(width: w, height: h, pixels: (0..<(w * h)).map { pattern(Double($0 % w), Double($0 / w)) })
        let b = try GrayImage(width: w, height: h, pixels: (0..<(w * h)).map {
            pattern(Double($0 % w) - dx, Double($0 / w) - dy)
        })
        let labels = try FlowDirectionLabels(patchSize: 16).labels(frames: [a, b])[0]
        #expect(Set(labels).isSubset(of: directions.union([0])), "\(labels)")
        #expect(labels.filter { directions.contains($0) }.count >= 40, "\(labels)")
    }

    @Test func clipHelperMatchesGrayFrames() throws {
        let clip = fixtures.normalisedClip("clip112")
        let frames = try FlowDirectionLabels.grayFrames(clip: clip)
        #expect(frames.count == 4 && frames[0].width == 112)
        // gray of a normalised pixel: (0.299 R + 0.587 G + 0.114 B) * 128, e.g. for pixel 0 of frame 0.
        let r = clip[0, 0, 0, 0], g = clip[0, 1, 0, 0], b = clip[0, 2, 0, 0]
        #expect(abs(frames[0].pixels[0] - (0.299 * r + 0.587 * g + 0.114 * b) * 128) < 1e-3)
        let labeller = FlowDirectionLabels()
        #expect(try labeller.labels(clip: clip) == labeller.labels(frames: frames))
    }

    @Test func rejectsBadClips() throws {
        let labeller = FlowDirectionLabels(patchSize: 16)
        #expect(throws: OpticalFlowError.invalidClip(shape: [2, 1, 32, 32], reason: "expected [T, 3, H, W] RGB frames")) {
            try labeller.labels(clip: Tensor(zeros: [2, 1, 32, 32]))
        }
        #expect(throws: OpticalFlowError.self) { try labeller.labels(clip: Tensor(zeros: [1, 3, 32, 32])) }
        #expect(throws: OpticalFlowError.self) { try labeller.labels(clip: Tensor(zeros: [2, 3, 8, 8])) }
        var pixels = [Float](repeating: 0, count: 2 * 3 * 32 * 32)
        pixels[5] = .infinity
        #expect(throws: OpticalFlowError.nonFinite(input: "previous", index: 5)) {
            try labeller.labels(clip: Tensor(shape: [2, 3, 32, 32], scalars: pixels))
        }
    }
}
