extension Float {
    /// The value of an IEEE 754 binary16 (half precision) bit pattern, exactly.
    ///
    /// Written out rather than through `Float16`, which some supported platforms lack (macOS on
    /// Intel). Used when reading float16 tensors from safetensors and PyTorch checkpoints.
    public init(float16Bits h: UInt16) {
        let sign = UInt32(h & 0x8000) << 16
        let exponent = Int((h >> 10) & 0x1F)
        let mantissa = UInt32(h & 0x03FF)
        switch exponent {
        case 0:
            // Zero or subnormal: mantissa × 2⁻²⁴, exactly representable in Float.
            let magnitude = Float(mantissa) * 0x1p-24
            self = sign != 0 ? -magnitude : magnitude
        case 0x1F:
            self = Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        default:
            self = Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | (mantissa << 13))
        }
    }

    /// The value of a bfloat16 bit pattern (the upper half of a binary32), exactly.
    public init(bfloat16Bits b: UInt16) {
        self = Float(bitPattern: UInt32(b) << 16)
    }
}
