import TensorCore

/// The outcome of a key map: the converted tensors and what was done to get them.
public struct KeyMapResult: Sendable {
    /// A key that changed name.
    public struct Rename: Sendable, Equatable {
        /// The key in the source checkpoint.
        public var from: String
        /// The key in the converted state dict.
        public var to: String

        /// Creates a rename record.
        public init(from: String, to: String) {
            self.from = from
            self.to = to
        }
    }

    /// Creates a result; a map written elsewhere fills in what it did.
    public init(tensors: [(String, Tensor)] = [], renamed: [Rename] = [], created: [String] = [],
                dropped: [String] = [], notes: [String] = [], initialised: [String] = []) {
        self.tensors = tensors
        self.renamed = renamed
        self.created = created
        self.dropped = dropped
        self.notes = notes
        self.initialised = initialised
    }

    /// The converted (name, tensor) list.
    public var tensors: [(String, Tensor)] = []
    /// Keys renamed, in source order.
    public var renamed: [Rename] = []
    /// Keys created by the map (copies or zero tensors), in output order.
    public var created: [String] = []
    /// Source keys left out of the result.
    public var dropped: [String] = []
    /// Remarks a user should read (e.g. where position embeddings still need resampling).
    public var notes: [String] = []
    /// Model key patterns (`*` wildcards) the source has no weights for by design: they keep their
    /// initialisation and are reported, not treated as missing.
    public var initialised: [String] = []

    /// The converted tensor names, in order.
    public var names: [String] { tensors.map(\.0) }

    /// The converted tensor called `name`, if present.
    public func tensor(named name: String) -> Tensor? {
        tensors.first { $0.0 == name }?.1
    }
}

/// Pure functions from a foreign state dict to this library's names (which are the reference
/// PyTorch names). Each source layout gets its own map; see <doc:PortingACheckpointFromPyTorch>.
public enum CheckpointKeyMaps {
    /// facebookresearch/TimeSformer checkpoints (`model_state` of a `.pyth`): the network lives
    /// under the wrapper attribute `model`, so every key carries a `model.` prefix, which is
    /// stripped as the upstream loader does. Its `(h w t)` token order needs no weight change.
    public static func facebookresearchTimeSformer(_ tensors: [(String, Tensor)]) -> KeyMapResult {
        stripPrefix("model.", from: tensors)
    }

    /// The TIME release (`alinlab/temporal-selfsupervision`): keys are already unprefixed. A
    /// `module.` prefix left by saving a `DistributedDataParallel` wrapper is stripped when every
    /// key carries it.
    public static func timeRelease(_ tensors: [(String, Tensor)]) -> KeyMapResult {
        guard !tensors.isEmpty, tensors.allSatisfy({ $0.0.hasPrefix("module.") }) else {
            return KeyMapResult(tensors: tensors)
        }
        return stripPrefix("module.", from: tensors)
    }

    /// Removes `prefix` from every key that has it; other keys pass through unchanged.
    public static func stripPrefix(_ prefix: String, from tensors: [(String, Tensor)]) -> KeyMapResult {
        var result = KeyMapResult()
        for (name, tensor) in tensors {
            if name.hasPrefix(prefix) {
                let stripped = String(name.dropFirst(prefix.count))
                result.renamed.append(.init(from: name, to: stripped))
                result.tensors.append((stripped, tensor))
            } else {
                result.tensors.append((name, tensor))
            }
        }
        return result
    }
}
