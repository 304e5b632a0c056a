import Foundation
import Testing
import TensorCore
import VideoIO
import _TestSupport

@Suite struct DecodingExactTests {
    @Test func everyIndexDecodesToItsOwnFrame() throws {
        let path = try Fixture.write()
        let reader = try VideoReader(path: path)
        #expect(reader.frameCount == 30)
        for k in 0..<30 {
            let frame = try reader.frame(at: k)
            #expect(frame.index == k)
            #expect(frame.width == Fixture.width && frame.height == Fixture.height)
            #expect(frame.pixels == Fixture.pattern(k), "frame \(k)")
            #expect(abs(frame.timestamp - Double(k) / 30) < 1e-9)
        }
    }

    @Test func metadataOfLosslessStream() throws {
        let path = try Fixture.write()
        let m = try VideoReader(path: path).metadata
        #expect(m.frameCount == 30)
        #expect(m.width == 64 && m.height == 48)
        #expect(abs(m.fps - 30) < 1e-9)
        #expect(abs(m.duration - 1.0) < 1e-9)
        #expect(m.rotation == 0)
        #expect(m.codecName == (VideoCodecChoice.bestLossless == .ffv1 ? "ffv1" : "h264"))
    }

    @Test(arguments: [1, 3])
    func bFrameStreamComesOutInPresentationOrder(bFrames: Int) throws {
        // x264 emits no B-frames in lossless mode, so this stream is lossy; each decoded frame is
        // identified by its mean red level.
        try #require(VideoCodecChoice.isAvailable(.h264(crf: 12)))
        let path = try Fixture.write(codec: .h264(crf: 12), maxBFrames: bFrames, keyframeInterval: 12)
        let reader = try VideoReader(path: path)
        #expect(reader.frameCount == 30)
        #expect(reader.metadata.containerFrameCount == 30)
        // Backwards, so that every request needs a seek into a GOP whose decode order differs.
        for k in stride(from: 29, through: 0, by: -1) {
            let (nearest, error) = Fixture.identify(try reader.frame(at: k).pixels)
            #expect(nearest == k && error < 12, "frame \(k) looks like \(nearest) (error \(error))")
        }
        let scattered = [20, 3, 13, 14, 29, 1]
        let frames = try reader.frames(at: scattered)
        #expect(frames.map { Fixture.identify($0.pixels).index } == scattered)
    }

    @Test func framesAtReturnsCallerOrderWithRepeats() throws {
        let path = try Fixture.write()
        let reader = try VideoReader(path: path)
        let wanted = [17, 3, 29, 3, 0, 12, 28]
        let frames = try reader.frames(at: wanted)
        #expect(frames.map(\.index) == wanted)
        for (k, f) in zip(wanted, frames) {
            #expect(f.pixels == Fixture.pattern(k), "frame \(k)")
        }
    }

    @Test func sequentialRequestDecodesEachFrameOnceWithOneSeek() throws {
        let path = try Fixture.write()
        let reader = try VideoReader(path: path)
        let frames = try reader.frames(at: Array(0..<30))
        #expect(frames.enumerated().allSatisfy { $0.element.pixels == Fixture.pattern($0.offset) })
        #expect(reader.seekCount == 1)
        #expect(reader.decodedFrameCount == 30)
    }

    @Test func sparseForwardRequestSeeksPastWholeGOPs() throws {
        // GOPs of 10: frames 2 and 27 are far apart, so the reader should jump to keyframe 20
        // instead of decoding 20 unneeded frames.
        let path = try Fixture.write(keyframeInterval: 10)
        let reader = try VideoReader(path: path)
        let frames = try reader.frames(at: [27, 2])
        #expect(frames[0].pixels == Fixture.pattern(27) && frames[1].pixels == Fixture.pattern(2))
        #expect(reader.seekCount == 2)
        #expect(reader.decodedFrameCount <= 3 + 8)
    }

    @Test func ffv1InMatroskaIsExactAndCountedWithoutContainerCount() throws {
        let path = try Fixture.write(frames: 12, codec: .ffv1)
        let reader = try VideoReader(path: path)
        #expect(reader.metadata.codecName == "ffv1")
        // Matroska does not store a frame count; the reader counts packets instead.
        #expect(reader.metadata.containerFrameCount == nil)
        #expect(reader.frameCount == 12)
        #expect(try reader.frames(at: [11, 5, 0]).map(\.pixels) == [11, 5, 0].map { Fixture.pattern($0) })
    }

    @Test func lossyMPEG4StaysCloseToTheSource() throws {
        let path = try Fixture.write(frames: 6, codec: .mpeg4(quantizer: 2))
        let reader = try VideoReader(path: path)
        #expect(reader.metadata.codecName == "mpeg4")
        let decoded = try reader.frame(at: 4).pixels
        let source = Fixture.pattern(4)
        let meanError = zip(decoded, source).map { abs(Double($0) - Double($1)) }.reduce(0, +) / Double(source.count)
        #expect(meanError < 6, "mean absolute error \(meanError)")
    }
}
