/// A restricted pickle interpreter for PyTorch state dicts (protocols 2–5).
///
/// It implements only the opcodes `torch.save` emits for dicts of tensors, resolves only the
/// globals in ``AllowedGlobal`` and never calls Python: `REDUCE` on a whitelisted callable is
/// evaluated here, by a fixed rule per callable. Any other opcode or global stops decoding with a
/// typed error, so a hostile file cannot make this reader do anything but refuse it.
struct PickleMachine {
    private let bytes: [UInt8]
    private let path: String
    private var position = 0
    private var opcodeOffset = 0
    private var stack: [PickleValue] = []
    private var marks: [Int] = []
    private var memo: [Int: PickleValue] = [:]

    init(bytes: [UInt8], path: String) {
        self.bytes = bytes
        self.path = path
    }

    /// Runs the program to `STOP` and returns the value it leaves.
    static func load(_ bytes: [UInt8], path: String) throws(CheckpointError) -> PickleValue {
        var machine = PickleMachine(bytes: bytes, path: path)
        return try machine.run()
    }

    private mutating func run() throws(CheckpointError) -> PickleValue {
        while true {
            opcodeOffset = position
            let opcode = try readByte()
            switch opcode {
            case 0x80:  // PROTO
                let version = try readByte()
                guard version <= 5 else { throw fail("pickle protocol \(version) is newer than 5") }
            case 0x95:  // FRAME: a hint for buffered readers; the whole stream is in memory.
                _ = try readInteger(byteCount: 8)
            case 0x2E:  // STOP
                let result = try pop()
                guard stack.isEmpty, marks.isEmpty else { throw fail("values left on the stack at STOP") }
                return result
            case 0x7D: stack.append(.dict(PickleDict()))  // EMPTY_DICT
            case 0x5D: stack.append(.list(PickleList()))  // EMPTY_LIST
            case 0x29: stack.append(.tuple([]))  // EMPTY_TUPLE
            case 0x28: marks.append(stack.count)  // MARK
            case 0x4E: stack.append(.none)  // NONE
            case 0x88: stack.append(.bool(true))  // NEWTRUE
            case 0x89: stack.append(.bool(false))  // NEWFALSE
            case 0x4A:  // BININT
                stack.append(.int(Int(Int32(truncatingIfNeeded: try readInteger(byteCount: 4)))))
            case 0x4B: stack.append(.int(Int(try readByte())))  // BININT1
            case 0x4D: stack.append(.int(try readInteger(byteCount: 2)))  // BININT2
            case 0x8A: stack.append(.int(try readLong(byteCount: Int(try readByte()))))  // LONG1
            case 0x8B:  // LONG4
                let count = try readInteger(byteCount: 4)
                stack.append(.int(try readLong(byteCount: count)))
            case 0x47:  // BINFLOAT, big-endian
                stack.append(.float(Double(bitPattern: UInt64(try readBigEndian(byteCount: 8)))))
            case 0x58: stack.append(.string(try readString(lengthBytes: 4)))  // BINUNICODE
            case 0x8C: stack.append(.string(try readString(lengthBytes: 1)))  // SHORT_BINUNICODE
            case 0x8D: stack.append(.string(try readString(lengthBytes: 8)))  // BINUNICODE8
            case 0x43: stack.append(.bytes(try readBytes(count: Int(try readByte()))))  // SHORT_BINBYTES
            case 0x42: stack.append(.bytes(try readBytes(count: try readInteger(byteCount: 4))))  // BINBYTES
            case 0x74: stack.append(try tuple(try popToMark()))  // TUPLE
            case 0x85: stack.append(try tuple(try pop(1)))  // TUPLE1
            case 0x86: stack.append(try tuple(try pop(2)))  // TUPLE2
            case 0x87: stack.append(try tuple(try pop(3)))  // TUPLE3
            case 0x6C:  // LIST
                let list = PickleList()
                try append(try popToMark(), to: list)
                stack.append(.list(list))
            case 0x61:  // APPEND
                let value = try pop()
                try append([value], to: list(top()))
            case 0x65:  // APPENDS
                let values = try popToMark()
                try append(values, to: list(top()))
            case 0x64:  // DICT
                let dict = PickleDict()
                try setItems(try popToMark(), in: dict)
                stack.append(.dict(dict))
            case 0x73:  // SETITEM
                let pair = try pop(2)
                try setItems(pair, in: try dictionary(top()))
            case 0x75:  // SETITEMS
                let pairs = try popToMark()
                try setItems(pairs, in: try dictionary(top()))
            case 0x68: stack.append(try memoValue(Int(try readByte())))  // BINGET
            case 0x6A: stack.append(try memoValue(try readInteger(byteCount: 4)))  // LONG_BINGET
            case 0x71: memo[Int(try readByte())] = try top()  // BINPUT
            case 0x72: memo[try readInteger(byteCount: 4)] = try top()  // LONG_BINPUT
            case 0x94: memo[memo.count] = try top()  // MEMOIZE
            case 0x30: _ = try pop()  // POP
            case 0x31: _ = try popToMark()  // POP_MARK
            case 0x32: stack.append(try top())  // DUP
            case 0x63:  // GLOBAL
                let module = try readLine()
                let name = try readLine()
                stack.append(.global(try allowedGlobal(module: module, name: name)))
            case 0x93:  // STACK_GLOBAL
                let pair = try pop(2)
                guard case let .string(module) = pair[0], case let .string(name) = pair[1] else {
                    throw fail("STACK_GLOBAL needs two strings, got \(pair[0].kind) and \(pair[1].kind)")
                }
                stack.append(.global(try allowedGlobal(module: module, name: name)))
            case 0x51:  // BINPERSID
                stack.append(.storage(try storage(persistentID: try pop())))
            case 0x52:  // REDUCE
                let arguments = try pop()
                let callable = try pop()
                stack.append(try reduce(callable, arguments))
            case 0x81:  // NEWOBJ: only a record class with no constructor arguments
                let arguments = try pop()
                let cls = try pop()
                guard case .global(.argparseNamespace) = cls, case let .tuple(args) = arguments, args.isEmpty else {
                    throw .unsupportedOpcode(path: path, opcode: opcode, offset: opcodeOffset)
                }
                stack.append(.dict(PickleDict()))
            case 0x62:  // BUILD
                let state = try pop()
                try build(try top(), state: state)
            default:
                throw .unsupportedOpcode(path: path, opcode: opcode, offset: opcodeOffset)
            }
        }
    }

    // MARK: Whitelisted behaviour

    private func allowedGlobal(module: String, name: String) throws(CheckpointError) -> AllowedGlobal {
        guard let allowed = AllowedGlobal(module: module, name: name) else {
            throw .forbiddenGlobal(path: path, module: module, name: name)
        }
        return allowed
    }

    /// Evaluates a whitelisted callable on its argument tuple.
    private func reduce(_ callable: PickleValue, _ arguments: PickleValue) throws(CheckpointError) -> PickleValue {
        guard case let .global(function) = callable else { throw fail("REDUCE on a \(callable.kind)") }
        guard case let .tuple(args) = arguments else { throw fail("REDUCE arguments are a \(arguments.kind)") }
        switch function {
        case .orderedDict:
            let dict = PickleDict()
            if let items = args.first {
                guard args.count == 1, case let .list(pairs) = items else { throw fail("OrderedDict(...) needs a list of pairs") }
                for pair in pairs.items {
                    guard case let .tuple(kv) = pair, kv.count == 2 else { throw fail("OrderedDict item is not a pair") }
                    dict.set(kv[0], kv[1])
                }
            }
            return .dict(dict)
        case .rebuildTensorV2:
            // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
            guard args.count >= 4, case let .storage(storage) = args[0], case let .int(offset) = args[1] else {
                throw fail("_rebuild_tensor_v2 needs (storage, offset, size, stride, ...)")
            }
            return .tensor(TensorReference(
                storage: storage, offset: offset, shape: try integers(args[2]), strides: try integers(args[3])))
        case .rebuildParameter:
            // (data, requires_grad, backward_hooks): a Parameter is its data for loading purposes.
            guard args.count == 3, case .tensor = args[0] else { throw fail("_rebuild_parameter needs a tensor") }
            return args[0]
        case .torchSize:
            guard args.count == 1 else { throw fail("torch.Size takes one tuple") }
            return .tuple(try integers(args[0]).map { PickleValue.int($0) })
        case .storageType:
            throw fail("\(function.module).\(function.name) can only appear in a persistent id")
        case .argparseNamespace:
            throw fail("argparse.Namespace is only accepted through NEWOBJ")
        }
    }

    /// Sets object state. Only dicts and tensors accept it, and it is dropped: an `OrderedDict`'s
    /// `_metadata` (module versions) and tensor attributes play no part in the weights.
    private func build(_ target: PickleValue, state: PickleValue) throws(CheckpointError) {
        switch target {
        case .dict, .tensor: return
        default: throw fail("BUILD on a \(target.kind)")
        }
    }

    /// Decodes `('storage', storage_type, key, location, numel)`.
    private func storage(persistentID: PickleValue) throws(CheckpointError) -> StorageReference {
        guard case let .tuple(fields) = persistentID, fields.count == 5,
            case .string("storage") = fields[0],
            case let .global(.storageType(dtype)) = fields[1],
            case let .string(key) = fields[2],
            case let .int(count) = fields[4], count >= 0
        else { throw fail("persistent id is not ('storage', type, key, location, numel)") }
        return StorageReference(dtype: dtype, key: key, elementCount: count)
    }

    private func setItems(_ flat: [PickleValue], in dict: PickleDict) throws(CheckpointError) {
        guard flat.count.isMultiple(of: 2) else { throw fail("odd number of values for dict items") }
        dict.depth = try checkedDepth(max(dict.depth, 1 + (flat.map(\.nesting).max() ?? 0)))
        for i in stride(from: 0, to: flat.count, by: 2) { dict.set(flat[i], flat[i + 1]) }
    }

    /// Containers nested deeper than this are refused: state dicts nest a handful of levels, and a
    /// crafted stream of thousands of levels would overflow the stack when the value is freed.
    static let maxNesting = 100

    private func checkedDepth(_ depth: Int) throws(CheckpointError) -> Int {
        guard depth <= Self.maxNesting else {
            throw fail("containers nested deeper than \(Self.maxNesting) levels")
        }
        return depth
    }

    private func tuple(_ items: [PickleValue]) throws(CheckpointError) -> PickleValue {
        _ = try checkedDepth(1 + (items.map(\.nesting).max() ?? 0))
        return .tuple(items)
    }

    private func append(_ items: [PickleValue], to list: PickleList) throws(CheckpointError) {
        list.depth = try checkedDepth(max(list.depth, 1 + (items.map(\.nesting).max() ?? 0)))
        list.items.append(contentsOf: items)
    }

    private func integers(_ value: PickleValue) throws(CheckpointError) -> [Int] {
        guard case let .tuple(items) = value else { throw fail("expected a tuple of ints, got \(value.kind)") }
        var result: [Int] = []
        for item in items {
            guard case let .int(v) = item else { throw fail("expected a tuple of ints, found \(item.kind)") }
            result.append(v)
        }
        return result
    }

    // MARK: Stack

    private mutating func pop() throws(CheckpointError) -> PickleValue {
        guard stack.count > (marks.last ?? 0), let value = stack.popLast() else { throw fail("stack underflow") }
        return value
    }

    private mutating func pop(_ count: Int) throws(CheckpointError) -> [PickleValue] {
        guard stack.count - count >= (marks.last ?? 0) else { throw fail("stack underflow") }
        let values = Array(stack.suffix(count))
        stack.removeLast(count)
        return values
    }

    private mutating func popToMark() throws(CheckpointError) -> [PickleValue] {
        guard let mark = marks.popLast() else { throw fail("no MARK on the stack") }
        let values = Array(stack[mark...])
        stack.removeSubrange(mark...)
        return values
    }

    private func top() throws(CheckpointError) -> PickleValue {
        guard stack.count > (marks.last ?? 0), let value = stack.last else { throw fail("stack underflow") }
        return value
    }

    private func list(_ value: PickleValue) throws(CheckpointError) -> PickleList {
        guard case let .list(list) = value else { throw fail("APPEND to a \(value.kind)") }
        return list
    }

    private func dictionary(_ value: PickleValue) throws(CheckpointError) -> PickleDict {
        guard case let .dict(dict) = value else { throw fail("SETITEM on a \(value.kind)") }
        return dict
    }

    private func memoValue(_ index: Int) throws(CheckpointError) -> PickleValue {
        guard let value = memo[index] else { throw fail("memo slot \(index) is empty") }
        return value
    }

    // MARK: Reading

    private mutating func readByte() throws(CheckpointError) -> UInt8 {
        guard position < bytes.count else { throw fail("unexpected end of data") }
        defer { position += 1 }
        return bytes[position]
    }

    private mutating func readBytes(count: Int) throws(CheckpointError) -> [UInt8] {
        guard count >= 0, count <= bytes.count - position else { throw fail("unexpected end of data") }
        defer { position += count }
        return Array(bytes[position..<position + count])
    }

    /// An unsigned little-endian integer; lengths that do not fit in `Int` are refused.
    private mutating func readInteger(byteCount: Int) throws(CheckpointError) -> Int {
        let raw = try readBytes(count: byteCount)
        var value: UInt64 = 0
        for (i, byte) in raw.enumerated() { value |= UInt64(byte) << (8 * UInt64(i)) }
        guard value <= UInt64(Int.max) || byteCount == 4 else { throw fail("integer out of range") }
        return byteCount == 4 ? Int(UInt32(truncatingIfNeeded: value)) : Int(value)
    }

    private mutating func readBigEndian(byteCount: Int) throws(CheckpointError) -> UInt64 {
        var value: UInt64 = 0
        for byte in try readBytes(count: byteCount) { value = value << 8 | UInt64(byte) }
        return value
    }

    /// A little-endian two's-complement integer of at most 8 bytes (Python `long`).
    private mutating func readLong(byteCount: Int) throws(CheckpointError) -> Int {
        guard byteCount <= 8 else { throw fail("integer of \(byteCount) bytes does not fit in 64 bits") }
        let raw = try readBytes(count: byteCount)
        guard let last = raw.last else { return 0 }
        var value: UInt64 = last & 0x80 != 0 ? ~0 : 0
        for byte in raw.reversed() { value = value << 8 | UInt64(byte) }
        return Int(Int64(bitPattern: value))
    }

    private mutating func readString(lengthBytes: Int) throws(CheckpointError) -> String {
        let raw = try readBytes(count: try readInteger(byteCount: lengthBytes))
        guard let string = String(validating: raw, as: UTF8.self) else { throw fail("string is not valid UTF-8") }
        return string
    }

    /// A newline-terminated ASCII line (the operands of `GLOBAL`).
    private mutating func readLine() throws(CheckpointError) -> String {
        guard let end = bytes[position...].firstIndex(of: 0x0A) else { throw fail("unexpected end of data") }
        let raw = Array(bytes[position..<end])
        position = end + 1
        guard let line = String(validating: raw, as: UTF8.self) else { throw fail("GLOBAL name is not valid UTF-8") }
        return line
    }

    private func fail(_ reason: String) -> CheckpointError {
        .malformedPickle(path: path, offset: opcodeOffset, reason: reason)
    }
}
