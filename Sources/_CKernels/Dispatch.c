// Chooses the kernel table once per process from what the CPU supports.
#include "KernelTables.h"
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static int vssl_cpu_supports(int isa) {
    if (isa == VSSL_ISA_PORTABLE) return 1;
#if defined(__x86_64__)
    // These checks include the operating system's support for saving the wider registers.
    __builtin_cpu_init();
    int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (isa == VSSL_ISA_AVX2) return avx2;
    if (isa == VSSL_ISA_AVX512) {
        return avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq")
            && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
    }
#endif
    return 0;
}

const vssl_kernels *vssl_kernels_for_isa(int isa) {
    if (!vssl_cpu_supports(isa)) return NULL;
    switch (isa) {
    case VSSL_ISA_PORTABLE: return &vssl_table_portable;
#if defined(__x86_64__)
    case VSSL_ISA_AVX2: return &vssl_table_avx2;
    case VSSL_ISA_AVX512: return &vssl_table_avx512;
#endif
    default: return NULL;
    }
}

// The best table, capped by VIDEOSSL_KERNELS when it names one (to measure or test a lower one).
static const vssl_kernels *vssl_choose(void) {
    int best = VSSL_ISA_COUNT - 1;
    const char *requested = getenv("VIDEOSSL_KERNELS");
    if (requested) {
        for (int isa = 0; isa < VSSL_ISA_COUNT; isa++) {
            const vssl_kernels *table = vssl_kernels_for_isa(isa);
            if (table && strcmp(requested, table->name) == 0) best = isa;
        }
    }
    for (int isa = best; isa > VSSL_ISA_PORTABLE; isa--) {
        const vssl_kernels *table = vssl_kernels_for_isa(isa);
        if (table) return table;
    }
    return &vssl_table_portable;
}

const vssl_kernels *vssl_active_kernels(void) {
    // Threads that race here all store the same pointer.
    static _Atomic(const vssl_kernels *) active = NULL;
    const vssl_kernels *table = atomic_load_explicit(&active, memory_order_acquire);
    if (!table) {
        table = vssl_choose();
        atomic_store_explicit(&active, table, memory_order_release);
    }
    return table;
}
