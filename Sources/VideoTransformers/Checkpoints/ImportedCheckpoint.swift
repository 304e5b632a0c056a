import TensorCore

/// The tensors and side information read from a foreign checkpoint file.
///
/// Floating-point tensors (float32, float16, bfloat16, float64) arrive as Float32 ``Tensor``s in
/// the file's order; integer buffers such as BatchNorm's `num_batches_tracked` are kept apart in
/// ``integerTensors`` because they are not weights.
public struct ImportedCheckpoint: Sendable {
    /// The container a checkpoint was read from.
    public enum Format: Sendable, Equatable {
        /// A `torch.save` zip archive (`.pth`, `.pyth`, `.pt`).
        case pyTorchZip
        /// A safetensors file.
        case safeTensors
    }

    /// The file the checkpoint was read from (or the label of an in-memory buffer).
    public var path: String
    /// The container format.
    public var format: Format
    /// The floating-point tensors, converted to Float32, in file order.
    public var tensors: [(String, Tensor)]
    /// Integer and boolean tensors, in file order.
    public var integerTensors: [IntegerTensor]
    /// The dict key under which the state dict was found (`model_state`, `model`, …), or nil when
    /// the top-level object was the state dict (always nil for safetensors).
    public var stateDictKey: String?
    /// The top-level scalar entries beside the state dict (e.g. `epoch`), or the safetensors
    /// `__metadata__` strings.
    public var entries: [String: CheckpointValue]

    /// Creates a checkpoint value.
    public init(
        path: String, format: Format, tensors: [(String, Tensor)], integerTensors: [IntegerTensor] = [],
        stateDictKey: String? = nil, entries: [String: CheckpointValue] = [:]
    ) {
        self.path = path
        self.format = format
        self.tensors = tensors
        self.integerTensors = integerTensors
        self.stateDictKey = stateDictKey
        self.entries = entries
    }

    /// The tensor names, in file order.
    public var names: [String] { tensors.map(\.0) }

    /// The tensor called `name`, if present.
    public func tensor(named name: String) -> Tensor? {
        tensors.first { $0.0 == name }?.1
    }
}

/// An integer or boolean tensor from a checkpoint (not a weight; kept so nothing is lost silently).
public struct IntegerTensor: Sendable, Equatable {
    /// The state-dict key.
    public var name: String
    /// The extent of each dimension.
    public var shape: [Int]
    /// The elements in row-major order.
    public var values: [Int]

    /// Creates an integer tensor record.
    public init(name: String, shape: [Int], values: [Int]) {
        self.name = name
        self.shape = shape
        self.values = values
    }
}

/// A scalar stored beside the weights in a checkpoint (`epoch`, a config string, …).
public enum CheckpointValue: Sendable, Equatable {
    /// A Python `int`.
    case int(Int)
    /// A Python `float`.
    case double(Double)
    /// A Python `str` (or a safetensors metadata value).
    case string(String)
    /// A Python `bool`.
    case bool(Bool)
    /// Python `None`.
    case none
}
