import TensorCore

/// A dry run of loading a checkpoint into a model: which tensors are missing, unexpected or of
/// another shape, computed from names and shapes only (nothing is assigned).
public struct CheckpointReport: Sendable, CustomStringConvertible {
    /// The key comparison, in TensorCore's terms (``StateDictReport/shapeMismatched`` lists the
    /// reshaped tensors).
    public var stateDict: StateDictReport
    /// Remarks from reading and mapping (skipped integer buffers, key-map notes).
    public var notes: [String]

    /// Compares a checkpoint's (name, shape) list with the (name, shape) list a model expects.
    public init(expected: [(String, [Int])], available: [(String, [Int])], notes: [String] = []) {
        let shapes = Dictionary(available, uniquingKeysWith: { first, _ in first })
        let known = Set(expected.map(\.0))
        var report = StateDictReport()
        for (key, shape) in expected {
            guard let found = shapes[key] else {
                report.missing.append(key)
                continue
            }
            if found == shape {
                report.loaded.append(key)
            } else {
                report.shapeMismatched.append(.init(key: key, expected: shape, found: found))
            }
        }
        report.unexpected = available.map(\.0).filter { !known.contains($0) }
        self.stateDict = report
        self.notes = notes
    }

    /// Compares `tensors` with the parameters of `module` (``Module/namedParameters()``).
    public init(module: Module, tensors: [(String, Tensor)], notes: [String] = []) {
        self.init(
            expected: module.namedParameters().map { ($0.0, $0.1.shape) },
            available: tensors.map { ($0.0, $0.1.shape) }, notes: notes)
    }

    /// Compares an imported checkpoint with `module`, noting the integer buffers left out.
    public init(module: Module, checkpoint: ImportedCheckpoint) {
        let skipped = checkpoint.integerTensors.map(\.name)
        self.init(
            module: module, tensors: checkpoint.tensors,
            notes: skipped.isEmpty ? [] : ["integer tensors not loaded: \(skipped.joined(separator: ", "))"])
    }

    /// Whether a strict load would succeed.
    public var isExact: Bool { stateDict.isExact }

    /// The comparison followed by the notes, one per line.
    public var description: String {
        ([stateDict.description] + notes.map { "note: \($0)" }).joined(separator: "\n")
    }
}
