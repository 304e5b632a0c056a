import TensorCore

/// torchvision's `ColorJitter` for `[0, 1]` RGB clips, with one draw of order and factors per clip.
///
/// Each strength `s` gives a factor drawn from `[max(0, 1 - s), 1 + s]` (hue: a shift in `[-s, s]`,
/// `s <= 0.5`); a strength of 0 leaves that adjustment out and draws nothing for it.
public struct ColorJitter: Sendable, Hashable {
    /// The strength of the brightness change.
    public var brightness: Float
    /// The strength of the contrast change.
    public var contrast: Float
    /// The strength of the saturation change.
    public var saturation: Float
    /// The largest hue shift, as a fraction of the colour circle (at most 0.5).
    public var hue: Float

    /// The factors drawn for one clip and the order in which they apply.
    public struct Parameters: Sendable, Hashable {
        /// Adjustments in application order: 0 brightness, 1 contrast, 2 saturation, 3 hue.
        public var order: [Int]
        /// Brightness factor, or `nil` when left out.
        public var brightness: Float?
        /// Contrast factor, or `nil` when left out.
        public var contrast: Float?
        /// Saturation factor, or `nil` when left out.
        public var saturation: Float?
        /// Hue shift, or `nil` when left out.
        public var hue: Float?

        /// Creates parameters (for replaying a known draw).
        public init(order: [Int] = [0, 1, 2, 3], brightness: Float? = nil, contrast: Float? = nil,
                    saturation: Float? = nil, hue: Float? = nil) {
            self.order = order
            self.brightness = brightness
            self.contrast = contrast
            self.saturation = saturation
            self.hue = hue
        }
    }

    /// Creates a jitter; every strength must be non-negative and `hue` at most 0.5.
    ///
    /// - Throws: ``TransformError/invalidParameter(op:name:value:requirement:)`` for a strength out of range.
    public init(brightness: Float = 0, contrast: Float = 0, saturation: Float = 0, hue: Float = 0) throws(TransformError) {
        for (name, v) in [("brightness", brightness), ("contrast", contrast), ("saturation", saturation)] where !(v >= 0) {
            throw .invalidParameter(op: "ColorJitter", name: name, value: "\(v)", requirement: "must be non-negative")
        }
        guard hue >= 0 && hue <= 0.5 else {
            throw .invalidParameter(op: "ColorJitter", name: "hue", value: "\(hue)", requirement: "must lie in [0, 0.5]")
        }
        self.brightness = brightness
        self.contrast = contrast
        self.saturation = saturation
        self.hue = hue
    }

    /// Draws the order and factors for one clip (torchvision's `get_params`: permutation first).
    public func sample(using generator: inout RandomGenerator) -> Parameters {
        func factor(_ s: Float) -> Float? {
            s > 0 ? Swift.max(0, 1 - s) + (1 + s - Swift.max(0, 1 - s)) * generator.nextUniform() : nil
        }
        let order = generator.permutation(4)
        let b = factor(brightness), c = factor(contrast), s = factor(saturation)
        let h: Float? = hue > 0 ? -hue + 2 * hue * generator.nextUniform() : nil
        return Parameters(order: order, brightness: b, contrast: c, saturation: s, hue: h)
    }

    /// Draws parameters once and applies them to every frame.
    ///
    /// - Throws: ``TransformError/invalidClip(op:shape:reason:)`` unless the clip is rank 4 with 3 channels.
    public func callAsFunction(
        _ clip: Tensor, layout: ClipLayout = .tchw, using generator: inout RandomGenerator
    ) throws(TransformError) -> Tensor {
        try ColorJitter.apply(sample(using: &generator), to: clip, layout: layout)
    }

    /// Applies given parameters to every frame of a `[0, 1]` RGB clip, with torchvision's tensor
    /// formulas (grey = 0.2989 R + 0.587 G + 0.114 B; contrast blends towards each frame's mean grey;
    /// results clamped to `[0, 1]`).
    ///
    /// - Throws: ``TransformError/invalidClip(op:shape:reason:)`` unless the clip is rank 4 with 3 channels.
    public static func apply(_ parameters: Parameters, to clip: Tensor, layout: ClipLayout = .tchw) throws(TransformError) -> Tensor {
        let g = try ClipGeometry(clip, layout: layout, op: "colorJitter")
        guard g.channels == 3 else {
            throw .invalidClip(op: "colorJitter", shape: clip.shape, reason: "needs 3 (RGB) channels, found \(g.channels)")
        }
        let n = g.height * g.width
        var r = [Float](repeating: 0, count: n), gr = r, b = r
        var out = clip.detached()
        out.withUnsafeMutableBufferPointer { px in
            for f in 0..<g.frames {
                let o = (0..<3).map { g.origin(frame: f, channel: $0) }
                for i in 0..<n {
                    r[i] = px[o[0] + i * g.pixelStride]
                    gr[i] = px[o[1] + i * g.pixelStride]
                    b[i] = px[o[2] + i * g.pixelStride]
                }
                for step in parameters.order {
                    switch step {
                    case 0: if let k = parameters.brightness { ColorJitter.blend(&r, &gr, &b, k) { _ in 0 } }
                    case 1:
                        if let k = parameters.contrast {
                            var sum: Float = 0
                            for i in 0..<n { sum += ColorJitter.grey(r[i], gr[i], b[i]) }
                            let mean = sum / Float(n)
                            ColorJitter.blend(&r, &gr, &b, k) { _ in mean }
                        }
                    case 2:
                        if let k = parameters.saturation {
                            let grey = (0..<n).map { ColorJitter.grey(r[$0], gr[$0], b[$0]) }
                            ColorJitter.blend(&r, &gr, &b, k) { grey[$0] }
                        }
                    default: if let k = parameters.hue { ColorJitter.shiftHue(&r, &gr, &b, k) }
                    }
                }
                for i in 0..<n {
                    px[o[0] + i * g.pixelStride] = r[i]
                    px[o[1] + i * g.pixelStride] = gr[i]
                    px[o[2] + i * g.pixelStride] = b[i]
                }
            }
        }
        return out
    }

    static func grey(_ r: Float, _ g: Float, _ b: Float) -> Float { 0.2989 * r + 0.587 * g + 0.114 * b }

    /// torchvision's `_blend`: `clamp(k * x + (1 - k) * other, 0, 1)`.
    static func blend(_ r: inout [Float], _ g: inout [Float], _ b: inout [Float], _ k: Float, other: (Int) -> Float) {
        for i in 0..<r.count {
            let o = (1 - k) * other(i)
            r[i] = Swift.min(Swift.max(k * r[i] + o, 0), 1)
            g[i] = Swift.min(Swift.max(k * g[i] + o, 0), 1)
            b[i] = Swift.min(Swift.max(k * b[i] + o, 0), 1)
        }
    }

    /// torchvision's `_rgb2hsv`, hue shift modulo 1, `_hsv2rgb`.
    static func shiftHue(_ r: inout [Float], _ g: inout [Float], _ b: inout [Float], _ shift: Float) {
        for i in 0..<r.count {
            let maxc = Swift.max(r[i], g[i], b[i]), minc = Swift.min(r[i], g[i], b[i])
            let cr = maxc - minc
            let equal = maxc == minc
            let s = cr / (equal ? 1 : maxc)
            let d = equal ? 1 : cr
            let rc = (maxc - r[i]) / d, gc = (maxc - g[i]) / d, bc = (maxc - b[i]) / d
            var h: Float
            if maxc == r[i] { h = bc - gc } else if maxc == g[i] { h = 2 + rc - bc } else { h = 4 + gc - rc }
            h = (h / 6 + 1).truncatingRemainder(dividingBy: 1)
            h = h + shift
            h -= h.rounded(.down)
            let v = maxc
            let sector = h * 6
            let fi = sector.rounded(.down)
            let f = sector - fi
            let p = Swift.min(Swift.max(v * (1 - s), 0), 1)
            let q = Swift.min(Swift.max(v * (1 - s * f), 0), 1)
            let t = Swift.min(Swift.max(v * (1 - s * (1 - f)), 0), 1)
            switch ((Int(fi) % 6) + 6) % 6 {
            case 0: (r[i], g[i], b[i]) = (v, t, p)
            case 1: (r[i], g[i], b[i]) = (q, v, p)
            case 2: (r[i], g[i], b[i]) = (p, v, t)
            case 3: (r[i], g[i], b[i]) = (p, q, v)
            case 4: (r[i], g[i], b[i]) = (t, p, v)
            default: (r[i], g[i], b[i]) = (v, p, q)
            }
        }
    }
}
