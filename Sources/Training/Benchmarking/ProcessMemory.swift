import Foundation

/// What the process holds in memory, read from the kernel (Linux; `nil` elsewhere); the
/// allocator's figure is TensorCore's ``HeapStatistics``.
enum ProcessMemory {
    /// The resident set now (`VmRSS`).
    static func residentBytes() -> Int? { statusField("VmRSS:") }

    /// The largest resident set so far (`VmHWM`), the figure a memory limit is checked against.
    static func peakResidentBytes() -> Int? { statusField("VmHWM:") }

    private static func statusField(_ name: String) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix(name) {
            // "VmHWM:     123456 kB"
            guard let kilobytes = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else { return nil }
            return kilobytes * 1024
        }
        return nil
    }
}
