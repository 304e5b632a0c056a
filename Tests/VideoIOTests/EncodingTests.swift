import Foundation
import Testing
import VideoIO

@Suite struct EncodingTests {
    @Test func rotationIsStoredAsDisplayMatrix() throws {
        try #require(VideoCodecChoice.isAvailable(.h264LosslessRGB))
        for rotation in [90, 180, 270] {
            let path = try Fixture.write(frames: 2, codec: .h264LosslessRGB, rotation: rotation)
            let reader = try VideoReader(path: path)
            #expect(reader.metadata.rotation == rotation)
            // Frames come back as stored, not rotated.
            #expect(try reader.frame(at: 1).width == Fixture.width)
        }
    }

    @Test func h264YUVIsCloseToTheSource() throws {
        try #require(VideoCodecChoice.isAvailable(.h264(crf: 0)))
        let path = try Fixture.write(frames: 5, codec: .h264(crf: 10), maxBFrames: 2)
        let reader = try VideoReader(path: path)
        #expect(reader.frameCount == 5)
        for k in [4, 0, 2] {
            let (nearest, error) = Fixture.identify(try reader.frame(at: k).pixels)
            // Lossy 4:2:0 blurs the ramps, but the frame stays recognisably itself.
            #expect(nearest == k && error < 12, "frame \(k) looks like \(nearest) (error \(error))")
        }
    }

    @Test func writerCountsFramesAndRoundTripsVideoFrames() throws {
        let source = try VideoReader(path: try Fixture.write(frames: 4))
        let path = Fixture.directory().appendingPathComponent("copy.mkv").path
        let writer = try VideoWriter(path: path, width: Fixture.width, height: Fixture.height, fps: 25, codec: .ffv1)
        for k in [3, 2, 1, 0] { try writer.append(try source.frame(at: k)) }
        #expect(writer.frameCount == 4)
        try writer.finish()
        try writer.finish()
        let copy = try VideoReader(path: path)
        #expect(abs(copy.metadata.fps - 25) < 1e-9)
        #expect(try copy.frames(at: [0, 3]).map(\.pixels) == [Fixture.pattern(3), Fixture.pattern(0)])
    }

    @Test func unwritablePathsThrow() {
        let inMissingDir = "/nonexistent/dir/out.mp4"
        #expect(throws: VideoIOError.self) {
            try VideoWriter(path: inMissingDir, width: 8, height: 8, fps: 30, codec: .mpeg4(quantizer: 2))
        }
        let unknownExtension = Fixture.directory().appendingPathComponent("out.notavideo").path
        #expect(throws: VideoIOError.self) {
            try VideoWriter(path: unknownExtension, width: 8, height: 8, fps: 30, codec: .mpeg4(quantizer: 2))
        }
        // MP4 has no FFV1 mapping: the header write must fail cleanly.
        let ffv1InMP4 = Fixture.directory().appendingPathComponent("out.mp4").path
        do {
            _ = try VideoWriter(path: ffv1InMP4, width: 8, height: 8, fps: 30, codec: .ffv1)
            Issue.record("FFV1 in MP4 was accepted")
        } catch let error as VideoIOError {
            guard case .encodeFailed(let p, _) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(p == ffv1InMP4)
        } catch {
            Issue.record("untyped error \(error)")
        }
    }
}
