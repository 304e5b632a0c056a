import Foundation
import TensorCore

/// Counts of (true class, predicted class) pairs: row `y`, column `p`.
public struct ConfusionMatrix: Sendable, Codable, Equatable {
    /// `counts[y][p]`: samples of class `y` predicted as `p`.
    public var counts: [[Int]]

    /// An all-zero `classCount` × `classCount` matrix.
    public init(classCount: Int) {
        precondition(classCount > 0, "ConfusionMatrix: class count \(classCount) must be positive")
        counts = Array(repeating: Array(repeating: 0, count: classCount), count: classCount)
    }

    /// The matrix of the first-maximum predictions of `logits` `[N, K]` against `labels`.
    public init(logits: Tensor, labels: [Int]) {
        let (_, k) = ClassificationMetrics.checkedShape(logits, labels: labels, op: "ConfusionMatrix")
        self.init(classCount: k)
        for (p, y) in zip(ClassificationMetrics.predictions(logits), labels) { counts[y][p] += 1 }
    }

    /// The number of classes.
    public var classCount: Int { counts.count }

    /// The number of samples counted.
    public var total: Int { counts.reduce(0) { $0 + $1.reduce(0, +) } }

    /// CSV text: a header `true\predicted` followed by the class names (or indices), then one row
    /// per true class starting with its name.
    public func csv(classNames: [String]? = nil) -> String {
        let names = classNames.flatMap { $0.count == classCount ? $0 : nil } ?? (0..<classCount).map(String.init)
        var lines = [(["true\\predicted"] + names).map(ConfusionMatrix.csvField).joined(separator: ",")]
        for (y, row) in counts.enumerated() {
            lines.append(([ConfusionMatrix.csvField(names[y])] + row.map(String.init)).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Writes ``csv(classNames:)`` to `path`.
    ///
    /// - Throws: ``EvaluationError/writeFailed(path:reason:)``.
    public func writeCSV(to path: String, classNames: [String]? = nil) throws(EvaluationError) {
        try EvaluationError.write(Data(csv(classNames: classNames).utf8), to: path)
    }

    /// Quotes a field holding a comma, quote or line break (RFC 4180).
    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
