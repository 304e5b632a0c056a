// Adds TIME's three temporal losses to a small video model that is not part of VideoSSL.
//
// The model: per-frame patch embedding, a learned time embedding, one Transformer block over all
// space-time tokens, a class token read-out. The data: clips of a bright square moving right,
// left, down or up (the class), whose flow-direction labels are known exactly, so no optical
// flow is needed here.
import Foundation
import TemporalSSL
import TensorCore

let frames = 4, side = 16, patch = 4, dim = 32, classes = 4, batch = 8, steps = 150
let grid = side / patch, patchesPerFrame = grid * grid

/// The user's own model: clip [B, T, 1, H, W] → (class logits [B, K], patch tokens [B, T, N, C]).
final class ToyVideoModel: Module {
    let patchEmbed: Linear, timeEmbed: Parameter, posEmbed: Parameter, clsToken: Parameter
    let norm1: LayerNorm, qkv: Linear, proj: Linear, norm2: LayerNorm, mlp: Mlp, norm: LayerNorm, head: Linear

    init(using g: inout RandomGenerator) {
        patchEmbed = Linear(inFeatures: patch * patch, outFeatures: dim, using: &g)
        timeEmbed = Parameter(Tensor.truncatedNormal([1, frames, 1, dim], std: 0.02, using: &g))
        posEmbed = Parameter(Tensor.truncatedNormal([1, 1, patchesPerFrame, dim], std: 0.02, using: &g))
        clsToken = Parameter(Tensor.truncatedNormal([1, 1, dim], std: 0.02, using: &g))
        norm1 = LayerNorm(dim, epsilon: 1e-6)
        qkv = Linear(inFeatures: dim, outFeatures: 3 * dim, using: &g)
        proj = Linear(inFeatures: dim, outFeatures: dim, using: &g)
        norm2 = LayerNorm(dim, epsilon: 1e-6)
        mlp = Mlp(inFeatures: dim, hiddenFeatures: 2 * dim, using: &g)
        norm = LayerNorm(dim, epsilon: 1e-6)
        head = Linear(inFeatures: dim, outFeatures: classes, using: &g)
    }

    func callAsFunction(_ clip: Tensor) -> (logits: Tensor, tokens: Tensor) {
        let b = clip.shape[0]
        // Cut each frame into patch×patch pixel blocks: [B, T, grid, patch, grid, patch] → [B, T, N, p²].
        let patches = clip.reshaped([b, frames, grid, patch, grid, patch])
            .permuted([0, 1, 2, 4, 3, 5]).reshaped([b, frames, patchesPerFrame, patch * patch])
        let embedded = patchEmbed(patches) + posEmbed.value + timeEmbed.value
        let cls = clsToken.value.broadcast(to: [b, 1, dim])
        var x = Tensor.concat([cls, embedded.reshaped([b, frames * patchesPerFrame, dim])], axis: 1)
        let n = x.shape[1]
        let qkvParts = qkv(norm1(x)).reshaped([b, n, 3, dim]).permuted([2, 0, 1, 3])
        let attended = Tensor.scaledDotProductAttention(
            query: qkvParts.slice(axis: 0, range: 0..<1).squeezed(axis: 0),
            key: qkvParts.slice(axis: 0, range: 1..<2).squeezed(axis: 0),
            value: qkvParts.slice(axis: 0, range: 2..<3).squeezed(axis: 0))
        x = x + proj(attended)
        x = norm(x + mlp(norm2(x)))
        let logits = head(x.slice(axis: 1, range: 0..<1).squeezed(axis: 1))
        let tokens = x.slice(axis: 1, range: 1..<n).reshaped([b, frames, patchesPerFrame, dim])
        return (logits, tokens)
    }
}

/// A batch of moving-square clips, their classes (0 right, 1 left, 2 down, 3 up) and the TIME
/// flow labels of every patch (the square's patches get the direction's class, the rest static).
func makeBatch(using g: inout RandomGenerator) -> (Tensor, [Int], IntTensor) {
    var pixels = [Float](repeating: -1, count: batch * frames * side * side)
    var labels: [Int] = [], flow = [Int](repeating: 0, count: batch * (frames - 1) * patchesPerFrame)
    let step = patch  // one patch per frame, so labels are exact
    let directionClass = [1, 5, 3, 7]  // right [0°,45°) → 1, left → 5, down → 3, up → 7 (y points down)
    for b in 0..<batch {
        let k = g.nextInt(below: classes)
        labels.append(k)
        let (dx, dy) = [(1, 0), (-1, 0), (0, 1), (0, -1)][k]
        var x = dx < 0 ? side - patch : (dx > 0 ? 0 : patch * g.nextInt(below: grid))
        var y = dy < 0 ? side - patch : (dy > 0 ? 0 : patch * g.nextInt(below: grid))
        for t in 0..<frames {
            for r in y..<(y + patch) { for c in x..<(x + patch) { pixels[((b * frames + t) * side + r) * side + c] = 1 } }
            if t + 1 < frames {
                // Flow is defined on frame t's pixel grid, as in the reference: label the square's
                // patch where it was in frame t.
                flow[(b * (frames - 1) + t) * patchesPerFrame + (y / patch) * grid + x / patch] = directionClass[k]
                (x, y) = (x + dx * step, y + dy * step)
            }
        }
    }
    return (Tensor(shape: [batch, frames, 1, side, side], scalars: pixels), labels,
            IntTensor(shape: [batch, frames - 1, patchesPerFrame], scalars: flow))
}

var generator = RandomGenerator(seed: 0)
let model = ToyVideoModel(using: &generator)
let time = TIMEObjective(.init(embedDim: dim, frameCount: frames), using: &generator)
let parameters = model.parameters() + time.parameters()
print("TIME on a toy video model: \(model.parameterCount) model + \(time.parameterCount) TIME head parameters")

/// Adam, kept here so the example depends on TensorCore and TemporalSSL only.
struct Adam {
    var m: [[Float]], v: [[Float]], step = 0
    init(_ parameters: [Parameter]) {
        m = parameters.map { [Float](repeating: 0, count: $0.value.count) }
        v = m
    }
    mutating func update(_ parameters: [Parameter], learningRate: Float) {
        step += 1
        let c1 = 1 - Foundation.pow(Float(0.9), Float(step)), c2 = 1 - Foundation.pow(Float(0.999), Float(step))
        for (i, p) in parameters.enumerated() {
            guard let g = p.grad?.scalars else { continue }
            p.update { w in
                for j in 0..<w.count {
                    m[i][j] = 0.9 * m[i][j] + 0.1 * g[j]
                    v[i][j] = 0.999 * v[i][j] + 0.001 * g[j] * g[j]
                    w[j] -= learningRate * (m[i][j] / c1) / ((v[i][j] / c2).squareRoot() + 1e-8)
                }
            }
        }
    }
}

var optimizer = Adam(parameters)
var firstTerms: [(name: String, value: Float)] = [], lastTerms: [(name: String, value: Float)] = []
for step in 1...steps {
    let (clips, labels, flowLabels) = makeBatch(using: &generator)
    // TIME's step: the clips' forward, one frame permutation for the batch, the shuffled clips'
    // forward, and the four weighted terms.
    let (terms, _) = time.step(clips: clips, labels: labels, flowLabels: flowLabels, using: &generator,
                               forward: { model($0) }, classify: { model($0).logits })
    let total = terms.total
    for p in parameters { p.zeroGrad() }
    total.backward()
    optimizer.update(parameters, learningRate: 2e-3)
    if step == 1 { firstTerms = terms.values }
    lastTerms = terms.values
    if step == 1 || step % 25 == 0 {
        let parts = terms.values.map { String(format: "%@ %.3f", $0.name, $0.value) }.joined(separator: "  ")
        print(String(format: "step %3d  total %.3f  ", step, total.item) + parts)
    }
}
// The supervised, order and flow terms must have fallen; debias is held near ln 4 on purpose.
var failed = false
for (first, last) in zip(firstTerms, lastTerms) where first.name != "debias" {
    print(String(format: "%@: %.3f → %.3f", first.name, first.value, last.value))
    if !(last.value < first.value) { failed = true }
}
if failed {
    print("error: a TIME term did not decrease")
    exit(1)
}
