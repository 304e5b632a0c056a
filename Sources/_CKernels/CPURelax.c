// The spin-wait hint of TensorCore's worker pool.
#include "_CKernels.h"
#if defined(__x86_64__)
#include <immintrin.h>
#endif

void vssl_cpu_relax(void) {
#if defined(__x86_64__)
    _mm_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}
