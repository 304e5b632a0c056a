#ifndef VIDEOSSL_KERNEL_TABLES_H
#define VIDEOSSL_KERNEL_TABLES_H
#include "_CKernels.h"

// One table per instruction set (KernelsPortable.c, KernelsAVX2.c, KernelsAVX512.c); the x86
// tables exist only on x86-64.
extern const vssl_kernels vssl_table_portable;
#if defined(__x86_64__)
extern const vssl_kernels vssl_table_avx2;
extern const vssl_kernels vssl_table_avx512;
// The AVX-512 table's GEMM (GEMMAVX512.c).
void vssl_sgemm_avx512(int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, const float *a,
                       ptrdiff_t lda, const float *b, ptrdiff_t ldb, float beta, float *c, ptrdiff_t ldc);
#endif

#endif
