import Foundation
import VideoIO
import VideoTransformers

/// Top-1 accuracy on each Backgrounds Challenge variant and the BG-Gap (Xiao et al. 2021), as
/// image TIME reports them (`reference/TIME.md` §1.7). Accuracies are fractions in 0…1.
public struct BackgroundsChallengeReport: Sendable, Codable, Equatable {
    /// One variant's result.
    public struct Entry: Sendable, Codable, Equatable {
        /// The variant's folder name (`original`, `mixed_rand`, …).
        public var variant: String
        /// Images evaluated.
        public var count: Int
        /// Top-1 accuracy.
        public var top1: Double

        /// Creates an entry.
        public init(variant: String, count: Int, top1: Double) {
            self.variant = variant
            self.count = count
            self.top1 = top1
        }
    }

    /// The variants in challenge order.
    public var entries: [Entry]

    /// Creates a report from per-variant results.
    public init(entries: [Entry]) {
        self.entries = entries
    }

    /// The top-1 of `variant`, when it was evaluated.
    public func top1(_ variant: BackgroundsChallenge.Variant) -> Double? {
        entries.first { $0.variant == variant.rawValue }?.top1
    }

    /// Mixed-Same minus Mixed-Rand accuracy (``BackgroundsChallenge/backgroundGap(mixedSame:mixedRand:)``),
    /// when both were evaluated.
    public var backgroundGap: Double? {
        guard let same = top1(.mixedSame), let rand = top1(.mixedRand) else { return nil }
        return BackgroundsChallenge.backgroundGap(mixedSame: same, mixedRand: rand)
    }

    /// Evaluates `model` on every variant of `challenge` in `variants` (default: those present).
    ///
    /// Each image is one frame, decoded at its own size, its short side resized to `cropSize` and
    /// centre-cropped (one view), normalised
    /// with `mean`/`std` as in training.
    /// - Throws: ``DatasetError`` for a missing variant or class folder, and what
    ///   ``Evaluator/evaluate(_:on:shuffledFrames:subsets:)`` throws.
    public static func evaluate(
        _ model: any VideoBackbone, on challenge: BackgroundsChallenge, variants: [BackgroundsChallenge.Variant]? = nil,
        cropSize: Int, mean: [Float] = [0.5, 0.5, 0.5], std: [Float] = [0.5, 0.5, 0.5], batchSize: Int = 64
    ) throws -> BackgroundsChallengeReport {
        let configuration = EvaluationConfiguration(frames: 1, cropSize: cropSize, mean: mean, std: std, crops: 1,
                                                    batchSize: batchSize)
        let evaluator = Evaluator(configuration)
        var entries: [Entry] = []
        for variant in variants ?? challenge.availableVariants {
            let report = try evaluator.evaluate(model, on: try challenge.dataset(variant))
            entries.append(Entry(variant: variant.rawValue, count: report.count, top1: report.top1))
        }
        return BackgroundsChallengeReport(entries: entries)
    }

    /// A plain-text table: one row per variant (top-1 in percent) and the BG-Gap.
    public var table: String {
        var lines = ["variant       images   top-1"]
        for e in entries {
            lines.append(e.variant.padding(toLength: 12, withPad: " ", startingAt: 0)
                         + String(format: "%8d %6.1f%%", e.count, 100 * e.top1))
        }
        if let gap = backgroundGap { lines.append("BG-Gap (mixed_same − mixed_rand) " + String(format: "%.1f points", 100 * gap)) }
        return lines.joined(separator: "\n")
    }

    /// The report as JSON: `{"entries": [{"variant", "count", "top1"}…], "bg_gap": …}`.
    public func json() throws -> Data {
        struct Record: Encodable {
            var entries: [Entry]
            var bg_gap: Double?
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(Record(entries: entries, bg_gap: backgroundGap))
    }
}
