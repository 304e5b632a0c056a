internal import _CKernels

/// The C kernel table behind TensorCore's elementwise, softmax, layer-norm and reduction ops.
///
/// The package builds for baseline x86-64, so Swift code gets SSE2 and no FMA. The `_CKernels`
/// target compiles the same kernels a second and a third time with per-function AVX2 + FMA and
/// AVX-512 target attributes; the best table the CPU supports is chosen once per process (the
/// environment variable `VIDEOSSL_KERNELS=portable|avx2|avx512` caps it, to measure or test a
/// lower one). Callers split work over ``ComputeContext`` themselves; each kernel runs on the
/// calling thread.
enum Kernels {
    /// The table in use. It holds only function pointers and a static name string, never written
    /// after the first read.
    nonisolated(unsafe) static let table: vssl_kernels = vssl_active_kernels().pointee

    /// Elements per parallel chunk below which splitting an elementwise kernel costs more than it
    /// saves.
    static var elementwiseGrain: Int { 32_768 }

    /// Runs `body` over contiguous element ranges of `0..<count` on the compute threads.
    @inline(__always)
    static func forChunks(_ count: Int, grain: Int = elementwiseGrain, _ body: (_ start: Int, _ length: Int) -> Void) {
        ComputeContext.parallelFor(count, minimumChunk: grain) { range in
            body(range.lowerBound, range.count)
        }
    }
}

extension ComputeContext {
    /// The instruction set TensorCore's own kernels use in this process: `"avx512"`, `"avx2"`
    /// or `"portable"`.
    public static var kernelInstructionSet: String { String(cString: Kernels.table.name) }
}
