/// The colour-table operations of RandAugment, byte-exact with PIL's `ImageOps` (Pillow 10+).
extension RGB8Image {
    /// `ImageOps.autocontrast`: stretches each channel so its darkest value maps to 0 and its
    /// brightest to 255 (a constant channel is left alone).
    public func autoContrasted() -> RGB8Image {
        let luts = histograms().map { hist -> [UInt8] in
            guard let lo = hist.firstIndex(where: { $0 > 0 }), let hi = hist.lastIndex(where: { $0 > 0 }), hi > lo else {
                return (0..<256).map { UInt8($0) }
            }
            let scale = 255.0 / Double(hi - lo)
            let offset = -Double(lo) * scale
            return (0..<256).map { UInt8(Swift.min(Swift.max(Int(Double($0) * scale + offset), 0), 255)) }
        }
        return mapped(perChannel: luts)
    }

    /// `ImageOps.equalize`: per-channel histogram equalisation with PIL's integer step rule.
    public func equalized() -> RGB8Image {
        let luts = histograms().map { hist -> [UInt8] in
            let used = hist.filter { $0 > 0 }
            let identity = (0..<256).map { UInt8($0) }
            guard used.count > 1 else { return identity }
            let step = (used.reduce(0, +) - used.last!) / 256
            guard step > 0 else { return identity }
            var n = step / 2
            var lut = [UInt8](repeating: 0, count: 256)
            for i in 0..<256 {
                lut[i] = UInt8(Swift.min(n / step, 255))
                n += hist[i]
            }
            return lut
        }
        return mapped(perChannel: luts)
    }

    /// `ImageOps.invert`: `255 - v`.
    public func inverted() -> RGB8Image {
        mapped((0..<256).map { UInt8(255 - $0) })
    }

    /// `ImageOps.posterize`: keeps the top `bits` bits of each value (8 or more: unchanged; 0: black).
    public func posterized(bits: Int) -> RGB8Image {
        guard bits < 8 else { return self }
        let mask = bits <= 0 ? 0 : ~((1 << (8 - bits)) - 1) & 0xFF
        return mapped((0..<256).map { UInt8($0 & mask) })
    }

    /// `ImageOps.solarize`: values at or above `threshold` are inverted.
    public func solarized(threshold: Int) -> RGB8Image {
        mapped((0..<256).map { UInt8($0 < threshold ? $0 : 255 - $0) })
    }

    /// timm's `solarize_add`: values below `threshold` get `add` added, saturating at 255.
    public func solarizeAdded(_ add: Int, threshold: Int = 128) -> RGB8Image {
        mapped((0..<256).map { UInt8($0 < threshold ? Swift.min(255, Swift.max(0, $0 + add)) : $0) })
    }
}
