import Foundation
import _TestSupport
import Testing
import TensorCore
import VideoIO

/// Decoding many clips from one reader must not accumulate memory: every FFmpeg frame, packet and
/// scaler buffer is reused or released per request.
///
/// Resident memory belongs to the whole process, and the other suites run in parallel inside this
/// one, so their allocations would show up as growth here. The decoding therefore runs in a process
/// of its own: `VideoIOBenchmarks memory`, which samples `VmRSS` every 100 clips.
@Suite struct MemoryTests {
    @Test func randomClipsFromOneReaderKeepResidentMemoryFlat() throws {
        let path = try Fixture.write(frames: 60, codec: .h264(crf: 20), maxBFrames: 2, keyframeInterval: 12)
        let executable = try #require(builtExecutable(named: "VideoIOBenchmarks"),
                                      "swift build --build-tests builds VideoIOBenchmarks")
        let process = Process()
        process.executableURL = executable
        process.arguments = ["memory", "--clips", "500", path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let report = try #require(try JSONSerialization.jsonObject(with: output) as? [String: Any])
        #expect(report["frames_in_video"] as? Int == 60)
        #expect((report["seeks"] as? Int ?? 0) > 50)
        let samples = try #require(report["rss_samples"] as? [[String: Double]])
        #expect(samples.count == 6)
        // One leaked 112² Float clip per request would be 400 × 1.2 MiB here.
        let growth = try #require(report["growth_after_first_100_mib"] as? Double)
        #expect(growth < 5, "resident memory grew \(growth) MiB from clip 100 to clip 500")
    }
}
