import Foundation

/// A run folder already holds another run.
public struct RunFolderError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The folder.
    public var path: String
    /// What shows another run is there.
    public var evidence: [String]

    /// The problem and the two ways on.
    public var description: String {
        "\(path) already holds a run (\(evidence.joined(separator: ", "))); continue it with --resume \(path), "
            + "choose another output_dir, or pass --overwrite to replace it"
    }
}

/// Rules that keep one run per folder.
enum RunFolder {
    /// What a run writes into its folder.
    static let artefacts = ["checkpoints", "config.yaml", "steps.jsonl", "steps.csv", "epochs.jsonl", "epochs.csv",
                            "curves.svg"]

    /// `path` made absolute against the working directory, so a run resumed from elsewhere finds
    /// its folder (the absolute path is what `config.yaml` records).
    static func absolute(_ path: String) -> String {
        var url = URL(fileURLWithPath: path)
        url.standardize()
        return url.path
    }

    /// Checks that a new run may write into `path`: the folder is absent, empty, or holds none of
    /// a run's files. With `overwrite`, another run's files are removed first.
    static func claim(_ path: String, overwrite: Bool) throws {
        let fm = FileManager.default
        let found = artefacts.filter { fm.fileExists(atPath: path + "/" + $0) }
        guard !found.isEmpty else { return }
        guard overwrite else { throw RunFolderError(path: path, evidence: found) }
        for name in found { try fm.removeItem(atPath: path + "/" + name) }
    }
}
