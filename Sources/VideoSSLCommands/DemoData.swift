import Foundation
import VideoIO

/// The synthetic video dataset the demos train on.
enum DemoData {
    /// Writes the synthetic videos described by `configuration` to `folder` unless an earlier run
    /// of the demo left a dataset there (its `subsets.json`), and returns `folder`.
    @discardableResult
    static func synthetic(at folder: String, _ configuration: SyntheticDataset.Configuration) throws -> String {
        if !FileManager.default.fileExists(atPath: folder + "/subsets.json") {
            print("writing the synthetic dataset to \(folder) …")
            try SyntheticDataset.write(to: folder, configuration: configuration)
        }
        return folder
    }
}
