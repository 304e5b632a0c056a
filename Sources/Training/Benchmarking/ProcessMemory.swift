import Foundation
import TensorCore

/// What the process holds in memory, read from the kernel and the allocator (Linux; `nil`
/// elsewhere).
enum ProcessMemory {
    /// The resident set now (`VmRSS`).
    static func residentBytes() -> Int? { statusField("VmRSS:") }

    /// The largest resident set so far (`VmHWM`), the figure a memory limit is checked against.
    static func peakResidentBytes() -> Int? { statusField("VmHWM:") }

    /// Bytes handed out by malloc and not yet freed (``HeapStatistics/inUseBytes()``).
    static func heapInUseBytes() -> Int? { HeapStatistics.inUseBytes() }

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
