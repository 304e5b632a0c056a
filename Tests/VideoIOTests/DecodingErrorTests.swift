import Foundation
import Testing
import VideoIO

@Suite struct DecodingErrorTests {
    private func openError(_ path: String) -> VideoIOError? {
        do {
            _ = try VideoReader(path: path)
            return nil
        } catch {
            return error as? VideoIOError
        }
    }

    @Test func missingFileAndDirectory() {
        let missing = "/nonexistent/dir/clip.mp4"
        #expect(openError(missing) == .fileNotFound(path: missing))
        #expect(openError(missing)?.description.hasPrefix(missing) == true)
        let dir = Fixture.directory().path
        // A directory is named as such, not reported missing.
        #expect(openError(dir) == .notAVideo(path: dir, reason: "a directory, not a file"))
    }

    @Test func randomBytesAreNotAVideo() throws {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<4096).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let path = Fixture.directory().appendingPathComponent("noise.mp4").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        guard case .notAVideo(let p, _) = openError(path) else {
            Issue.record("random bytes opened as a video")
            return
        }
        #expect(p == path)
    }

    @Test func subtitleFileHasNoVideoStream() throws {
        let path = Fixture.directory().appendingPathComponent("captions.srt").path
        try "1\n00:00:00,000 --> 00:00:01,000\nhello\n\n2\n00:00:02,000 --> 00:00:03,000\nworld\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        #expect(openError(path) == .noVideoStream(path: path))
    }

    @Test func truncatedMP4WithoutIndexIsNotAVideo() throws {
        // MP4 writes its sample table (moov) last, so cutting the file loses it.
        let path = try Fixture.write()
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: path))
        guard case .notAVideo = openError(path) else {
            Issue.record("truncated MP4 did not fail as notAVideo")
            return
        }
    }

    @Test func truncatedMatroskaKeepsTheFramesBeforeTheCut() throws {
        let path = try Fixture.write(codec: .ffv1)
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        try data.prefix(data.count * 6 / 10).write(to: URL(fileURLWithPath: path))
        let reader = try VideoReader(path: path)
        #expect(reader.frameCount > 5 && reader.frameCount < 30)
        var exact = 0
        for k in 0..<reader.frameCount {
            do {
                if try reader.frame(at: k).pixels == Fixture.pattern(k) { exact += 1 }
            } catch let error as VideoIOError {
                guard case .decodeFailed(_, k, _) = error else {
                    Issue.record("unexpected \(error)")
                    continue
                }
            }
        }
        #expect(exact >= reader.frameCount - 1)
    }

    @Test func indicesOutsideTheVideoThrowBeforeDecoding() throws {
        let path = try Fixture.write(frames: 5)
        let reader = try VideoReader(path: path)
        #expect(throws: VideoIOError.indexOutOfRange(path: path, index: 5, frameCount: 5)) {
            try reader.frame(at: 5)
        }
        #expect(throws: VideoIOError.indexOutOfRange(path: path, index: -1, frameCount: 5)) {
            try reader.frames(at: [0, -1])
        }
        #expect(reader.decodedFrameCount == 0)
        #expect(try reader.frame(at: 4).pixels == Fixture.pattern(4))
    }

    @Test func errorDescriptionNamesPathAndHint() {
        let e = VideoIOError.decodeFailed(path: "a.mp4", frameIndex: 7, reason: "bad data")
        #expect(e.description == "a.mp4: could not decode frame 7 (bad data); \(e.hint)")
        #expect(e.path == "a.mp4")
    }
}
