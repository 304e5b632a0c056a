#if os(Linux)
internal import _CMalloc
#endif

/// What the allocator currently hands out, for memory estimates and benchmarks.
public enum HeapStatistics {
    /// Bytes handed out by malloc and not yet freed: small blocks in every arena (`uordblks`)
    /// plus blocks served by their own `mmap` (`hblkhd`); `nil` where the allocator cannot be
    /// queried (anything but glibc). Unlike the resident set, this falls when tensors are freed,
    /// even though glibc keeps the pages (see ``ComputeContext``).
    public static func inUseBytes() -> Int? {
        #if os(Linux)
        let info = mallinfo2()
        return Int(info.uordblks) + Int(info.hblkhd)
        #else
        return nil
        #endif
    }
}
