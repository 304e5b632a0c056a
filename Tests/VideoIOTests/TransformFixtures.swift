import Foundation
import TensorCore
import VideoIO

/// The golden arrays written by `Scripts/reference/make_transform_fixtures.py`
/// (`Fixtures/transforms/transforms.safetensors`): PyTorch resizes, SlowFast crops and timm's
/// RandAugment operations on a 24 x 20 RGB image (Pillow 13).
enum TransformFixtures {
    static let file: SafeTensorsFile = {
        let url = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/transforms/transforms.safetensors")
        return try! SafeTensors.read(contentsOf: url)
    }()

    static func tensor(_ name: String) -> Tensor { try! file.tensor(named: name) }

    static func has(_ name: String) -> Bool { file.entry(named: name) != nil }

    /// A `[H, W, 3]` byte array as an image.
    static func image(_ name: String) -> RGB8Image {
        let (shape, values) = try! file.integers(named: name)
        return RGB8Image(width: shape[1], height: shape[0], pixels: values.map { UInt8($0) })
    }
}

/// The largest absolute difference between two byte buffers of equal length.
func maxByteDifference(_ a: [UInt8], _ b: [UInt8]) -> Int {
    precondition(a.count == b.count)
    return zip(a, b).map { abs(Int($0) - Int($1)) }.max() ?? 0
}

/// A `[T, C, H, W]` clip whose value at (t, c, y, x) is `1000 t + 100 c + 10 y + x`, so every
/// element names its own position.
func indexClip(frames: Int, channels: Int, height: Int, width: Int) -> Tensor {
    var values: [Float] = []
    for t in 0..<frames {
        for c in 0..<channels {
            for y in 0..<height {
                for x in 0..<width { values.append(Float(1000 * t + 100 * c + 10 * y + x)) }
            }
        }
    }
    return Tensor(shape: [frames, channels, height, width], scalars: values)
}

/// `[T, C, H, W]` to `[T, H, W, C]`.
func toTHWC(_ clip: Tensor) -> Tensor {
    let s = clip.shape, v = clip.scalars
    var out = [Float](repeating: 0, count: v.count)
    for t in 0..<s[0] {
        for c in 0..<s[1] {
            for y in 0..<s[2] {
                for x in 0..<s[3] {
                    out[((t * s[2] + y) * s[3] + x) * s[1] + c] = v[((t * s[1] + c) * s[2] + y) * s[3] + x]
                }
            }
        }
    }
    return Tensor(shape: [s[0], s[2], s[3], s[1]], scalars: out)
}

/// `[T, C, H, W]` to `[C, T, H, W]`.
func toCTHW(_ clip: Tensor) -> Tensor {
    let s = clip.shape, v = clip.scalars, plane = s[2] * s[3]
    var out = [Float](repeating: 0, count: v.count)
    for t in 0..<s[0] {
        for c in 0..<s[1] {
            for i in 0..<plane { out[(c * s[0] + t) * plane + i] = v[(t * s[1] + c) * plane + i] }
        }
    }
    return Tensor(shape: [s[1], s[0], s[2], s[3]], scalars: out)
}
