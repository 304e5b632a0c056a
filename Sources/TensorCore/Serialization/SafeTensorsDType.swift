/// The element types a safetensors file can declare, spelled as in the file header.
public enum SafeTensorsDType: String, Sendable, CaseIterable {
    /// One byte per element, 0 or 1.
    case bool = "BOOL"
    /// Unsigned 8-bit integers (video frames).
    case uint8 = "U8"
    /// Signed 8-bit integers.
    case int8 = "I8"
    /// Unsigned 16-bit integers.
    case uint16 = "U16"
    /// Signed 16-bit integers.
    case int16 = "I16"
    /// Unsigned 32-bit integers.
    case uint32 = "U32"
    /// Signed 32-bit integers.
    case int32 = "I32"
    /// Unsigned 64-bit integers.
    case uint64 = "U64"
    /// Signed 64-bit integers (PyTorch's `long`, used for labels).
    case int64 = "I64"
    /// 8-bit float with 4 exponent and 3 mantissa bits, no infinities (PyTorch `float8_e4m3fn`).
    case float8E4M3 = "F8_E4M3"
    /// 8-bit float with 5 exponent and 2 mantissa bits (PyTorch `float8_e5m2`).
    case float8E5M2 = "F8_E5M2"
    /// IEEE half precision.
    case float16 = "F16"
    /// bfloat16: the upper half of a Float32.
    case bfloat16 = "BF16"
    /// IEEE single precision, the native type of ``Tensor``.
    case float32 = "F32"
    /// IEEE double precision.
    case float64 = "F64"

    /// The size of one element in bytes.
    public var byteCount: Int {
        switch self {
        case .bool, .uint8, .int8, .float8E4M3, .float8E5M2: return 1
        case .uint16, .int16, .float16, .bfloat16: return 2
        case .uint32, .int32, .float32: return 4
        case .uint64, .int64, .float64: return 8
        }
    }

    /// Whether elements are floating-point values (readable as a ``Tensor``); otherwise they are
    /// integers or booleans (readable as `[Int]`).
    public var isFloatingPoint: Bool {
        switch self {
        case .float8E4M3, .float8E5M2, .float16, .bfloat16, .float32, .float64: return true
        default: return false
        }
    }
}

// Element decoding. Offsets are in bytes into a raw buffer that has no alignment guarantee
// (the format only aligns the header, and foreign writers order tensors as they like).
extension SafeTensorsDType {
    /// Decodes element `i` of a floating-point buffer.
    func float(in bytes: UnsafeRawBufferPointer, at i: Int) -> Float {
        switch self {
        case .float32:
            return Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
        case .float16:
            return Float(float16Bits: UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
        case .bfloat16:
            return Float(bfloat16Bits: UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
        case .float64:
            let bits = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))
            return Float(Double(bitPattern: bits))
        case .float8E5M2:
            // E5M2 is the top byte of an IEEE half, infinities and NaNs included.
            return Float(float16Bits: UInt16(bytes[i]) << 8)
        case .float8E4M3:
            return Self.e4m3ToFloat(bytes[i])
        default:
            preconditionFailure("SafeTensorsDType.float: \(rawValue) is not a floating-point dtype")
        }
    }

    /// Decodes element `i` of an integer or boolean buffer; nil when it does not fit in `Int`.
    func integer(in bytes: UnsafeRawBufferPointer, at i: Int) -> Int? {
        switch self {
        case .bool, .uint8: return Int(bytes[i])
        case .int8: return Int(Int8(bitPattern: bytes[i]))
        case .uint16: return Int(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
        case .int16: return Int(Int16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self)))
        case .uint32: return Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
        case .int32: return Int(Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)))
        case .uint64: return Int(exactly: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)))
        case .int64: return Int(Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)))
        default:
            preconditionFailure("SafeTensorsDType.integer: \(rawValue) is not an integer dtype")
        }
    }


    /// OCP FP8 E4M3 (the "fn" variant PyTorch uses): bias 7, no infinities, NaN when all
    /// exponent and mantissa bits are set.
    static func e4m3ToFloat(_ b: UInt8) -> Float {
        let negative = b & 0x80 != 0
        let exponent = Int((b >> 3) & 0x0F)
        let mantissa = Float(b & 0x07)
        let magnitude: Float
        if exponent == 0x0F && b & 0x07 == 0x07 {
            return .nan
        } else if exponent == 0 {
            magnitude = mantissa * 0x1p-9
        } else {
            magnitude = (1 + mantissa / 8) * Float(sign: .plus, exponent: exponent - 7, significand: 1)
        }
        return negative ? -magnitude : magnitude
    }
}
