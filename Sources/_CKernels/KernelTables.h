#ifndef VIDEOSSL_KERNEL_TABLES_H
#define VIDEOSSL_KERNEL_TABLES_H
#include "_CKernels.h"

// One table per instruction set (KernelsPortable.c, KernelsAVX2.c, KernelsAVX512.c); the x86
// tables exist only on x86-64.
extern const vssl_kernels vssl_table_portable;
#if defined(__x86_64__)
extern const vssl_kernels vssl_table_avx2;
extern const vssl_kernels vssl_table_avx512;
#endif

#endif
