import Foundation
import Testing
import TensorCore
import VideoIO

/// IIC's residual clips, intra-negatives and retrieval clip positions against the released code
/// restated in PyTorch / NumPy (`Scripts/reference/make_iic_fixtures.py`, `iic_inputs.safetensors`).
@Suite struct IICInputTests {
    static let file: SafeTensorsFile = {
        let url = Bundle.module.url(forResource: "iic_inputs", withExtension: "safetensors", subdirectory: "Fixtures")!
        return try! SafeTensors.read(contentsOf: url)
    }()

    static func tensor(_ name: String) -> Tensor { try! file.tensor(named: name) }
    static func ints(_ name: String) -> [Int] { try! file.integers(named: name).values }

    static func expectClose(_ a: Tensor, _ b: Tensor, _ what: String) {
        #expect(a.shape == b.shape, "\(what): \(a.shape) vs \(b.shape)")
        let worst = zip(a.scalars, b.scalars).map { abs($0 - $1) }.max() ?? 0
        #expect(worst <= 1e-6, "\(what): worst error \(worst)")
    }

    @Test func residualClipsEqualTheReferenceInBothForms() throws {
        let clips = Self.tensor("clips")
        Self.expectClose(try ClipTransforms.residual(clips, scaling: .scaled), Self.tensor("residual.scaled"), "scaled")
        Self.expectClose(try ClipTransforms.residual(clips, scaling: .unscaled), Self.tensor("residual.unscaled"), "unscaled")
        // One clip [T, 3, H, W] gives the batch's first row; frame 0 wraps around to the last frame.
        let one = clips.slice(axis: 0, range: 0..<1).squeezed(axis: 0)
        let residual = try ClipTransforms.residual(one)
        Self.expectClose(residual, Self.tensor("residual.scaled").slice(axis: 0, range: 0..<1).squeezed(axis: 0), "one clip")
        let x = one.scalars, block = 3 * 4 * 5, r = residual.scalars
        #expect(abs(r[0] - ((x[0] - x[15 * block]) + 1) / 2) < 1e-7)
        #expect(try ClipInput.residualUnscaled.apply(clips).scalars == ClipTransforms.residual(clips, scaling: .unscaled).scalars)
        #expect(try ClipInput.rgb.apply(clips).scalars == clips.scalars)
    }

    @Test(arguments: [IntraNegative.repeat, .shuffle])
    func intraNegativesEqualTheReferenceDrawForDraw(kind: IntraNegative) throws {
        var generator = RandomGenerator(seed: 5)
        let clips = Self.tensor("clips")
        let negatives = try ClipTransforms.intraNegative(clips, kind: kind, using: &generator)
        Self.expectClose(negatives, Self.tensor("neg.\(kind.rawValue)"), kind.rawValue)
        var again = RandomGenerator(seed: 5)
        var orders: [Int] = []
        for _ in 0..<3 { orders += try ClipTransforms.intraNegativeFrames(kind, frameCount: 16, using: &again) }
        #expect(orders == Self.ints("neg.\(kind.rawValue).frames"))
        #expect(again == generator)
    }

    @Test func theChunkSwapIsNeverTheIdentityAndKeepsChunksInOrder() throws {
        var generator = RandomGenerator(seed: 0)
        var swapped = Set<[Int]>()
        for _ in 0..<200 {
            let order = try ClipTransforms.intraNegativeFrames(.shuffle, frameCount: 8, using: &generator)
            #expect(order != Array(0..<8))
            #expect(order.sorted() == Array(0..<8))
            for chunk in 0..<4 { #expect(order[2 * chunk + 1] == order[2 * chunk] + 1) }
            swapped.insert(order)
        }
        #expect(swapped.count == 6)  // every pair of the 4 chunks
        #expect(throws: TransformError.self) { try ClipTransforms.intraNegativeFrames(.shuffle, frameCount: 6, using: &generator) }
        #expect(throws: TransformError.self) { try ClipTransforms.residual(Tensor(zeros: [2, 3, 4])) }
        let repeated = try ClipTransforms.intraNegativeFrames(.repeat, frameCount: 5, using: &generator)
        #expect(Set(repeated).count == 1 && repeated.count == 5)
    }

    @Test func retrievalClipsStartWhereTheReferenceStartsThem() {
        let counts = Self.ints("centred.frame_counts"), starts = Self.ints("centred.starts")
        let sampler = CentredClipSampler(clipLength: 16, numClips: 10)
        var generator = RandomGenerator(seed: 0)
        for (row, count) in counts.enumerated() {
            #expect(sampler.starts(frameCount: count) == Array(starts[(row * 10)..<(row * 10 + 10)]), "\(count) frames")
            let clips = sampler.clips(frameCount: count, using: &generator)
            #expect(clips.count == 10 && clips.allSatisfy { $0.frameIndices.count == 16 })
            #expect(clips[3].frameIndices == Array(starts[row * 10 + 3]..<(starts[row * 10 + 3] + 16)).map { min($0, count - 1) })
        }
        #expect(generator == RandomGenerator(seed: 0))
    }

    @Test func flowViewsEncodeAKnownMotionAsTheFlowJPEGsDo() throws {
        // A smooth pattern moving one pixel right per frame.
        let (t, h, w) = (4, 40, 40)
        var values = [Float](repeating: 0, count: t * 3 * h * w)
        for f in 0..<t {
            for y in 0..<h {
                for x in 0..<w {
                    let xs = Float(x - f)
                    let value = 0.5 + 0.25 * sin(xs * 0.35) * cos(Float(y) * 0.3) + 0.1 * sin(xs * 0.9 + Float(y) * 0.2)
                    for c in 0..<3 { values[((f * 3 + c) * h + y) * w + x] = value }
                }
            }
        }
        let clip = Tensor(shape: [t, 3, h, w], scalars: values)
        let (u, v) = try ClipTransforms.flowViews(clip)
        #expect(u.shape == clip.shape && v.shape == clip.shape)
        let plane = h * w
        var du: [Float] = [], dv: [Float] = []
        for y in 12..<28 {
            for x in 12..<28 {
                du.append(u.scalars[y * w + x] * 40 - 20)
                dv.append(v.scalars[y * w + x] * 40 - 20)
            }
        }
        let meanU = du.reduce(0, +) / Float(du.count), meanV = dv.reduce(0, +) / Float(dv.count)
        #expect(abs(meanU - 1) < 0.25, "horizontal flow \(meanU)")
        #expect(abs(meanV) < 0.25, "vertical flow \(meanV)")
        // Three equal channels; the last frame repeats the flow before it; values in [0, 1].
        let s = u.scalars
        #expect(Array(s[0..<plane]) == Array(s[plane..<(2 * plane)]))
        #expect(Array(s[(3 * 3 * plane)..<(3 * 3 * plane + plane)]) == Array(s[(2 * 3 * plane)..<(2 * 3 * plane + plane)]))
        #expect(s.allSatisfy { $0 >= 0 && $0 <= 1 })
        #expect(throws: TransformError.self) { try ClipTransforms.flowViews(Tensor(zeros: [1, 3, 8, 8])) }
        // A batch gives each sample its own flow.
        let batch = try ClipTransforms.flowViews(Tensor.stack([clip, clip], axis: 0))
        #expect(Array(batch.u.scalars[0..<u.count]) == u.scalars && Array(batch.u.scalars[u.count...]) == u.scalars)
    }
}
