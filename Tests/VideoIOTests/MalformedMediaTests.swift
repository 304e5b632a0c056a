import Foundation
import Testing
import VideoIO

/// The malformed-media corpus of `Scripts/reference/make_malformed_media.py` (table in the DocC
/// article "Loading video for training"): each file opens and decodes to its expected frames or
/// fails with its expected typed error; truncations at many offsets and bit flips of every
/// decodable file end in a typed error or decoded frames — never a signal, which would end this
/// test process.
@Suite struct MalformedMediaTests {
    struct Case: Decodable {
        var file: String
        var expect: String
        var frames: Int?
        var width: Int?
        var height: Int?
        var error: String?
    }

    static let folder = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/malformed")

    static func cases() throws -> [Case] {
        try JSONDecoder().decode([Case].self, from: Data(contentsOf: folder.appendingPathComponent("manifest.json")))
    }

    /// The name of a VideoIOError case, as the manifest writes it.
    static func name(_ error: VideoIOError) -> String {
        String(String(describing: Mirror(reflecting: error).children.first?.label ?? "\(error)").prefix { $0 != "(" })
    }

    /// Opens and decodes every frame at the stored size and at 32²; the frames decoded, or the error.
    static func decode(_ path: String) -> (frames: Int, width: Int, height: Int, errors: [VideoIOError], open: VideoIOError?) {
        let reader: VideoReader
        do { reader = try VideoReader(path: path) } catch let error as VideoIOError {
            return (0, 0, 0, [], error)
        } catch {
            Issue.record("\(path): untyped error \(error)")
            return (0, 0, 0, [], nil)
        }
        var errors: [VideoIOError] = [], decoded = 0, size = (0, 0)
        for k in 0..<reader.frameCount {
            for target in [nil, FrameSize(width: 32, height: 32)] {
                do {
                    let frame = try reader.frame(at: k, size: target)
                    if target == nil { decoded += 1; size = (frame.width, frame.height) }
                } catch let error as VideoIOError {
                    errors.append(error)
                } catch {
                    Issue.record("\(path) frame \(k): untyped error \(error)")
                }
            }
        }
        return (decoded, size.0, size.1, errors, nil)
    }

    @Test func everyFileHasItsExpectedOutcome() throws {
        let cases = try Self.cases()
        #expect(cases.count >= 14)
        for c in cases {
            let result = Self.decode(Self.folder.appendingPathComponent(c.file).path)
            if c.expect == "frames" {
                #expect(result.open == nil && result.errors.isEmpty, "\(c.file): \(String(describing: result.open)) \(result.errors)")
                #expect(result.frames == c.frames && result.width == c.width && result.height == c.height,
                        "\(c.file): \(result.frames) frames of \(result.width)x\(result.height)")
            } else {
                let error = try #require(result.open, "\(c.file) opened")
                #expect(Self.name(error) == c.error, "\(c.file): \(error)")
                #expect(error.path.hasSuffix(c.file))
            }
        }
    }

    @Test func truncationsAndBitFlipsEndInTypedErrorsOrFrames() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("malformed-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        var variants = 0
        for c in try Self.cases() where c.expect == "frames" {
            let bytes = try [UInt8](Data(contentsOf: Self.folder.appendingPathComponent(c.file)))
            let ext = (c.file as NSString).pathExtension
            var damaged: [[UInt8]] = stride(from: 0, to: bytes.count, by: max(1, bytes.count / 24)).map { Array(bytes.prefix($0)) }
            var seed: UInt64 = 0x9E37_79B9_7F4A_7C15 &* UInt64(bytes.count)
            for _ in 0..<24 {
                seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                var copy = bytes
                copy[Int(seed >> 33) % copy.count] ^= UInt8(truncatingIfNeeded: 1 << ((seed >> 20) % 8))
                damaged.append(copy)
            }
            for (k, variant) in damaged.enumerated() {
                let path = scratch.appendingPathComponent("\(c.file)-\(k).\(ext)").path
                try Data(variant).write(to: URL(fileURLWithPath: path))
                _ = Self.decode(path)  // any typed outcome is acceptable; reaching here means no signal
                variants += 1
            }
        }
        #expect(variants >= 8 * 40)
    }

    @Test func aTransportStreamCutAtAnyPacketCountsOnlyTheFramesThatDecode() throws {
        // MPEG-TS has no index and 188-byte packets: a cut between packets looks like a complete
        // file to the demuxer, so the last frame's data may be missing without any sign of damage.
        let bytes = try Data(contentsOf: Self.folder.appendingPathComponent("bframes.ts"))
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("ts-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        var opened = 0, shortened = 0
        for cut in stride(from: 188, to: bytes.count, by: 188) {
            let path = scratch.appendingPathComponent("cut-\(cut).ts").path
            try bytes.prefix(cut).write(to: URL(fileURLWithPath: path))
            let result = Self.decode(path)
            guard result.open == nil else { continue }
            opened += 1
            // Every frame the reader counts decodes, at full size and resized.
            #expect(result.errors.isEmpty, "cut at \(cut): \(result.errors)")
            if result.frames < 8 { shortened += 1 }
        }
        #expect(opened >= 10 && shortened >= 5, "\(opened) cuts opened, \(shortened) with fewer frames")
    }
}
