import Foundation
import Testing

/// `videossl bench` on a two-block TimeSformer: the JSON report, its figures, and the memory
/// estimate against the peak resident-set growth of the real training steps.
@Suite("videossl bench")
struct BenchCommandTests {
    /// Depth 2 at 8 frames of 112² keeps each step near a tenth of a second while the activations
    /// (tens of MiB per batch) dwarf the allocator's and BLAS's fixed costs.
    static let small = ["bench", "--model", "timesformer_tiny_8x112", "--set", "depth=2", "--batch", "4",
                        "--steps", "1", "--threads", "1", "--time", "--json"]

    static func report() throws -> [String: Any] {
        let result = try runVideoSSL(small)
        #expect(result.status == 0, "\(result.output)")
        let start = try #require(result.output.firstIndex(of: "{"), "no JSON in \(result.output)")
        let object = try JSONSerialization.jsonObject(with: Data(result.output[start...].utf8))
        return try #require(object as? [String: Any])
    }

    @Test func reportsEveryModeWithPositiveFigures() throws {
        let report = try Self.report()
        #expect(report["model"] as? String == "timesformer_tiny_8x112")
        #expect(report["batch"] as? Int == 4 && report["threads"] as? Int == 1 && report["frames"] as? Int == 8)
        #expect((report["sgemmGFLOPs"] as? Double ?? 0) > 0)
        #expect((report["parameterCount"] as? Int ?? 0) > 1_000_000)
        let results = try #require(report["results"] as? [String: [String: Double]])
        #expect(Set(results.keys) == ["train", "train+time", "infer"])
        for (mode, figures) in results {
            for key in ["clipsPerSecond", "msPerStep", "peakRSSMiB", "rssGrowthMiB", "matmulGFLOPs", "matmulGFLOPPerClip"] {
                let value = try #require(figures[key], "\(mode) lacks \(key)")
                #expect(value > 0 && value.isFinite, "\(mode).\(key) = \(value)")
            }
            let clips = figures["clipsPerSecond"]!, ms = figures["msPerStep"]!
            #expect(abs(clips * ms / 1000 - 4) < 1e-6, "clips/s × s/step is the batch")
            #expect(abs(figures["matmulGFLOPs"]! - clips * figures["matmulGFLOPPerClip"]!) < 1e-6)
        }
        // A TIME step is two forwards plus heads and a backward: a bit over twice the work.
        let ratio = results["train+time"]!["matmulGFLOPPerClip"]! / results["train"]!["matmulGFLOPPerClip"]!
        #expect(ratio > 2 && ratio < 2.2)

        let memory = try #require(report["memoryEstimate"] as? [String: [String: Double]])
        #expect(Set(memory.keys) == ["train", "train+time"])
        for (mode, estimate) in memory {
            let perClip = try #require(estimate["activationMiBPerClip"])
            #expect(abs(try #require(estimate["activationMiBPerBatch"]) - 4 * perClip) < 1e-9)
            #expect(abs(estimate["gradientMiB"]! - estimate["parameterMiB"]!) < 1e-9)
            #expect(abs(estimate["optimizerStateMiB"]! - 2 * estimate["parameterMiB"]!) < 1e-9)
            // Each estimate within ±35% of what its training step really added to the process.
            let measured = results[mode]!["rssGrowthMiB"]!, predicted = estimate["trainingOverheadMiB"]!
            #expect(abs(predicted - measured) <= 0.35 * measured,
                    "\(mode): estimated \(predicted) MiB, the step's peak RSS grew by \(measured) MiB")
        }
        #expect(memory["train+time"]!["activationMiBPerClip"]! > 1.8 * memory["train"]!["activationMiBPerClip"]!)
    }

    @Test func tableNamesTheModesAndTheEstimate() throws {
        let result = try runVideoSSL(Array(Self.small.dropLast()))
        #expect(result.status == 0, "\(result.output)")
        for text in ["sgemm probe", "clips/s", "train+time", "infer", "memory estimate (train, AdamW)", "per clip"] {
            #expect(result.output.contains(text), "missing '\(text)' in\n\(result.output)")
        }
    }

    @Test func anUnknownModelIsAClearError() throws {
        let result = try runVideoSSL(["bench", "--model", "timesformer_huge", "--json"])
        #expect(result.status != 0)
        #expect(result.output.contains("unknown backbone 'timesformer_huge'"), "\(result.output)")
        #expect(result.output.contains("timesformer_tiny_8x112"), "the valid names are listed")
    }
}
