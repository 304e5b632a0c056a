import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Durable file replacement: bytes go to a temporary file in the same folder, which is flushed to
/// disk and renamed over the destination, and the folder itself is then flushed, so after a crash
/// the destination holds either the old or the new contents, never a mix.
enum AtomicFile {
    static func write(_ data: Data, to path: String) throws(TrainingCheckpointError) {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        let temporary = folder + "/.\(url.lastPathComponent).\(UUID().uuidString).tmp"
        do {
            guard FileManager.default.createFile(atPath: temporary, contents: nil) else {
                throw TrainingCheckpointError.writeFailed(path: path, reason: "cannot create \(temporary)")
            }
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: temporary))
            try handle.write(contentsOf: data)
            try handle.synchronize()
            try handle.close()
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw .writeFailed(path: path, reason: "\(error)")
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: temporary)
            throw .writeFailed(path: path, reason: reason)
        }
        syncDirectory(folder)
    }

    /// Flushes a folder's entries (the renames and creations in it) to disk.
    static func syncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        _ = close(fd)
    }
}
