import Foundation

/// Colour coding of flow fields for people to look at: hue is the direction (0° = right, growing
/// clockwise on screen because y points down, as OpenCV's `cartToPolar`), brightness the magnitude.
public enum FlowVisualization {
    /// RGB bytes `[height, width, 3]` for `flow`. Magnitudes are scaled so that `maxMagnitude`
    /// (default: the largest in the field) is full brightness; zero flow is black.
    public static func rgb(_ flow: FlowField, maxMagnitude: Float? = nil) -> [UInt8] {
        let n = flow.width * flow.height
        var magnitudes = [Float](repeating: 0, count: n)
        for i in 0..<n {
            let (dx, dy) = (flow.vectors[2 * i], flow.vectors[2 * i + 1])
            magnitudes[i] = (dx * dx + dy * dy).squareRoot()
        }
        let scale = maxMagnitude ?? (magnitudes.max() ?? 0)
        var out = [UInt8](repeating: 0, count: 3 * n)
        guard scale > 0 else { return out }
        for i in 0..<n {
            var angle = Foundation.atan2(flow.vectors[2 * i + 1], flow.vectors[2 * i]) * 180 / Float.pi
            if angle < 0 { angle += 360 }
            let value = Swift.min(magnitudes[i] / scale, 1)
            let (r, g, b) = hsvToRGB(hue: angle, saturation: 1, value: value)
            out[3 * i] = UInt8((r * 255).rounded())
            out[3 * i + 1] = UInt8((g * 255).rounded())
            out[3 * i + 2] = UInt8((b * 255).rounded())
        }
        return out
    }

    /// HSV (hue in degrees, saturation and value in 0…1) to RGB in 0…1.
    static func hsvToRGB(hue: Float, saturation s: Float, value v: Float) -> (Float, Float, Float) {
        let h = (hue.truncatingRemainder(dividingBy: 360)) / 60
        let sector = Int(h) % 6
        let f = h - Float(Int(h))
        let p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f))
        switch sector {
        case 0: return (v, t, p)
        case 1: return (q, v, p)
        case 2: return (p, v, t)
        case 3: return (p, q, v)
        case 4: return (t, p, v)
        default: return (v, p, q)
        }
    }
}
