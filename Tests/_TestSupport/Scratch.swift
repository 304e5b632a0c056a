import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Folders for the files tests write.
///
/// Every folder lies under one folder per test process in the system's temporary directory, and
/// that folder is removed when the process exits, so a test run leaves nothing behind. Folders left
/// by a process that did not exit normally (a crash, a kill) are removed by the next test process.
public enum Scratch {
    /// A fresh, empty folder whose name starts with `label`.
    public static func directory(_ label: String) -> URL {
        let url = root.appendingPathComponent("\(label)-\(UUID().uuidString)", isDirectory: true)
        // A test cannot go on without its folder; failing here names the cause.
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    private static let prefix = "videossl-tests-"

    private static func rootPath(of process: Int32) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)\(process)").path
    }

    private static let root: URL = {
        let manager = FileManager.default
        let base = manager.temporaryDirectory.path
        for name in (try? manager.contentsOfDirectory(atPath: base)) ?? [] where name.hasPrefix(prefix) {
            // A signal-0 kill that fails with ESRCH means no such process: its folder is stale.
            guard let owner = Int32(name.dropFirst(prefix.count)), owner != getpid(),
                  kill(owner, 0) != 0, errno == ESRCH else { continue }
            try? manager.removeItem(atPath: rootPath(of: owner))
        }
        let path = rootPath(of: getpid())
        try? manager.createDirectory(atPath: path, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(atPath: Scratch.rootPath(of: getpid())) }
        return URL(fileURLWithPath: path, isDirectory: true)
    }()
}
