// The checkpoint reader (zip container, restricted unpickler, safetensors) on arbitrary bytes.
import Foundation
import FuzzDriver
import VideoTransformers

runFuzzer { input in
    guard let checkpoint = try? Checkpoint.parse(Data(input), path: "fuzz") else { return }
    for (_, tensor) in checkpoint.tensors { _ = tensor.count }
}
