// The AVX2 + FMA table: eight lanes, compiled for those instructions through a target attribute on
// every function here (the package itself builds for baseline x86-64) and used only when the CPU
// reports both.
#if defined(__x86_64__)
#include "KernelTables.h"
#include <immintrin.h>
#include <math.h>
#include <stdint.h>

#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)

typedef __m256 vf;
#define VW 8
#define K(name) name##_avx2
#define VSSL_TABLE_ISA VSSL_ISA_AVX2
#define VSSL_TABLE_SGEMM NULL
#define VSSL_TABLE_NAME "avx2"

static const int32_t vssl_lane_masks[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
// Lanes 0..<k set, 0 < k < 8.
static inline __m256i vmask(ptrdiff_t k) { return _mm256_loadu_si256((const __m256i *)(vssl_lane_masks + 8 - k)); }

static inline vf vload(const float *p) { return _mm256_loadu_ps(p); }
static inline void vstore(float *p, vf v) { _mm256_storeu_ps(p, v); }
static inline vf vloadn(const float *p, ptrdiff_t k, float fill) {
    __m256i m = vmask(k);
    return _mm256_blendv_ps(_mm256_set1_ps(fill), _mm256_maskload_ps(p, m), _mm256_castsi256_ps(m));
}
static inline void vstoren(float *p, vf v, ptrdiff_t k) { _mm256_maskstore_ps(p, vmask(k), v); }
static inline vf vset(float x) { return _mm256_set1_ps(x); }
static inline vf vadd(vf a, vf b) { return _mm256_add_ps(a, b); }
static inline vf vsub(vf a, vf b) { return _mm256_sub_ps(a, b); }
static inline vf vmul(vf a, vf b) { return _mm256_mul_ps(a, b); }
static inline vf vdiv(vf a, vf b) { return _mm256_div_ps(a, b); }
static inline vf vsqrt(vf a) { return _mm256_sqrt_ps(a); }
static inline vf vfmadd(vf a, vf b, vf c) { return _mm256_fmadd_ps(a, b, c); }
static inline vf vfnmadd(vf a, vf b, vf c) { return _mm256_fnmadd_ps(a, b, c); }
static inline vf vfmadd_exact(vf a, vf b, vf c) { return _mm256_fmadd_ps(a, b, c); }
static inline vf vmin(vf a, vf b) { return _mm256_min_ps(a, b); }
static inline vf vmax(vf a, vf b) { return _mm256_max_ps(a, b); }
static inline vf vsel_lt(vf x, vf y, vf a, vf b) { return _mm256_blendv_ps(b, a, _mm256_cmp_ps(x, y, _CMP_LT_OQ)); }
static inline float vhsum(vf v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}
static inline float vhmax(vf v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_max_ss(s, _mm_movehdup_ps(s)));
}
static inline vf vpow2_magic(vf s) {
    __m256i bits = _mm256_add_epi32(_mm256_castps_si256(s), _mm256_set1_epi32(127 - 0x4B400000));
    return _mm256_castsi256_ps(_mm256_slli_epi32(bits, 23));
}

#include "KernelBodies.h"

#pragma clang attribute pop
#endif
