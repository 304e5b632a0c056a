// The portable table: plain C on one float at a time, which the compiler may still vectorise for
// the baseline instruction set. It is the fallback on CPUs without AVX2 and the reference the
// vector tables are tested against.
#include "KernelTables.h"
#include <math.h>
#include <stdint.h>
#include <string.h>

typedef float vf;
#define VW 1
#define K(name) name##_portable
#define VSSL_TABLE_ISA VSSL_ISA_PORTABLE
#define VSSL_TABLE_SGEMM NULL
#define VSSL_TABLE_NAME "portable"

static inline vf vload(const float *p) { return *p; }
static inline void vstore(float *p, vf v) { *p = v; }
// One lane never has a partial tail.
static inline vf vloadn(const float *p, ptrdiff_t k, float fill) { return k > 0 ? *p : fill; }
static inline void vstoren(float *p, vf v, ptrdiff_t k) { if (k > 0) *p = v; }
static inline vf vset(float x) { return x; }
static inline vf vadd(vf a, vf b) { return a + b; }
static inline vf vsub(vf a, vf b) { return a - b; }
static inline vf vmul(vf a, vf b) { return a * b; }
static inline vf vdiv(vf a, vf b) { return a / b; }
static inline vf vsqrt(vf a) { return sqrtf(a); }
static inline vf vfmadd(vf a, vf b, vf c) { return a * b + c; }
static inline vf vfnmadd(vf a, vf b, vf c) { return c - a * b; }
static inline vf vfmadd_exact(vf a, vf b, vf c) { return fmaf(a, b, c); }
// The x86 rule: the second operand unless the comparison holds (so NaN in `a` gives `b`).
static inline vf vmin(vf a, vf b) { return a < b ? a : b; }
static inline vf vmax(vf a, vf b) { return a > b ? a : b; }
static inline vf vsel_lt(vf x, vf y, vf a, vf b) { return x < y ? a : b; }
static inline float vhsum(vf a) { return a; }
static inline float vhmax(vf a) { return a; }
static inline vf vpow2_magic(vf s) {
    uint32_t bits;
    memcpy(&bits, &s, sizeof bits);
    bits = (bits - 0x4B400000u + 127u) << 23;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

#include "KernelBodies.h"
