// A two-block Transformer trained with TensorCore alone on a generated sequence task:
// reverse a sequence of 8 digits. The loss starts at ln 10 ≈ 2.30 (chance) and falls as the model
// learns to attend from each position to its mirror.
import Foundation
import TensorCore

let vocabulary = 10, length = 8, dim = 32, heads = 4, depth = 2
let batchSize = 32, steps = 400, learningRate: Float = 3e-3

/// Pre-norm Transformer block (the ViT layout: norm1 → attention → norm2 → MLP, both residual).
final class Block: Module {
    let norm1: LayerNorm, qkv: Linear, proj: Linear, norm2: LayerNorm, mlp: Mlp

    init(using generator: inout RandomGenerator) {
        norm1 = LayerNorm(dim, epsilon: 1e-6)
        qkv = Linear(inFeatures: dim, outFeatures: 3 * dim, using: &generator)
        proj = Linear(inFeatures: dim, outFeatures: dim, using: &generator)
        norm2 = LayerNorm(dim, epsilon: 1e-6)
        mlp = Mlp(inFeatures: dim, hiddenFeatures: 4 * dim, using: &generator)
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        let (b, n) = (x.shape[0], x.shape[1])
        // [B, N, 3C] → three [B, heads, N, C/heads] tensors.
        let parts = qkv(norm1(x)).reshaped([b, n, 3, heads, dim / heads]).permuted([2, 0, 3, 1, 4])
        let (q, k, v) = (parts.slice(axis: 0, range: 0..<1).squeezed(axis: 0),
                         parts.slice(axis: 0, range: 1..<2).squeezed(axis: 0),
                         parts.slice(axis: 0, range: 2..<3).squeezed(axis: 0))
        let attended = Tensor.scaledDotProductAttention(query: q, key: k, value: v)
        let h = x + proj(attended.permuted([0, 2, 1, 3]).reshaped([b, n, dim]))
        return h + mlp(norm2(h))
    }
}

final class SequenceModel: Module {
    let embed: Linear, posEmbed: Parameter, blocks: [Block], norm: LayerNorm, head: Linear

    init(using generator: inout RandomGenerator) {
        embed = Linear(inFeatures: vocabulary, outFeatures: dim, using: &generator)
        posEmbed = Parameter(Tensor.truncatedNormal([1, length, dim], std: 0.02, using: &generator))
        blocks = (0..<depth).map { _ in Block(using: &generator) }
        norm = LayerNorm(dim, epsilon: 1e-6)
        head = Linear(inFeatures: dim, outFeatures: vocabulary, using: &generator)
    }

    /// One-hot tokens `[B, L, V]` → logits `[B, L, V]`.
    func callAsFunction(_ tokens: Tensor) -> Tensor {
        var x = embed(tokens) + posEmbed.value
        for block in blocks { x = block(x) }
        return head(norm(x))
    }
}

/// A batch of random digit sequences (one-hot) and their reversals (labels, row-major).
func makeBatch(using generator: inout RandomGenerator) -> (Tensor, [Int]) {
    var oneHot = [Float](repeating: 0, count: batchSize * length * vocabulary)
    var labels = [Int](repeating: 0, count: batchSize * length)
    for b in 0..<batchSize {
        let digits = (0..<length).map { _ in generator.nextInt(below: vocabulary) }
        for t in 0..<length {
            oneHot[(b * length + t) * vocabulary + digits[t]] = 1
            labels[b * length + t] = digits[length - 1 - t]
        }
    }
    return (Tensor(shape: [batchSize, length, vocabulary], scalars: oneHot), labels)
}

/// Adam (Kingma & Ba), kept here so the example needs TensorCore only.
struct Adam {
    var firstMoments: [[Float]], secondMoments: [[Float]], step = 0
    let beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8

    init(_ parameters: [Parameter]) {
        firstMoments = parameters.map { [Float](repeating: 0, count: $0.value.count) }
        secondMoments = firstMoments
    }

    mutating func update(_ parameters: [Parameter], learningRate: Float) {
        step += 1
        let c1 = 1 - Foundation.pow(beta1, Float(step)), c2 = 1 - Foundation.pow(beta2, Float(step))
        for (i, p) in parameters.enumerated() {
            guard let grad = p.grad?.scalars else { continue }
            p.update { w in
                for j in 0..<w.count {
                    firstMoments[i][j] = beta1 * firstMoments[i][j] + (1 - beta1) * grad[j]
                    secondMoments[i][j] = beta2 * secondMoments[i][j] + (1 - beta2) * grad[j] * grad[j]
                    w[j] -= learningRate * (firstMoments[i][j] / c1) / ((secondMoments[i][j] / c2).squareRoot() + epsilon)
                }
            }
        }
    }
}

var generator = RandomGenerator(seed: 42)
let model = SequenceModel(using: &generator)
let parameters = model.parameters()
var optimizer = Adam(parameters)
print("TinyTransformer: reverse \(length) digits; \(model.parameterCount) parameters, \(ComputeContext.threadCount) threads")
let start = Date()
for step in 1...steps {
    let (tokens, labels) = makeBatch(using: &generator)
    let logits = model(tokens).reshaped([batchSize * length, vocabulary])
    let loss = crossEntropy(logits: logits, labels: labels)
    model.zeroGrad()
    loss.backward()
    optimizer.update(parameters, learningRate: learningRate)
    if step == 1 || step % 50 == 0 {
        let predictions = logits.argmax(axis: 1)
        let correct = zip(predictions, labels).filter { $0 == $1 }.count
        let accuracy = Double(correct) / Double(labels.count)
        print(String(format: "step %4d  loss %.4f  token accuracy %5.1f%%", step, loss.item, 100 * accuracy))
    }
}
print(String(format: "done in %.1f s", Date().timeIntervalSince(start)))
