/// Finds the state dict inside a decoded checkpoint object.
///
/// Accepted layouts: a dict whose values are all tensors, or a dict holding one under a key of
/// ``PyTorchCheckpoint/stateDictKeys`` (searched up to two levels deep, e.g.
/// `{"model_state": sd, "epoch": 3}`). Anything else is not a state dict.
enum StateDictLocator {
    struct Located {
        var key: String?
        var tensors: [(String, TensorReference)]
        var entries: [String: CheckpointValue]
    }

    static func locate(_ root: PickleValue, path: String) throws(CheckpointError) -> Located {
        guard case let .dict(top) = root else {
            throw .notAStateDict(path: path, reason: "the file holds a \(root.kind), not a dict of tensors")
        }
        if let tensors = stateDict(top) {
            return Located(key: nil, tensors: tensors, entries: [:])
        }
        for key in PyTorchCheckpoint.stateDictKeys {
            guard case let .dict(inner) = top[key] else { continue }
            if let tensors = stateDict(inner) {
                return Located(key: key, tensors: tensors, entries: scalars(top, excluding: key))
            }
            for innerKey in PyTorchCheckpoint.stateDictKeys {
                if case let .dict(deeper) = inner[innerKey], let tensors = stateDict(deeper) {
                    return Located(key: key + "." + innerKey, tensors: tensors, entries: scalars(top, excluding: key))
                }
            }
        }
        let keys = top.items.prefix(8).map { item -> String in
            if case let .string(name) = item.key { return "\(name): \(item.value.kind)" }
            return item.key.kind
        }
        throw .notAStateDict(path: path, reason:
            "the top-level dict is not name → tensor and has no \(PyTorchCheckpoint.stateDictKeys.joined(separator: "/")) "
            + "entry holding one; it has {\(keys.joined(separator: ", "))\(top.items.count > 8 ? ", …" : "")}")
    }

    /// The (name, tensor) pairs when every key is a string and every value a tensor.
    private static func stateDict(_ dict: PickleDict) -> [(String, TensorReference)]? {
        guard !dict.items.isEmpty else { return nil }
        var result: [(String, TensorReference)] = []
        for (key, value) in dict.items {
            guard case let .string(name) = key, case let .tensor(tensor) = value else { return nil }
            result.append((name, tensor))
        }
        return result
    }

    private static func scalars(_ dict: PickleDict, excluding skipped: String) -> [String: CheckpointValue] {
        var result: [String: CheckpointValue] = [:]
        for (key, value) in dict.items {
            guard case let .string(name) = key, name != skipped else { continue }
            switch value {
            case let .int(v): result[name] = .int(v)
            case let .float(v): result[name] = .double(v)
            case let .string(v): result[name] = .string(v)
            case let .bool(v): result[name] = .bool(v)
            case .none: result[name] = CheckpointValue.none
            default: continue
            }
        }
        return result
    }
}
