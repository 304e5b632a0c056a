import Foundation
import TensorCore

/// Where a model's initial weights come from: a checkpoint file and how its keys map to the
/// model's (a recipe's `model.weights`, `model.key_map`, `model.prefix` and `model.skip`).
public struct WeightSource: Sendable, Equatable {
    /// A safetensors file or a PyTorch `.pth`/`.pyth` archive.
    public var path: String
    /// A name from ``KeyMaps/names``.
    public var keyMap: String
    /// When set, only checkpoint keys starting with it are used, with the prefix removed
    /// (`backbone.`, `encoder.`, `module.`); applied before the key map.
    public var prefix: String?
    /// Key patterns (`*` matches any run of characters) left at initialisation: model keys that
    /// match keep their initial values and checkpoint keys that match are ignored.
    public var skip: [String]

    /// Creates a source.
    public init(path: String, keyMap: String = "auto", prefix: String? = nil, skip: [String] = []) {
        self.path = path
        self.keyMap = keyMap
        self.prefix = prefix
        self.skip = skip
    }

    /// Whether `key` matches one of the ``skip`` patterns.
    public func skips(_ key: String) -> Bool {
        skip.contains { WeightSource.matches(key, pattern: $0) }
    }

    /// Glob matching with `*` only (iterative, no backtracking blow-up).
    static func matches(_ key: String, pattern: String) -> Bool {
        let k = Array(key.utf8), p = Array(pattern.utf8)
        var (i, j, star, mark) = (0, 0, -1, 0)
        while i < k.count {
            if j < p.count && p[j] != UInt8(ascii: "*") && p[j] == k[i] {
                i += 1; j += 1
            } else if j < p.count && p[j] == UInt8(ascii: "*") {
                star = j; mark = i; j += 1
            } else if star >= 0 {
                j = star + 1; mark += 1; i = mark
            } else {
                return false
            }
        }
        while j < p.count && p[j] == UInt8(ascii: "*") { j += 1 }
        return j == p.count
    }
}

/// What loading a ``WeightSource`` into a model did, key by key.
public struct WeightReport: Sendable, CustomStringConvertible {
    /// A tensor whose grid or frame count was resampled to the model's.
    public struct Resampled: Sendable, Equatable {
        /// The model key.
        public var key: String
        /// The checkpoint's shape.
        public var from: [Int]
        /// The model's shape.
        public var to: [Int]

        /// Creates a record.
        public init(key: String, from: [Int], to: [Int]) {
            self.key = key
            self.from = from
            self.to = to
        }
    }

    /// The checkpoint file.
    public var path: String
    /// The key map applied.
    public var keyMap: String
    /// Model keys loaded from the checkpoint unchanged, in model order.
    public var loaded: [String] = []
    /// Model keys loaded after resampling (position and time embeddings).
    public var resampled: [Resampled] = []
    /// Model keys a ``WeightSource/skip`` pattern left at initialisation.
    public var skipped: [String] = []
    /// Checkpoint keys a skip pattern set aside.
    public var ignored: [String] = []
    /// Model keys the checkpoint lacks that start from initialisation: an objective's heads, and
    /// layers the key map says the source has no weights for (``KeyMapResult/initialised``).
    public var initialised: [String] = []
    /// Model keys the checkpoint lacks (an error unless allowed).
    public var missing: [String] = []
    /// Checkpoint keys the model has no place for (an error unless skipped).
    public var unexpected: [String] = []
    /// Keys on both sides whose shapes differ and cannot be resampled.
    public var mismatched: [StateDictReport.ShapeMismatch] = []
    /// Keys the key map created (copies, zero tensors) or dropped, and its notes.
    public var created: [String] = [], dropped: [String] = [], notes: [String] = []

    /// Whether the load is allowed: nothing missing, unexpected or mismatched.
    public var isAcceptable: Bool { missing.isEmpty && unexpected.isEmpty && mismatched.isEmpty }

    /// A report of one line per category, listing keys (at most 12 per line).
    public var description: String {
        func list(_ keys: [String]) -> String {
            let shown = keys.prefix(12).joined(separator: ", ")
            return keys.count > 12 ? shown + ", … (\(keys.count - 12) more)" : shown
        }
        var lines = ["weights \(path) (key map \(keyMap)):", "  loaded: \(loaded.count) tensors"]
        if !resampled.isEmpty {
            lines.append("  resampled (\(resampled.count)): " + list(resampled.map { "\($0.key) \($0.from) → \($0.to)" }))
        }
        if !created.isEmpty { lines.append("  created by the key map (\(created.count)): \(list(created))") }
        if !dropped.isEmpty { lines.append("  dropped by the key map (\(dropped.count)): \(list(dropped))") }
        if !skipped.isEmpty { lines.append("  skipped, left at initialisation (\(skipped.count)): \(list(skipped))") }
        if !ignored.isEmpty { lines.append("  checkpoint keys ignored by skip (\(ignored.count)): \(list(ignored))") }
        if !initialised.isEmpty { lines.append("  not in the checkpoint, initialised (\(initialised.count)): \(list(initialised))") }
        if !missing.isEmpty { lines.append("  MISSING (\(missing.count)): \(list(missing))") }
        if !unexpected.isEmpty { lines.append("  UNEXPECTED (\(unexpected.count)): \(list(unexpected))") }
        if !mismatched.isEmpty {
            lines.append("  SHAPE MISMATCH (\(mismatched.count)): "
                         + list(mismatched.map { "\($0.key) model \($0.expected) checkpoint \($0.found)" }))
        }
        lines += notes.map { "  note: \($0)" }
        return lines.joined(separator: "\n")
    }
}

/// A ``WeightSource`` did not fit the model; nothing was loaded.
public struct WeightImportError: Error, Sendable, CustomStringConvertible {
    /// The key-by-key report.
    public var report: WeightReport

    /// The report with a hint on how to allow the differences.
    public var description: String {
        var hint = "nothing was loaded; fix the checkpoint or the recipe"
        if !report.mismatched.isEmpty || !report.unexpected.isEmpty || !report.missing.isEmpty {
            hint += " (for example `model.skip: [\"head.*\"]` when the class count differs, "
                + "`model.prefix` to select a sub-dict, or another `model.key_map`)"
        }
        return "\(report)\n\(hint)"
    }
}

/// Initialising a model from a foreign or earlier checkpoint: read, select, map, resample,
/// check strictly, then assign everything at once.
public enum WeightImport {
    /// Loads `source` into `model` (parameters and buffers), resampling position (`*pos_embed`,
    /// bicubic over the patch grid) and time embeddings (`*time_embed`, `*temp_embed`, nearest)
    /// whose sizes differ.
    ///
    /// - Parameters:
    ///   - config: the backbone's configuration (key maps such as timm inflation read it).
    ///   - mayInitialise: model keys allowed to be absent from the checkpoint (an objective's heads).
    /// - Throws: ``CheckpointError`` for an unreadable file, a refused key map or an absent prefix,
    ///   ``KeyMaps/RegistryError`` for an unknown map, ``WeightImportError`` when the weights do not
    ///   fit; in every case the model is unchanged.
    @discardableResult
    public static func load(
        _ source: WeightSource, into model: Module, config: any BackboneConfiguration,
        mayInitialise: (String) -> Bool = { _ in false }
    ) throws -> WeightReport {
        let imported = try Checkpoint.load(contentsOf: URL(fileURLWithPath: source.path))
        var tensors = imported.tensors
        if let prefix = source.prefix, !prefix.isEmpty {
            tensors = tensors.filter { $0.0.hasPrefix(prefix) }.map { (String($0.0.dropFirst(prefix.count)), $0.1) }
            guard !tensors.isEmpty else {
                let sample = imported.names.prefix(5).joined(separator: ", ")
                throw CheckpointError.keyMapRefused(
                    map: "prefix", reason: "no key of \(source.path) starts with '\(prefix)' (keys begin: \(sample))")
            }
        }
        let mapped = try KeyMaps.apply(source.keyMap, to: tensors, context: KeyMapContext(config: config))
        var (report, assignments) = plan(mapped, for: model, skip: source.skip, mayInitialise: mayInitialise)
        report.path = source.path
        report.keyMap = source.keyMap
        if !imported.integerTensors.isEmpty {
            report.notes.append("integer tensors not loaded: \(imported.integerTensors.map(\.name).joined(separator: ", "))")
        }
        guard report.isAcceptable else { throw WeightImportError(report: report) }
        try model.loadStateDict(assignments, strict: false)
        return report
    }

    /// What loading `mapped` into `model` would do, without changing the model: the report and the
    /// (key, tensor) assignments (resampled where needed). `videossl convert` checks a conversion
    /// with it.
    public static func plan(
        _ mapped: KeyMapResult, for model: Module, skip: [String] = [], mayInitialise: (String) -> Bool = { _ in false }
    ) -> (report: WeightReport, assignments: [(String, Tensor)]) {
        let skips = { (key: String) in skip.contains { WeightSource.matches(key, pattern: $0) } }
        var report = WeightReport(path: "", keyMap: "")
        report.created = mapped.created
        report.dropped = mapped.dropped
        report.notes = mapped.notes

        var available: [String: Tensor] = [:]
        for (key, tensor) in mapped.tensors where available[key] == nil {
            if skips(key) { report.ignored.append(key) } else { available[key] = tensor }
        }
        var assignments: [(String, Tensor)] = []
        var used = Set<String>()
        for (key, current) in model.stateDict() {
            if skips(key) {
                report.skipped.append(key)
                continue
            }
            guard let tensor = available[key] else {
                let byDesign = mapped.initialised.contains { WeightSource.matches(key, pattern: $0) }
                if byDesign || mayInitialise(key) { report.initialised.append(key) } else { report.missing.append(key) }
                continue
            }
            used.insert(key)
            if tensor.shape == current.shape {
                report.loaded.append(key)
                assignments.append((key, tensor))
            } else if let resampled = resample(tensor, key: key, to: current.shape) {
                report.resampled.append(.init(key: key, from: tensor.shape, to: current.shape))
                assignments.append((key, resampled))
            } else {
                report.mismatched.append(.init(key: key, expected: current.shape, found: tensor.shape))
            }
        }
        report.unexpected = mapped.names.filter { available[$0] != nil && !used.contains($0) }
        return (report, assignments)
    }

    /// `tensor` resampled to `shape` when `key` is a position embedding `[1, 1 + h·w, C]` over
    /// square grids or a time embedding `[1, T, C]` or `[1, T, 1, C]` (X-ViT's layout), else nil.
    static func resample(_ tensor: Tensor, key: String, to shape: [Int]) -> Tensor? {
        let name = key.split(separator: ".").last.map(String.init) ?? key
        if name == "temp_embed" || name == "time_embed", tensor.rank == 4, shape.count == 4, tensor.shape[0] == 1, shape[0] == 1,
           tensor.shape[2] == 1, shape[2] == 1, tensor.shape[3] == shape[3] {
            let flat = tensor.reshaped([1, tensor.shape[1], tensor.shape[3]])
            return noGrad { EmbeddingResampling.nearest(flat, frames: shape[1]) }.reshaped(shape).detached()
        }
        guard tensor.rank == 3, shape.count == 3, tensor.shape[0] == 1, shape[0] == 1, tensor.shape[2] == shape[2] else {
            return nil
        }
        if name == "pos_embed" {
            func side(_ n: Int) -> Int? {
                let s = Int(Double(n - 1).squareRoot().rounded())
                return s > 0 && s * s == n - 1 ? s : nil
            }
            guard let from = side(tensor.shape[1]), let to = side(shape[1]) else { return nil }
            return noGrad { EmbeddingResampling.bicubic(tensor, from: (from, from), to: (to, to)) }.detached()
        }
        if name == "time_embed" || name == "temp_embed" {
            return noGrad { EmbeddingResampling.nearest(tensor, frames: shape[1]) }.detached()
        }
        return nil
    }
}
