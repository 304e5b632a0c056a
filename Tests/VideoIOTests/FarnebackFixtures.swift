import Foundation
import TensorCore
import VideoIO

/// Reader for the golden arrays written by `Scripts/reference/make_farneback_fixtures.py`:
/// `fixtures.bin` holds little-endian arrays back to back, `fixtures.json` gives each one's dtype
/// (`u8`, `i16`, `f32`), shape, byte offset and, for quantised flows, the scale to pixels.
struct FarnebackFixtures {
    struct Entry: Decodable {
        let dtype: String
        let shape: [Int]
        let offset: Int
        let scale: Double?
    }
    private struct Meta: Decodable { let arrays: [String: Entry] }

    let entries: [String: Entry]
    let blob: Data

    static let shared: FarnebackFixtures = {
        let directory = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/farneback")
        let meta = try! JSONDecoder().decode(
            Meta.self, from: Data(contentsOf: directory.appendingPathComponent("fixtures.json")))
        let blob = try! Data(contentsOf: directory.appendingPathComponent("fixtures.bin"))
        return FarnebackFixtures(entries: meta.arrays, blob: blob)
    }()

    /// The array's shape and values as Float (quantised values multiplied by their scale).
    func array(_ name: String) -> (shape: [Int], values: [Float]) {
        let e = entries[name]!
        let count = e.shape.reduce(1, *)
        let scale = Float(e.scale ?? 1)
        let values: [Float] = blob.withUnsafeBytes { raw in
            let base = raw.baseAddress! + e.offset
            switch e.dtype {
            case "u8": return (0..<count).map { Float(base.load(fromByteOffset: $0, as: UInt8.self)) }
            case "i16":
                return (0..<count).map {
                    Float(Int16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * $0, as: Int16.self))) * scale
                }
            default:
                return (0..<count).map {
                    Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)))
                }
            }
        }
        return (e.shape, values)
    }

    /// A `[T, 3, H, W]` clip normalised as TIME does, `(v / 255 - 0.5) / 0.5`, from UInt8 frames.
    /// Gray fixtures (`[T, H, W]`) are repeated to three channels.
    func normalisedClip(_ name: String) -> Tensor {
        let (shape, values) = array(name)
        let rgb = shape.count == 4
        let t = shape[0], h = shape[rgb ? 2 : 1], w = shape[rgb ? 3 : 2]
        var out = [Float](repeating: 0, count: t * 3 * h * w)
        for f in 0..<t {
            for c in 0..<3 {
                for i in 0..<(h * w) {
                    let v = values[(rgb ? (f * 3 + c) : f) * h * w + i]
                    out[(f * 3 + c) * h * w + i] = (v / 255 - 0.5) / 0.5
                }
            }
        }
        return Tensor(shape: [t, 3, h, w], scalars: out)
    }

    /// OpenCV's flow number `index` of a `[P, H, W, 2]` array.
    func flow(_ name: String, index: Int = 0) -> [Float] {
        let (shape, values) = array(name)
        let (h, w) = shape.count == 4 ? (shape[1], shape[2]) : (shape[0], shape[1])
        let n = h * w * 2
        return Array(values[(index * n)..<((index + 1) * n)])
    }

    /// Row `index` of a `[P, N]` label array.
    func labels(_ name: String, index: Int) -> [Int] {
        let (shape, values) = array(name)
        return values[(index * shape[1])..<((index + 1) * shape[1])].map { Int($0) }
    }
}

/// End-point error statistics of `flow` against OpenCV's.
struct EndPointError: CustomStringConvertible {
    var mean: Double
    var max: Double

    init(_ flow: FlowField, _ reference: [Float]) {
        var total = 0.0, worst = 0.0
        let n = flow.width * flow.height
        for i in 0..<n {
            let ex = Double(flow.vectors[2 * i] - reference[2 * i])
            let ey = Double(flow.vectors[2 * i + 1] - reference[2 * i + 1])
            let e = (ex * ex + ey * ey).squareRoot()
            total += e
            worst = Swift.max(worst, e.isNaN ? .infinity : e)
        }
        mean = total / Double(n)
        max = worst
    }

    var description: String { "mean EPE \(mean) px, max \(max) px" }
}
