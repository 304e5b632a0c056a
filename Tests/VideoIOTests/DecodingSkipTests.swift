import Foundation
import Testing
import TensorCore
import VideoIO
import _TestSupport

/// Skipping unneeded non-reference frames must never change a requested frame's pixels.
@Suite struct DecodingSkipTests {
    private static let realClips = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/realclips")

    /// Random index sets, sparse and dense, sorted and not, with repeats.
    private static func indexSets(frameCount: Int, seed: UInt64) -> [[Int]] {
        var generator = RandomGenerator(seed: seed)
        var sets: [[Int]] = []
        for size in [1, 2, 3, 5, 8, 8, 13] {
            sets.append((0..<size).map { _ in generator.nextInt(below: frameCount) })
        }
        // The training pattern: 8 uniformly spaced frames.
        sets.append((0..<8).map { $0 * (frameCount - 1) / 7 })
        return sets
    }

    /// Byte equality through `memcmp`, which a debug build runs at full speed on 720p frames.
    private static func identical(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.withUnsafeBytes { x in
            b.withUnsafeBytes { y in x.count == y.count && memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0 }
        }
    }

    /// Decodes every set with a reader that skips and one that does not, and compares bytes;
    /// with `sequential`, also against a plain frame-by-frame decode of the whole stream. `size`
    /// with nearest-neighbour scaling compares an exact subset of each frame's pixels, which keeps
    /// 720p frames from inflating resident memory while `MemoryTests` measures it in parallel.
    /// Returns the frames each reader decoded in total.
    private static func compare(
        path: String, seed: UInt64, sequential: Bool, size: FrameSize? = nil
    ) throws -> (skipping: Int, full: Int) {
        let skipping = try VideoReader(path: path)
        let full = try VideoReader(path: path)
        full.skipsUnneededFrames = false
        var reference: [[UInt8]] = []
        if sequential {
            let reader = try VideoReader(path: path)
            reader.skipsUnneededFrames = false
            reference = try reader.frames(at: Array(0..<reader.frameCount), size: size, filter: .nearest).map(\.pixels)
        }
        for wanted in indexSets(frameCount: skipping.frameCount, seed: seed) {
            let a = try skipping.frames(at: wanted, size: size, filter: .nearest)
            let b = try full.frames(at: wanted, size: size, filter: .nearest)
            #expect(a.map(\.index) == wanted)
            for (k, (x, y)) in zip(wanted, zip(a, b)) {
                // Booleans first, so that a failure prints the message rather than two frames of bytes.
                let sameAsFull = identical(x.pixels, y.pixels)
                #expect(sameAsFull, "\(path): frame \(k) of \(wanted) differs when skipping")
                if sequential {
                    let sameAsSequential = identical(x.pixels, reference[k])
                    #expect(sameAsSequential, "\(path): frame \(k) of \(wanted) differs from sequential decode")
                }
            }
        }
        return (skipping.decodedFrameCount, full.decodedFrameCount)
    }

    @Test(arguments: [1, 3])
    func bFrameH264IsBitIdenticalWithAndWithoutSkipping(bFrames: Int) throws {
        // Three B-frames make x264 use a B-pyramid, so some B-frames are references and must stay.
        try #require(VideoCodecChoice.isAvailable(.h264(crf: 12)))
        let path = try Fixture.write(frames: 48, codec: .h264(crf: 12), maxBFrames: bFrames, keyframeInterval: 24)
        let (skipping, full) = try Self.compare(path: path, seed: UInt64(bFrames), sequential: true)
        #expect(skipping < full, "skipping decoded \(skipping) frames, full decoding \(full)")
    }

    @Test func bFrameMPEG4IsBitIdenticalWithAndWithoutSkipping() throws {
        let path = try Fixture.write(frames: 36, codec: .mpeg4(quantizer: 3), maxBFrames: 2, keyframeInterval: 18)
        let (skipping, full) = try Self.compare(path: path, seed: 7, sequential: true)
        #expect(skipping < full, "skipping decoded \(skipping) frames, full decoding \(full)")
    }

    @Test(arguments: ["carphone_distorted.mp4", "bikes.mp4", "bigbuckbunny.mp4"])
    func realClipsAreBitIdenticalWithAndWithoutSkipping(clip: String) throws {
        let path = Self.realClips.appendingPathComponent(clip).path
        let m = try VideoReader(path: path).metadata
        // Every pixel of the small clip, every other or every fourth pixel of the larger ones.
        let step = m.width <= 320 ? 1 : m.width <= 640 ? 2 : 4
        let size = FrameSize(width: m.width / step, height: m.height / step)
        let (skipping, full) = try Self.compare(path: path, seed: 11, sequential: true, size: size)
        #expect(skipping <= full)
    }

    @Test func unrequestedBFramesAreNotDecoded() throws {
        // One B-frame between references, no pyramid: every B-frame is non-reference, so reaching
        // the last frame of a 24-frame GOP needs only its I- and P-frames and the target itself.
        try #require(VideoCodecChoice.isAvailable(.h264(crf: 12)))
        let path = try Fixture.write(frames: 24, codec: .h264(crf: 12), maxBFrames: 1, keyframeInterval: 24)
        let reader = try VideoReader(path: path)
        let last = try reader.frame(at: 22)
        #expect(Fixture.identify(last.pixels).index == 22)
        #expect(reader.seekCount == 1)
        #expect(reader.decodedFrameCount <= 14, "decoded \(reader.decodedFrameCount) frames to reach frame 22")

        let full = try VideoReader(path: path)
        full.skipsUnneededFrames = false
        #expect(try full.frame(at: 22).pixels == last.pixels)
        #expect(full.decodedFrameCount >= 22)
    }
}
