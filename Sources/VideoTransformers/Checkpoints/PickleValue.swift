/// A value the restricted unpickler can build: Python scalars and containers, whitelisted globals,
/// and references to PyTorch storages and tensors (resolved against the archive afterwards).
indirect enum PickleValue {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple([PickleValue])
    case list(PickleList)
    case dict(PickleDict)
    case global(AllowedGlobal)
    case storage(StorageReference)
    case tensor(TensorReference)

    /// How deeply containers nest inside this value (0 for a scalar). Containers record their
    /// own depth, and a tuple's is computed from children already checked, so the recursion is
    /// bounded by ``PickleMachine/maxNesting``.
    var nesting: Int {
        switch self {
        case let .tuple(items): return 1 + (items.map(\.nesting).max() ?? 0)
        case let .list(list): return list.depth
        case let .dict(dict): return dict.depth
        default: return 0
        }
    }

    /// A short name of the value's kind, for error messages.
    var kind: String {
        switch self {
        case .none: return "None"
        case .bool: return "bool"
        case .int: return "int"
        case .float: return "float"
        case .string: return "str"
        case .bytes: return "bytes"
        case .tuple: return "tuple"
        case .list: return "list"
        case .dict: return "dict"
        case let .global(g): return "\(g.module).\(g.name)"
        case .storage: return "storage"
        case .tensor: return "tensor"
        }
    }
}

/// A Python list; a class because pickle mutates containers after memoising them.
final class PickleList {
    var items: [PickleValue]
    /// Nesting depth (1 for a list of scalars), kept as items arrive so nesting can be bounded.
    var depth = 1
    init(_ items: [PickleValue] = []) { self.items = items }
}

/// A Python dict (or `OrderedDict`), kept in insertion order; a class for the same reason as
/// ``PickleList``. Attributes set by `BUILD` (an `OrderedDict`'s `_metadata`) are dropped.
final class PickleDict {
    /// Nesting depth (1 for a dict of scalars), kept as items arrive so nesting can be bounded.
    var depth = 1
    private(set) var items: [(key: PickleValue, value: PickleValue)] = []
    private var stringIndex: [String: Int] = [:]

    func set(_ key: PickleValue, _ value: PickleValue) {
        if case let .string(name) = key {
            if let i = stringIndex[name] {
                items[i].value = value
                return
            }
            stringIndex[name] = items.count
        }
        items.append((key, value))
    }

    subscript(name: String) -> PickleValue? {
        stringIndex[name].map { items[$0].value }
    }
}

/// The only Python globals a state-dict pickle may name. Anything else is refused at the
/// `GLOBAL` opcode, before it could be called.
enum AllowedGlobal: Equatable {
    case orderedDict
    case rebuildTensorV2
    case rebuildParameter
    case torchSize
    case storageType(StorageDType)
    /// `argparse.Namespace`, the run arguments DINO and SVT save beside the weights: a plain
    /// attribute record, read as an (ignored) dict; no code runs.
    case argparseNamespace

    init?(module: String, name: String) {
        switch (module, name) {
        case ("argparse", "Namespace"): self = .argparseNamespace
        case ("collections", "OrderedDict"): self = .orderedDict
        case ("torch._utils", "_rebuild_tensor_v2"): self = .rebuildTensorV2
        case ("torch._utils", "_rebuild_parameter"): self = .rebuildParameter
        case ("torch", "Size"): self = .torchSize
        case ("torch", _):
            guard let dtype = StorageDType(storageClass: name) else { return nil }
            self = .storageType(dtype)
        default: return nil
        }
    }

    var module: String {
        switch self {
        case .orderedDict: return "collections"
        case .argparseNamespace: return "argparse"
        case .rebuildTensorV2, .rebuildParameter: return "torch._utils"
        case .torchSize, .storageType: return "torch"
        }
    }

    var name: String {
        switch self {
        case .orderedDict: return "OrderedDict"
        case .argparseNamespace: return "Namespace"
        case .rebuildTensorV2: return "_rebuild_tensor_v2"
        case .rebuildParameter: return "_rebuild_parameter"
        case .torchSize: return "Size"
        case let .storageType(dtype): return dtype.storageClass
        }
    }
}

/// The element type of a PyTorch typed storage, named by its legacy storage class.
enum StorageDType: CaseIterable {
    case float32, float16, bfloat16, float64, int64, int32, uint8, bool

    init?(storageClass: String) {
        guard let match = Self.allCases.first(where: { $0.storageClass == storageClass }) else { return nil }
        self = match
    }

    var storageClass: String {
        switch self {
        case .float32: return "FloatStorage"
        case .float16: return "HalfStorage"
        case .bfloat16: return "BFloat16Storage"
        case .float64: return "DoubleStorage"
        case .int64: return "LongStorage"
        case .int32: return "IntStorage"
        case .uint8: return "ByteStorage"
        case .bool: return "BoolStorage"
        }
    }

    var byteCount: Int {
        switch self {
        case .uint8, .bool: return 1
        case .float16, .bfloat16: return 2
        case .float32, .int32: return 4
        case .float64, .int64: return 8
        }
    }

    var isFloatingPoint: Bool {
        switch self {
        case .float32, .float16, .bfloat16, .float64: return true
        case .int64, .int32, .uint8, .bool: return false
        }
    }
}

/// A storage named by a persistent id `('storage', type, key, location, numel)`: its bytes are
/// the archive record `data/<key>`.
struct StorageReference {
    var dtype: StorageDType
    var key: String
    var elementCount: Int
}

/// A tensor as `torch._utils._rebuild_tensor_v2` describes it: a strided view of a storage.
struct TensorReference {
    var storage: StorageReference
    var offset: Int
    var shape: [Int]
    var strides: [Int]
}
