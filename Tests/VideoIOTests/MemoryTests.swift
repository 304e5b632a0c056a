import Foundation
import Testing
import TensorCore
import VideoIO

/// Resident memory of this process in bytes (`VmRSS` in `/proc/self/status`), or nil off Linux.
private func residentBytes() -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
        let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
    else { return nil }
    let kilobytes = line.split(separator: " ").compactMap { Int($0) }.first
    return kilobytes.map { $0 * 1024 }
}

/// Decoding many clips from one reader must not accumulate memory: every FFmpeg frame, packet and
/// scaler buffer is reused or released per request. (`VideoIOBenchmarks --memory` runs the
/// 1,000-clip version and prints the samples.)
@Suite struct MemoryTests {
    @Test func randomClipsFromOneReaderKeepResidentMemoryFlat() throws {
        guard residentBytes() != nil else { return }
        let path = try Fixture.write(frames: 60, codec: .h264(crf: 20), maxBFrames: 2, keyframeInterval: 12)
        let reader = try VideoReader(path: path)
        #expect(reader.frameCount == 60)
        var generator = RandomGenerator(seed: 11)
        let sampler = RandomClipSampler(clipLength: 8, interval: 2)
        let size = FrameSize(width: 112, height: 112)
        var checksum = 0.0
        func decode(_ clips: Int) throws {
            for _ in 0..<clips {
                let indices = sampler.clips(frameCount: reader.frameCount, using: &generator)[0].frameIndices
                // `frames(at:)` rather than `clip(at:)`: the same decode path without the Float
                // conversion, which dominates a debug build's time.
                let frames = try reader.frames(at: indices, size: size)
                checksum += Double(frames.count * frames[0].pixels.count) / Double(112 * 112 * 3)
            }
        }
        // Warm-up: the scaler context, the output buffer and malloc's arenas reach their size.
        try decode(40)
        let before = residentBytes()!
        var peak = before
        for _ in 0..<8 {
            try decode(25)
            peak = max(peak, residentBytes()!)
        }
        let growth = Double(peak - before) / 1_048_576
        #expect(checksum == 8 * 240)
        // One leaked 112² clip per request would be 200 × 301 KiB ≈ 59 MiB here.
        #expect(growth < 10, "resident memory grew \(growth) MiB over 200 clips")
        #expect(reader.seekCount > 20)
    }
}
