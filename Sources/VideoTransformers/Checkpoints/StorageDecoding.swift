import TensorCore

/// Turns a ``TensorReference`` plus its storage bytes into values, gathering strided views.
enum StorageDecoding {
    /// The storage element indices of a strided view, in row-major order of the view; nil when the
    /// view reaches outside a storage of `elementCount` elements or its strides are negative.
    static func elementIndices(of tensor: TensorReference, key: String, path: String) throws(CheckpointError) -> [Int] {
        let shape = tensor.shape, strides = tensor.strides
        func invalid(_ reason: String) -> CheckpointError { .invalidTensor(path: path, key: key, reason: reason) }
        guard shape.count == strides.count else {
            throw invalid("size \(shape) and stride \(strides) have different ranks")
        }
        guard shape.allSatisfy({ $0 >= 0 }), strides.allSatisfy({ $0 >= 0 }), tensor.offset >= 0 else {
            throw invalid("negative size, stride or offset (size \(shape), stride \(strides), offset \(tensor.offset))")
        }
        var count = 1
        var last = tensor.offset
        for (extent, stride) in zip(shape, strides) {
            let (product, overflow) = count.multipliedReportingOverflow(by: extent)
            let (reach, overflow2) = (extent == 0 ? 0 : extent - 1).multipliedReportingOverflow(by: stride)
            guard !overflow, !overflow2 else { throw invalid("size \(shape) is too large") }
            count = product
            last = last.addingReportingOverflow(reach).partialValue
        }
        guard count == 0 || last < tensor.storage.elementCount else {
            throw invalid("view (offset \(tensor.offset), size \(shape), stride \(strides)) reaches element \(last) "
                + "of a storage holding \(tensor.storage.elementCount)")
        }
        if count == 0 { return [] }
        if strides == Tensor.strides(of: shape) {
            return Array(tensor.offset..<tensor.offset + count)
        }
        // Odometer over the view's index space; the innermost axis moves fastest.
        var indices = [Int]()
        indices.reserveCapacity(count)
        var counter = [Int](repeating: 0, count: shape.count)
        var position = tensor.offset
        for _ in 0..<count {
            indices.append(position)
            var axis = shape.count - 1
            while axis >= 0 {
                counter[axis] += 1
                position += strides[axis]
                if counter[axis] < shape[axis] { break }
                position -= strides[axis] * shape[axis]
                counter[axis] = 0
                axis -= 1
            }
        }
        return indices
    }

    /// Decodes floating-point elements to Float32.
    static func floats(_ bytes: UnsafeRawBufferPointer, dtype: StorageDType, at indices: [Int]) -> [Float] {
        indices.map { i in
            switch dtype {
            case .float32:
                return Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
            case .float16:
                return Float(float16Bits: UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
            case .bfloat16:
                return Float(bfloat16Bits: UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
            case .float64:
                return Float(Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))))
            case .int64, .int32, .uint8, .bool:
                preconditionFailure("StorageDecoding.floats: \(dtype.storageClass) is not floating point")
            }
        }
    }

    /// Decodes integer or boolean elements.
    static func integers(_ bytes: UnsafeRawBufferPointer, dtype: StorageDType, at indices: [Int]) -> [Int] {
        indices.map { i in
            switch dtype {
            case .int64: return Int(Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)))
            case .int32: return Int(Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)))
            case .uint8, .bool: return Int(bytes[i])
            case .float32, .float16, .bfloat16, .float64:
                preconditionFailure("StorageDecoding.integers: \(dtype.storageClass) is not an integer type")
            }
        }
    }

}
