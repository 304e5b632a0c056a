// The AVX-512 table: sixteen lanes with masked tails, compiled for AVX-512 F/DQ/BW/VL through a
// target attribute on every function here and used only when the CPU reports all of them.
#if defined(__x86_64__)
#include "KernelTables.h"
#include <immintrin.h>
#include <math.h>
#include <stdint.h>

#pragma clang attribute push(__attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma"))), \
                             apply_to = function)

typedef __m512 vf;
#define VW 16
#define K(name) name##_avx512
#define VSSL_TABLE_ISA VSSL_ISA_AVX512
#define VSSL_TABLE_SGEMM vssl_sgemm_avx512
#define VSSL_TABLE_NAME "avx512"

static inline __mmask16 vmask(ptrdiff_t k) { return (__mmask16)((1u << k) - 1u); }
static inline vf vload(const float *p) { return _mm512_loadu_ps(p); }
static inline void vstore(float *p, vf v) { _mm512_storeu_ps(p, v); }
static inline vf vloadn(const float *p, ptrdiff_t k, float fill) {
    return _mm512_mask_loadu_ps(_mm512_set1_ps(fill), vmask(k), p);
}
static inline void vstoren(float *p, vf v, ptrdiff_t k) { _mm512_mask_storeu_ps(p, vmask(k), v); }
static inline vf vset(float x) { return _mm512_set1_ps(x); }
static inline vf vadd(vf a, vf b) { return _mm512_add_ps(a, b); }
static inline vf vsub(vf a, vf b) { return _mm512_sub_ps(a, b); }
static inline vf vmul(vf a, vf b) { return _mm512_mul_ps(a, b); }
static inline vf vdiv(vf a, vf b) { return _mm512_div_ps(a, b); }
static inline vf vsqrt(vf a) { return _mm512_sqrt_ps(a); }
static inline vf vfmadd(vf a, vf b, vf c) { return _mm512_fmadd_ps(a, b, c); }
static inline vf vfnmadd(vf a, vf b, vf c) { return _mm512_fnmadd_ps(a, b, c); }
static inline vf vfmadd_exact(vf a, vf b, vf c) { return _mm512_fmadd_ps(a, b, c); }
static inline vf vmin(vf a, vf b) { return _mm512_min_ps(a, b); }
static inline vf vmax(vf a, vf b) { return _mm512_max_ps(a, b); }
static inline vf vsel_lt(vf x, vf y, vf a, vf b) { return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, y, _CMP_LT_OQ), b, a); }
static inline float vhsum(vf v) { return _mm512_reduce_add_ps(v); }
static inline float vhmax(vf v) { return _mm512_reduce_max_ps(v); }
static inline vf vpow2_magic(vf s) {
    __m512i bits = _mm512_add_epi32(_mm512_castps_si512(s), _mm512_set1_epi32(127 - 0x4B400000));
    return _mm512_castsi512_ps(_mm512_slli_epi32(bits, 23));
}

#include "KernelBodies.h"

#pragma clang attribute pop
#endif
