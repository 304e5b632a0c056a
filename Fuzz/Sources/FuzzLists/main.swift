// Dataset lists, SSv2 label JSON, class names and class-subset JSON on arbitrary bytes, read from
// a file as a user's would be (one scratch folder per process).
import Foundation
import FuzzDriver
import Training
import VideoIO

let folder = FileManager.default.temporaryDirectory.appendingPathComponent("videossl-fuzz-lists-\(getpid())").path
try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
let file = folder + "/input"

runFuzzer { input in
    guard FileManager.default.createFile(atPath: file, contents: Data(input)) else { return }
    _ = try? VideoDataset.pathLabelList(at: file, root: folder)
    _ = try? VideoDataset.frameList(at: file, root: folder)
    _ = try? VideoDataset.readClassNames(at: file)
    _ = try? ClassSubsets.load(from: file, classNames: ["a", "b", "c"])
    _ = try? VideoDataset.somethingSomethingV2(labels: file, annotations: file, videoRoot: folder)
}
