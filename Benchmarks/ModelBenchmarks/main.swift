// Training-step and inference throughput of a registered backbone on the CPU.
// Usage: ModelBenchmarks [model] [batch] [steps]   (default timesformer_tiny_8x112 4 5)
import Foundation
import TensorCore
import VideoTransformers

let arguments = Array(CommandLine.arguments.dropFirst())
let name = arguments.first ?? "timesformer_tiny_8x112"
let batch = arguments.count > 1 ? Int(arguments[1])! : 4
let steps = arguments.count > 2 ? Int(arguments[2])! : 5

var generator = RandomGenerator(seed: 0)
let model = try Backbones.create(name, using: &generator)
let config = try Backbones.config(name)
let clip = Tensor.normal([batch, config.numFrames, 3, config.imgSize, config.imgSize], using: &generator)
let labels = (0..<batch).map { $0 % config.numClasses }

func seconds(_ body: () -> Void) -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
}

func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }

model.train()
var trainTimes: [Double] = []
for _ in 0..<(steps + 1) {
    trainTimes.append(seconds {
        let loss = crossEntropy(logits: model(clip), labels: labels)
        model.zeroGrad()
        loss.backward()
    })
}
model.eval()
var inferTimes: [Double] = []
for _ in 0..<(steps + 1) {
    inferTimes.append(seconds { _ = noGrad { model(clip) } })
}
let train = median(Array(trainTimes.dropFirst())), infer = median(Array(inferTimes.dropFirst()))
let peak = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8))?
    .split(separator: "\n").first { $0.hasPrefix("VmHWM") }.map(String.init) ?? "?"
print("""
{"model": "\(name)", "batch": \(batch), "threads": \(ComputeContext.threadCount), \
"trainStepSeconds": \(train), "trainClipsPerSecond": \(Double(batch) / train), \
"inferClipsPerSecond": \(Double(batch) / infer), "peak": "\(peak)"}
""")
