import Foundation
import TensorCore

/// One memory-bound kernel figure: its effective bandwidth against a plain copy of as many bytes.
struct BandwidthEntry: Codable {
    var name: String
    var megabytes: Double
    var gbPerSecond: Double
    var copyGbPerSecond: Double
    var ratio: Double
}

/// Measures a memory-bound operation as GB/s, next to `memcpy` moving the same number of bytes
/// (read plus write) in the same run.
///
/// `bytesMoved` is the traffic one call needs at minimum: every input read once and every output
/// written once.
func bandwidthEntry(_ name: String, bytesMoved: Int, repeats: Int, _ body: () -> Void) -> BandwidthEntry {
    // A copy of n bytes reads n and writes n.
    let half = bytesMoved / 2
    let source = UnsafeMutableRawPointer.allocate(byteCount: half, alignment: 64)
    let destination = UnsafeMutableRawPointer.allocate(byteCount: half, alignment: 64)
    defer { source.deallocate(); destination.deallocate() }
    source.initializeMemory(as: UInt8.self, repeating: 1, count: half)
    let copy = { memcpy(destination, source, half); blackHole += Float(destination.load(as: UInt8.self)) }
    let t = measurePair(repeats: repeats, inner: innerCount(body), candidate: body, baseline: copy)
    let gb = Double(bytesMoved) * 1e-9
    return BandwidthEntry(
        name: name, megabytes: rounded(Double(bytesMoved) / 1e6, 1),
        gbPerSecond: rounded(gb / t.candidate, 2), copyGbPerSecond: rounded(gb / t.baseline, 2),
        ratio: rounded(t.baseline / t.candidate))
}

// MARK: - Memory-bound kernels
// Each entry runs over a ViT-S/16 activation of 8 frames ([1568, 384] for the residual stream,
// [1568, 1536] for the MLP's hidden layer, [9408, 197] for spatial attention scores); bytes count
// each input read once and each output written once (forward only).

/// The memory-bound kernels measured today.
func bandwidthBenchmarks(repeats: Int) -> [BandwidthEntry] {
    var generator = RandomGenerator(seed: 3)
    let a = Tensor.normal([1568, 1536], using: &generator)
    let b = Tensor.normal([1568, 1536], using: &generator)
    let bytes = 3 * a.count * MemoryLayout<Float>.size
    let stream = Tensor.normal([1568, 384], using: &generator)
    let weight = Tensor.normal([384], using: &generator), bias = Tensor.normal([384], using: &generator)
    let scores = Tensor.normal([9408, 197], using: &generator)
    let floatBytes = MemoryLayout<Float>.size
    return [
        bandwidthEntry("add [1568, 1536]", bytesMoved: bytes, repeats: repeats) { blackHole += (a + b).scalars[0] },
        bandwidthEntry("layerNorm [1568, 384]", bytesMoved: 2 * stream.count * floatBytes, repeats: repeats) {
            blackHole += Tensor.layerNorm(stream, weight: weight, bias: bias, epsilon: 1e-6).scalars[0]
        },
        bandwidthEntry("gelu [1568, 1536]", bytesMoved: 2 * a.count * floatBytes, repeats: repeats) {
            blackHole += a.gelu().scalars[0]
        },
        bandwidthEntry("softmax [9408, 197]", bytesMoved: 2 * scores.count * floatBytes, repeats: repeats) {
            blackHole += scores.softmax(axis: -1).scalars[0]
        },
    ]
}
