import Foundation

/// Rows of named numbers appended to a JSON Lines file and a CSV file side by side
/// (`<name>.jsonl`, `<name>.csv`), e.g. one row per optimizer step.
///
/// The columns are the union of every row's keys (`step` and `epoch` first, then alphabetical); a
/// row that brings new keys (validation metrics after the first evaluated epoch) rewrites the CSV
/// with the wider header. Missing values are empty cells in the CSV and absent keys in JSON. Reopening with `keepingRowsUpTo` drops rows whose
/// `step` is beyond it, so that a resumed run does not repeat the steps it redoes.
public final class MetricsLog {
    /// The JSON Lines file.
    public let jsonlPath: String
    /// The CSV file.
    public let csvPath: String
    /// Every row so far, in order.
    public private(set) var rows: [[String: Double]] = []
    private var columns: [String] = []

    /// Opens (or starts) the log `name` in `directory`.
    ///
    /// - Parameter keepingRowsUpTo: keep existing rows with `step` at most this; nil starts empty.
    public init(directory: String, name: String, keepingRowsUpTo step: Int? = nil) throws {
        jsonlPath = directory + "/\(name).jsonl"
        csvPath = directory + "/\(name).csv"
        if let step, let data = FileManager.default.contents(atPath: jsonlPath),
           let text = String(data: data, encoding: .utf8) {
            for line in text.split(separator: "\n") {
                guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { continue }
                var row: [String: Double] = [:]
                for (key, value) in object { if let v = value as? Double { row[key] = v } }
                if let s = row["step"], Int(s) > step { continue }
                rows.append(row)
            }
            columns = Self.ordered(Set(rows.flatMap(\.keys)))
        }
        try rewrite()
    }

    /// Appends one row to both files.
    public func append(_ row: [String: Double]) throws {
        if !columns.isEmpty, row.keys.contains(where: { !columns.contains($0) }) {
            columns = Self.ordered(Set(columns).union(row.keys))
            rows.append(row)
            try rewrite()
            return
        }
        if columns.isEmpty {
            columns = Self.ordered(row.keys)
            try append(text: columns.joined(separator: ",") + "\n", to: csvPath)
        }
        rows.append(row)
        try append(text: jsonLine(row) + "\n", to: jsonlPath)
        try append(text: csvLine(row) + "\n", to: csvPath)
    }

    /// `step` and `epoch` first, then the rest alphabetically.
    private static func ordered(_ keys: some Collection<String>) -> [String] {
        let front = ["step", "epoch"].filter { keys.contains($0) }
        return front + keys.filter { !front.contains($0) }.sorted()
    }

    private func format(_ v: Double) -> String {
        if v.rounded() == v && abs(v) < 1e15 { return String(Int(v)) }
        return "\(v)"
    }

    private func jsonLine(_ row: [String: Double]) -> String {
        let keys = columns + row.keys.filter { !columns.contains($0) }.sorted()
        let fields = keys.compactMap { key in row[key].map { "\"\(key)\":\($0.isFinite ? format($0) : "null")" } }
        return "{" + fields.joined(separator: ",") + "}"
    }

    private func csvLine(_ row: [String: Double]) -> String {
        columns.map { row[$0].map(format) ?? "" }.joined(separator: ",")
    }

    private func rewrite() throws {
        var json = "", csv = columns.isEmpty ? "" : columns.joined(separator: ",") + "\n"
        for row in rows {
            json += jsonLine(row) + "\n"
            csv += csvLine(row) + "\n"
        }
        try json.write(toFile: jsonlPath, atomically: true, encoding: .utf8)
        try csv.write(toFile: csvPath, atomically: true, encoding: .utf8)
    }

    private func append(text: String, to path: String) throws {
        guard let handle = FileHandle(forWritingAtPath: path) else {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return
        }
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
    }
}
