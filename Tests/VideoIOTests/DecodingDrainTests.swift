import Foundation
import Testing
import VideoIO

/// A request whose frames lie in different GOPs drains the decoder before each seek instead of
/// feeding it the pictures that would push the target out of the reorder buffer; the frames must
/// be bit-identical to frames decoded one per reader (a single-frame request never drains).
@Suite struct DecodingDrainTests {
    /// Each frame from its own fresh reader.
    private static func oneReaderPerFrame(_ path: String, _ indices: [Int]) throws -> [[UInt8]] {
        try indices.map { try VideoReader(path: path).frame(at: $0).pixels }
    }

    private static func check(_ path: String, frameCount: Int) throws {
        let reader = try VideoReader(path: path)
        #expect(reader.frameCount == frameCount)
        // Backwards and forwards, across every GOP, with neighbours that share one.
        let wanted = [44, 3, 17, 29, 45, 11, 12, 0, 47]
        let frames = try reader.frames(at: wanted)
        let expected = try oneReaderPerFrame(path, wanted)
        for (k, (frame, reference)) in zip(wanted, zip(frames, expected)) {
            let same = frame.pixels == reference
            #expect(same, "\(path): frame \(k) differs from a single-frame decode")
            let (nearest, error) = Fixture.identify(frame.pixels)
            #expect(nearest == k % 32 && error < 12, "frame \(k) looks like \(nearest) (error \(error))")
        }
        // The reader stays usable after draining: a later request in the same GOP.
        #expect(try reader.frame(at: 46).pixels == oneReaderPerFrame(path, [46])[0])
    }

    @Test(arguments: ["mp4", "mkv"])
    func bPyramidH264AcrossGOPs(container: String) throws {
        try #require(VideoCodecChoice.isAvailable(.h264(crf: 12)))
        let path = try Fixture.write(
            frames: 48, codec: .h264(crf: 12), maxBFrames: 3, keyframeInterval: 12, extension: container,
            frame: { Fixture.pattern($0 % 32) })
        try Self.check(path, frameCount: 48)
    }

    @Test func bFrameMPEG4AcrossGOPs() throws {
        let path = try Fixture.write(
            frames: 48, codec: .mpeg4(quantizer: 3), maxBFrames: 2, keyframeInterval: 12,
            frame: { Fixture.pattern($0 % 32) })
        try Self.check(path, frameCount: 48)
    }
}
