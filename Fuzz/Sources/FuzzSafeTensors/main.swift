// The safetensors reader on arbitrary bytes: a typed error or a file whose tensors all convert.
import Foundation
import FuzzDriver
import TensorCore

runFuzzer { input in
    guard let file = try? SafeTensors.parse(Data(input), path: "fuzz") else { return }
    _ = try? file.floatTensors()
    for entry in file.entries where !entry.dtype.isFloatingPoint { _ = try? file.integers(named: entry.name) }
}
