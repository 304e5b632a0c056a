import Foundation

/// Keeps benchmark results observable so the optimiser cannot drop the measured work.
nonisolated(unsafe) var blackHole: Float = 0

/// Median seconds per call of a candidate and its baseline, sampled alternately.
struct PairedTiming {
    var candidate: Double
    var baseline: Double
    var repeats: Int
}

/// Times `candidate` and `baseline` `repeats` times each, alternating so that drift in clock speed
/// or background load hits both alike; each sample averages `inner` back-to-back calls.
func measurePair(
    repeats: Int, inner: Int, candidate: () -> Void, baseline: () -> Void
) -> PairedTiming {
    candidate()
    baseline()
    var a: [Double] = [], b: [Double] = []
    for _ in 0..<repeats {
        a.append(secondsPerCall(inner, candidate))
        b.append(secondsPerCall(inner, baseline))
    }
    return PairedTiming(candidate: median(a), baseline: median(b), repeats: repeats)
}

/// Chooses how many calls make one sample: enough for about `target` seconds, at least one.
func innerCount(target: Double = 0.05, _ body: () -> Void) -> Int {
    let once = secondsPerCall(1, body)
    return Swift.max(1, Int(target / Swift.max(once, 1e-9)))
}

func secondsPerCall(_ n: Int, _ body: () -> Void) -> Double {
    let clock = ContinuousClock()
    let start = clock.now
    for _ in 0..<n { body() }
    let elapsed = clock.now - start
    let (seconds, attoseconds) = elapsed.components
    return (Double(seconds) + Double(attoseconds) * 1e-18) / Double(n)
}

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    guard !s.isEmpty else { return .nan }
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// Rounds for a readable report (four significant decimals are plenty for timings).
func rounded(_ x: Double, _ places: Int = 3) -> Double {
    let f = Foundation.pow(10, Double(places))
    return (x * f).rounded() / f
}

/// Peak resident set size of this process in MiB (`VmHWM` in /proc/self/status), or nil where
/// that file does not exist.
func peakResidentMiB() -> Double? {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        if fields.count >= 2, let kib = Double(fields[1]) { return rounded(kib / 1024, 1) }
    }
    return nil
}

/// Tells glibc's allocator to keep freed buffers in the heap rather than hand them back to the
/// kernel, the steady state a long training run reaches anyway. Without it every large tensor is a
/// fresh mmap and the figures measure page faults, differently depending on what ran before.
/// `mallopt` is looked up at run time because Swift's Glibc module does not export <malloc.h>.
func keepFreedMemoryInHeap() {
    #if os(Linux)
    typealias MallOpt = @convention(c) (Int32, Int32) -> Int32
    guard let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, "mallopt") else { return }
    let mallopt = unsafeBitCast(symbol, to: MallOpt.self)
    let trimThreshold: Int32 = -1, mmapThreshold: Int32 = -3  // M_TRIM_THRESHOLD, M_MMAP_THRESHOLD
    _ = mallopt(mmapThreshold, 32 << 20)  // glibc's largest accepted value on 64-bit
    _ = mallopt(trimThreshold, 1 << 30)
    #endif
}
