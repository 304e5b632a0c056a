import Testing
import TensorCore
import VideoIO

@Suite struct SamplingTests {
    @Test func segmentTestFramesForThirtyFrames() {
        // reference/TIME.md §1.5 with L = 30: s = 3.625; round(14.5) = 14 (half to even).
        let sampler = SegmentSampler(segments: 8, mode: .test)
        #expect(sampler.segmentBounds(frameCount: 30) == [0...4, 4...7, 7...11, 11...14, 14...18, 18...22, 22...25, 25...29])
        var g = RandomGenerator(seed: 0)
        let before = g
        #expect(sampler.clips(frameCount: 30, using: &g) == [ClipInfo(frameIndices: [2, 5, 9, 12, 16, 20, 23, 27])])
        #expect(g == before)
    }

    @Test func segmentBoundsUseBankersRounding() {
        let sampler = SegmentSampler(segments: 8, mode: .test)
        // L = 2: s = 0.125, s * 4 = 0.5 rounds to 0, s * 5 = 0.625 to 1.
        #expect(sampler.segmentBounds(frameCount: 2) == [0...0, 0...0, 0...0, 0...0, 0...1, 1...1, 1...1, 1...1])
        #expect(sampler.segmentBounds(frameCount: 1) == Array(repeating: 0...0, count: 8))
        #expect(sampler.segmentBounds(frameCount: 100) == [0...12, 12...25, 25...37, 37...50, 50...62, 62...74, 74...87, 87...99])
    }

    @Test func segmentTrainDrawsEveryFrameOfEachSegment() {
        let sampler = SegmentSampler(segments: 8, mode: .train)
        let bounds = sampler.segmentBounds(frameCount: 30)
        var g = RandomGenerator(seed: 3)
        var seen = Array(repeating: Set<Int>(), count: 8)
        for _ in 0..<400 {
            let clip = sampler.clips(frameCount: 30, using: &g)[0]
            for (i, f) in clip.frameIndices.enumerated() { seen[i].insert(f) }
        }
        // Inclusive at both ends: every frame of every segment turns up, nothing else does.
        #expect(seen == bounds.map { Set($0) })
        var a = RandomGenerator(seed: 9), b = RandomGenerator(seed: 9)
        #expect(sampler.clips(frameCount: 30, using: &a) == sampler.clips(frameCount: 30, using: &b))
    }

    @Test func denseTestClipsSpanTheVideo() {
        var g = RandomGenerator(seed: 0)
        let clips = DenseSampler(clipLength: 4, interval: 2, numClips: 3, mode: .test).clips(frameCount: 30, using: &g)
        #expect(clips == [
            ClipInfo(frameIndices: [0, 2, 4, 6], clipIndex: 0),
            ClipInfo(frameIndices: [11, 13, 15, 17], clipIndex: 1),
            ClipInfo(frameIndices: [23, 25, 27, 29], clipIndex: 2),
        ])
        let centre = DenseSampler(clipLength: 4, interval: 2, mode: .test).clips(frameCount: 30, using: &g)
        #expect(centre == [ClipInfo(frameIndices: [11, 13, 15, 17])])
    }

    @Test func denseShortVideoRepeatsTheLastFrame() {
        var g = RandomGenerator(seed: 0)
        let sampler = DenseSampler(clipLength: 4, interval: 2, numClips: 2, mode: .test)
        #expect(sampler.clips(frameCount: 5, using: &g).map(\.frameIndices) == [[0, 2, 4, 4], [0, 2, 4, 4]])
        #expect(RandomClipSampler(clipLength: 3, interval: 3).clips(frameCount: 2, using: &g)[0].frameIndices == [0, 1, 1])
    }

    @Test func denseTrainStartsCoverTheValidRange() {
        let sampler = DenseSampler(clipLength: 4, interval: 2, numClips: 2, mode: .train)
        var g = RandomGenerator(seed: 5)
        var starts = Set<Int>()
        for _ in 0..<300 {
            let clips = sampler.clips(frameCount: 12, using: &g)
            #expect(clips.map(\.clipIndex) == [0, 1])
            for c in clips {
                #expect(c.frameIndices == (0..<4).map { c.frameIndices[0] + 2 * $0 })
                starts.insert(c.frameIndices[0])
            }
        }
        #expect(starts == Set(0...5))
    }

    @Test func randomClipIsSeeded() {
        let sampler = RandomClipSampler(clipLength: 8, interval: 4)
        var a = RandomGenerator(seed: 11), b = RandomGenerator(seed: 11)
        let x = sampler.clips(frameCount: 100, using: &a), y = sampler.clips(frameCount: 100, using: &b)
        #expect(x == y)
        #expect(x[0].frameIndices.first! <= 100 - 29 && x[0].frameIndices.count == 8)
    }

    @Test func uniformMatchesTorchLinspace() {
        var g = RandomGenerator(seed: 0)
        #expect(UniformSampler(numFrames: 8).clips(frameCount: 30, using: &g)[0].frameIndices == [0, 4, 8, 12, 16, 20, 24, 29])
        #expect(UniformSampler(numFrames: 8).clips(frameCount: 5, using: &g)[0].frameIndices == [0, 0, 1, 1, 2, 2, 3, 4])
        #expect(UniformSampler(numFrames: 16).clips(frameCount: 100, using: &g)[0].frameIndices
            == [0, 6, 13, 19, 26, 33, 39, 46, 52, 59, 66, 72, 79, 85, 92, 99])
        #expect(UniformSampler(numFrames: 1).clips(frameCount: 7, using: &g)[0].frameIndices == [0])
    }
}
