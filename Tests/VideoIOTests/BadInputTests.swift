import Foundation
import Testing
import VideoIO

/// Malformed and unexpected inputs: each must surface as a typed ``VideoIOError`` naming the file,
/// never a crash, whether it fails at open or only when frames are decoded.
@Suite struct BadInputTests {
    /// What happened to one input: the error from opening, or from decoding each frame after it.
    private enum Outcome {
        case openFailed(VideoIOError)
        case opened(frameCount: Int, decodeErrors: [VideoIOError])
    }

    /// Opens `path` and, if that works, decodes every frame (at stored size and at 32²), so that any
    /// path through the decoder that could trap is exercised.
    private func attempt(_ path: String) throws -> Outcome {
        let reader: VideoReader
        do {
            reader = try VideoReader(path: path)
        } catch let error as VideoIOError {
            return .openFailed(error)
        }
        var errors: [VideoIOError] = []
        for k in 0..<reader.frameCount {
            for size in [nil, FrameSize(width: 32, height: 32)] {
                do {
                    _ = try reader.frame(at: k, size: size)
                } catch let error as VideoIOError {
                    errors.append(error)
                }
            }
        }
        return .opened(frameCount: reader.frameCount, decodeErrors: errors)
    }

    /// The error from opening, checked to name the file in both `path` and the message.
    private func openError(_ path: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> VideoIOError? {
        guard case .openFailed(let error) = try attempt(path) else {
            Issue.record("\(path) opened as a video", sourceLocation: sourceLocation)
            return nil
        }
        #expect(error.path == path, sourceLocation: sourceLocation)
        #expect(error.description.hasPrefix(path + ": "), sourceLocation: sourceLocation)
        return error
    }

    private func file(_ name: String, _ bytes: [UInt8]) throws -> String {
        let path = Fixture.directory().appendingPathComponent(name).path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func missingFile() throws {
        let path = Fixture.directory().appendingPathComponent("never-written.mp4").path
        #expect(try openError(path) == .fileNotFound(path: path))
    }

    @Test func emptyFile() throws {
        let path = try file("empty.mp4", [])
        guard case .notAVideo(_, let reason) = try openError(path) else {
            Issue.record("an empty file did not fail as notAVideo")
            return
        }
        #expect(!reason.isEmpty)
    }

    /// Cut at several points: before the header ends, mid-stream, and just short of the end (MP4
    /// writes its sample table last, so every cut loses it).
    @Test(arguments: [0.01, 0.5, 0.97])
    func truncatedMP4(keeping fraction: Double) throws {
        let source = try Fixture.write(codec: .h264(crf: 20), maxBFrames: 2)
        let data = try [UInt8](Data(contentsOf: URL(fileURLWithPath: source)))
        let path = try file("cut.mp4", Array(data.prefix(Int(Double(data.count) * fraction))))
        guard case .notAVideo = try openError(path) else {
            Issue.record("an MP4 cut at \(fraction) did not fail as notAVideo")
            return
        }
    }

    /// An HLS playlist saved as `.mp4` names a real video by absolute path; the reader refuses the
    /// playlist (its demuxer follows references) instead of opening the file it points to. A
    /// `concat` list is refused the same way, and the real video still opens directly.
    @Test func playlistsNamedMP4AreRefused() throws {
        let target = try Fixture.write(codec: .h264(crf: 20), maxBFrames: 0)
        #expect(try VideoReader(path: target).frameCount > 0)
        let hls = try file("playlist.mp4", Array("#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\n\(target)\n#EXT-X-ENDLIST\n".utf8))
        guard case .notAVideo = try openError(hls) else {
            Issue.record("an HLS playlist opened as a video")
            return
        }
        let concat = try file("list.mp4", Array("ffconcat version 1.0\nfile '\(target)'\n".utf8))
        guard case .notAVideo = try openError(concat) else {
            Issue.record("a concat list opened as a video")
            return
        }
    }

    @Test func randomBytesNamedMP4() throws {
        var generator = RandomBytes(seed: 7)
        let path = try file("noise.mp4", (0..<65536).map { _ in generator.next() })
        guard case .notAVideo = try openError(path) else {
            Issue.record("random bytes did not fail as notAVideo")
            return
        }
    }

    /// Damage inside the coded frames (the container intact) may decode to garbage or fail per
    /// frame; both are fine, as long as failures are typed and name the frame's file.
    @Test func corruptedPayloadInsideAValidContainer() throws {
        let source = try Fixture.write(codec: .h264(crf: 20), maxBFrames: 2)
        var data = try [UInt8](Data(contentsOf: URL(fileURLWithPath: source)))
        var generator = RandomBytes(seed: 3)
        // The MP4 header (ftyp plus the mdat box header) is well under 100 bytes; the sample table
        // sits in the last part of the file and is left alone.
        for i in 100..<(data.count / 2) { data[i] = generator.next() }
        let path = try file("scrambled.mp4", data)
        switch try attempt(path) {
        case .openFailed(let error):
            #expect(error.path == path)
        case .opened(let frameCount, let errors):
            #expect(frameCount == 30)
            for error in errors {
                guard case .decodeFailed(path, _, _) = error else {
                    Issue.record("unexpected \(error)")
                    continue
                }
            }
        }
    }

    /// A valid 16-bit PCM WAV: a real media file, but with no picture in it.
    @Test func audioOnlyFile() throws {
        let rate = 8000, samples = 800
        var bytes = [UInt8]()
        func put(_ s: String) { bytes += Array(s.utf8) }
        func put32(_ v: Int) { bytes += withUnsafeBytes(of: UInt32(v).littleEndian, Array.init) }
        func put16(_ v: Int) { bytes += withUnsafeBytes(of: UInt16(v).littleEndian, Array.init) }
        put("RIFF"); put32(36 + 2 * samples); put("WAVE")
        put("fmt "); put32(16); put16(1); put16(1); put32(rate); put32(2 * rate); put16(2); put16(16)
        put("data"); put32(2 * samples)
        for n in 0..<samples { put16(Int(Int16(8000 * sin(Double(n) * 0.3))) & 0xFFFF) }
        let path = try file("tone.wav", bytes)
        #expect(try openError(path) == .noVideoStream(path: path))
    }

    /// A real MP4 whose sample entry names a codec FFmpeg does not know: the container and the
    /// stream parse, but there is no decoder.
    @Test func unsupportedCodec() throws {
        let source = try Fixture.write(codec: .h264(crf: 20))
        var data = try [UInt8](Data(contentsOf: URL(fileURLWithPath: source)))
        let avc1 = Array("avc1".utf8)
        let at = try #require((0...(data.count - 4)).last { Array(data[$0..<($0 + 4)]) == avc1 })
        data.replaceSubrange(at..<(at + 4), with: Array("zzv9".utf8))
        let path = try file("unknown-codec.mp4", data)
        guard case .codecUnsupported(_, let codec) = try openError(path) else {
            Issue.record("an unknown sample entry did not fail as codecUnsupported")
            return
        }
        #expect(codec == "unknown codec tag 'zzv9'")
    }

    /// YUV4MPEG headers state the picture size in plain text, so a lie is easy to write.
    @Test(arguments: [(1_000_000, 1_000_000), (65_536, 65_536), (16_000, 16_000)])
    func headerClaimingAbsurdDimensions(width: Int, height: Int) throws {
        let header = "YUV4MPEG2 W\(width) H\(height) F30:1 Ip A1:1 C420jpeg\n"
        let payload = [UInt8](repeating: 128, count: 4096)
        let bytes = Array(header.utf8) + Array("FRAME\n".utf8) + payload + Array("FRAME\n".utf8) + payload
        let path = try file("huge.y4m", bytes)
        switch try attempt(path) {
        case .openFailed(let error):
            #expect(error.path == path)
            #expect(error.description.hasPrefix(path + ": "))
        case .opened(let frameCount, let errors):
            // FFmpeg 5.1 accepts 16000² (its size check allows up to about 2^28 pixels), but every
            // frame is far too short for it, so the demuxer keeps none; asking for one is a typed
            // error, never a read past the data.
            #expect(frameCount <= 2)
            #expect(errors.count == 2 * frameCount)
            #expect(errors.allSatisfy { $0.path == path })
            let reader = try VideoReader(path: path)
            #expect(throws: VideoIOError.indexOutOfRange(path: path, index: frameCount, frameCount: frameCount)) {
                try reader.frame(at: frameCount)
            }
        }
    }

    /// A PNG whose header claims 100000×100000: it opens as a one-frame image stream, and decoding
    /// that frame is refused by the decoder's size check.
    @Test func pngClaimingAbsurdDimensions() throws {
        func chunk(_ type: String, _ body: [UInt8]) -> [UInt8] {
            let typed = Array(type.utf8) + body
            return bigEndian(body.count) + typed + bigEndian(Int(crc32(typed)))
        }
        let side = bigEndian(100_000)
        let header = side + side + [8, 2, 0, 0, 0]  // 8-bit RGB, no interlace
        let bytes = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", header)
            + chunk("IDAT", [0x78, 0x9C, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01]) + chunk("IEND", [])
        let path = try file("huge.png", bytes)
        switch try attempt(path) {
        case .openFailed(let error):
            #expect(error.path == path)
        case .opened(let frameCount, let errors):
            #expect(frameCount == 1)
            #expect(errors.count == 2)
            #expect(errors.allSatisfy { if case .decodeFailed(path, 0, _) = $0 { true } else { false } })
        }
    }
}

private func bigEndian(_ v: Int) -> [UInt8] { withUnsafeBytes(of: UInt32(v).bigEndian, Array.init) }

/// CRC-32 (ISO 3309, as PNG uses it), bit by bit: only a few short chunks are checksummed.
private func crc32(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }
    return ~crc
}

/// A tiny deterministic byte source (xorshift64) for corrupt payloads.
private struct RandomBytes {
    private var state: UInt64

    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }

    mutating func next() -> UInt8 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return UInt8(truncatingIfNeeded: state >> 24)
    }
}

@Suite struct SmallInputReportTests {
    @Test func aDirectoryIsNotReportedAsMissing() throws {
        let folder = Fixture.directory().path
        #expect(throws: VideoIOError.notAVideo(path: folder, reason: "a directory, not a file")) {
            _ = try VideoReader(path: folder)
        }
    }
}
