// A packed single-precision GEMM for the AVX-512 table (row-major, any transposes, alpha/beta),
// after Goto and van de Geijn. Loops, outermost first: NC-column blocks of C; KC-deep slices of the
// inner dimension, op(B)'s KC×NC block packed into NR-column panels (level-2 cache); MR-row
// micro-panels of op(A), each packed (level-1 cache) while the next one is prefetched; then one
// 8×48 micro-kernel call per panel of B, which keeps 24 accumulators in registers and per step
// multiplies three 16-lane vectors of B by eight broadcast elements of A. Edges are zero-padded in
// the packs and stored through masks; a last panel of 16 or 32 columns runs a narrower kernel.
//
// Why it exists: OpenBLAS runs with OPENBLAS_CORETYPE=Haswell on the development machine (AVX2
// kernels, about 100 GFLOP/s per core on the convolution shapes). This runs the same shapes at
// 120–190 GFLOP/s per core (Zen 5, single-threaded, best of seven), about what OpenBLAS's own
// AVX-512 kernels reach. The transposing packs use 16×16 register transposes: scalar ones cost
// the weight-gradient product (op(B) = colsᵀ) a third of its speed.
#if defined(__x86_64__)
#include "KernelTables.h"
#include <immintrin.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#pragma clang attribute push(__attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma"))), \
                             apply_to = function)

// MR×NR micro-tile; KC×NC floats of packed B (600 KiB) stay in the 1 MiB level-2 cache, MR×KC of
// packed A (10 KiB) in the 48 KiB level-1 cache. KC 320 rather than 256 passes over C once per 320
// of the inner dimension: the weight-gradient products (C is the whole 1.7 MB gradient of a
// 128-channel layer, the inner dimension a 280-column band) ran about 10 % faster with it and
// with C's tile prefetched; NN shapes did not move beyond the noise.
enum { MR = 8, NR = 48, KC = 320, NC = 480 };

// One pack buffer per thread (KC×NC floats of B and MR×KC of A), allocated on first use and
// freed when the thread exits.
static pthread_key_t vssl_gemm_key;
static pthread_once_t vssl_gemm_once = PTHREAD_ONCE_INIT;
static void vssl_gemm_make_key(void) { pthread_key_create(&vssl_gemm_key, free); }

static float *vssl_gemm_buffer(void) {
    pthread_once(&vssl_gemm_once, vssl_gemm_make_key);
    float *buffer = pthread_getspecific(vssl_gemm_key);
    if (!buffer) {
        buffer = aligned_alloc(64, sizeof(float) * (KC * NC + MR * KC));
        if (!buffer) abort();
        pthread_setspecific(vssl_gemm_key, buffer);
    }
    return buffer;
}

static inline __mmask16 lanes(ptrdiff_t k) {
    return k >= 16 ? (__mmask16)0xFFFF : k <= 0 ? (__mmask16)0 : (__mmask16)((1u << k) - 1u);
}

// r[q][i] ← r[i][q]: a 16×16 transpose in registers (pairs, then quads, then 128-bit lanes).
static inline void transpose16(__m512 r[16]) {
    __m512 t[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 4; i++) {
        r[4 * i] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(1, 0, 1, 0));
        r[4 * i + 1] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(3, 2, 3, 2));
        r[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(1, 0, 1, 0));
        r[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int i = 0; i < 4; i++) {
        t[i] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0x88);
        t[i + 4] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0xdd);
        t[i + 8] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0x88);
        t[i + 12] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0xdd);
    }
    for (int i = 0; i < 4; i++) {
        r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
        r[i + 4] = _mm512_shuffle_f32x4(t[i + 4], t[i + 12], 0x88);
        r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xdd);
        r[i + 12] = _mm512_shuffle_f32x4(t[i + 4], t[i + 12], 0xdd);
    }
}
// bp[p·NR + j] = op(B)[pc + p, jc + j] for each NR-column panel, zero past nc.
static void pack_b(int transB, const float *b, ptrdiff_t ldb, ptrdiff_t pc, ptrdiff_t kc, ptrdiff_t jc,
                   ptrdiff_t nc, float *bp) {
    for (ptrdiff_t jr = 0; jr < nc; jr += NR, bp += NR * kc) {
        ptrdiff_t nr = nc - jr < NR ? nc - jr : NR;
        if (!transB) {
            const float *src = b + pc * ldb + jc + jr;
            if (nr == NR) {
                for (ptrdiff_t p = 0; p < kc; p++, src += ldb) {
                    _mm512_store_ps(bp + p * NR, _mm512_loadu_ps(src));
                    _mm512_store_ps(bp + p * NR + 16, _mm512_loadu_ps(src + 16));
                    _mm512_store_ps(bp + p * NR + 32, _mm512_loadu_ps(src + 32));
                }
            } else {
                __mmask16 m0 = lanes(nr), m1 = lanes(nr - 16), m2 = lanes(nr - 32);
                for (ptrdiff_t p = 0; p < kc; p++, src += ldb) {
                    _mm512_store_ps(bp + p * NR, _mm512_maskz_loadu_ps(m0, src));
                    _mm512_store_ps(bp + p * NR + 16, _mm512_maskz_loadu_ps(m1, src + 16));
                    _mm512_store_ps(bp + p * NR + 32, _mm512_maskz_loadu_ps(m2, src + 32));
                }
            }
        } else {
            // op(B)[p, j] = B[j, p]: 16 rows of B, 16 floats each, transposed in registers.
            for (ptrdiff_t j0 = 0; j0 < NR; j0 += 16) {
                ptrdiff_t jn = nr - j0;
                for (ptrdiff_t p0 = 0; p0 < kc; p0 += 16) {
                    ptrdiff_t pn = kc - p0 < 16 ? kc - p0 : 16;
                    __mmask16 pm = lanes(pn);
                    __m512 r[16];
                    for (int i = 0; i < 16; i++) {
                        r[i] = i < jn ? _mm512_maskz_loadu_ps(pm, b + (jc + jr + j0 + i) * ldb + pc + p0)
                                      : _mm512_setzero_ps();
                    }
                    transpose16(r);
                    for (ptrdiff_t q = 0; q < pn; q++) _mm512_store_ps(bp + (p0 + q) * NR + j0, r[q]);
                }
            }
        }
    }
}

// ap[p·MR + r] = op(A)[ic + r, pc + p], zero past mr.
static void pack_a(int transA, const float *a, ptrdiff_t lda, ptrdiff_t ic, ptrdiff_t mr, ptrdiff_t pc,
                   ptrdiff_t kc, ptrdiff_t next_m, float *ap) {
    if (transA) {
        const float *src = a + pc * lda + ic;
        __mmask8 m = (__mmask8)lanes(mr);
        for (ptrdiff_t p = 0; p < kc; p++, src += lda) {
            _mm256_store_ps(ap + p * MR, _mm256_maskz_loadu_ps(m, src));
        }
        return;
    }
    // The rows of the next micro-panel are fetched while this one is multiplied: a large weight
    // matrix comes from memory, and a short run per row gives the hardware prefetcher no time.
    for (ptrdiff_t r = 0; r < MR && ic + MR + r < next_m; r++) {
        const char *ahead = (const char *)(a + (ic + MR + r) * lda + pc);
        for (ptrdiff_t off = 0; off < kc * (ptrdiff_t)sizeof(float); off += 64) _mm_prefetch(ahead + off, _MM_HINT_T0);
    }
    // Eight rows of 16 floats transposed in registers (the upper half of the transpose is zeros).
    for (ptrdiff_t p0 = 0; p0 < kc; p0 += 16) {
        ptrdiff_t pn = kc - p0 < 16 ? kc - p0 : 16;
        __mmask16 pm = lanes(pn);
        __m512 r[16];
        for (int i = 0; i < 16; i++) {
            r[i] = i < mr ? _mm512_maskz_loadu_ps(pm, a + (ic + i) * lda + pc + p0) : _mm512_setzero_ps();
        }
        transpose16(r);
        for (ptrdiff_t q = 0; q < pn; q++) _mm256_store_ps(ap + (p0 + q) * MR, _mm512_castps512_ps256(r[q]));
    }
}

// Rows of the micro-kernel, spelled out so the accumulators stay in registers.
#define FOR_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)

// One micro-kernel per panel width in vectors (1, 2 or 3 of 16 lanes), so a narrow last panel
// does not multiply a full 48 columns of zeros: C[0..<mr, 0..<nr] = alpha·(Ap·Bp) + beta·C over kc
// steps, C not read when beta is 0. The packed panel keeps its NR-float stride.
#define DECLARE(r) __m512 c##r##0 = _mm512_setzero_ps(), c##r##1 = c##r##0, c##r##2 = c##r##0;
#define FMA(r)                                                                                      \
    {                                                                                               \
        __m512 av = _mm512_set1_ps(ap[r]);                                                          \
        c##r##0 = _mm512_fmadd_ps(av, b0, c##r##0);                                                 \
        if (NV > 1) c##r##1 = _mm512_fmadd_ps(av, b1, c##r##1);                                     \
        if (NV > 2) c##r##2 = _mm512_fmadd_ps(av, b2, c##r##2);                                     \
    }
#define STORE_ONE(cr, acc, mask)                                                                    \
    _mm512_mask_storeu_ps(cr, mask, beta == 0 ? _mm512_mul_ps(va, acc)                              \
                          : _mm512_fmadd_ps(va, acc, _mm512_mul_ps(vb, _mm512_maskz_loadu_ps(mask, cr))));
#define STORE(r)                                                                                    \
    if (r < mr) {                                                                                   \
        float *cr = c + r * ldc;                                                                    \
        STORE_ONE(cr, c##r##0, m0)                                                                  \
        if (NV > 1) STORE_ONE(cr + 16, c##r##1, m1)                                                 \
        if (NV > 2) STORE_ONE(cr + 32, c##r##2, m2)                                                 \
    }
// The tile of C is read only after the k loop; asking for it first hides the miss behind it.
#define PREFETCH_C(r)                                                                               \
    if (r < mr) {                                                                                   \
        _mm_prefetch((const char *)(c + r * ldc), _MM_HINT_T0);                                     \
        if (NV > 1) _mm_prefetch((const char *)(c + r * ldc + 16), _MM_HINT_T0);                    \
        if (NV > 2) _mm_prefetch((const char *)(c + r * ldc + 32), _MM_HINT_T0);                    \
    }
#define MICRO_KERNEL(W)                                                                             \
    static void micro_kernel_##W(ptrdiff_t kc, const float *ap, const float *bp, float *c,        \
                                  ptrdiff_t ldc, ptrdiff_t mr, ptrdiff_t nr, float alpha, float beta) { \
        enum { NV = W };                                                                            \
        if (beta != 0) { FOR_ROWS(PREFETCH_C) }                                                     \
        FOR_ROWS(DECLARE)                                                                           \
        _Pragma("clang loop unroll_count(4)")                                                       \
        for (ptrdiff_t p = 0; p < kc; p++) {                                                        \
            __m512 b0 = _mm512_load_ps(bp);                                                         \
            __m512 b1 = NV > 1 ? _mm512_load_ps(bp + 16) : b0;                                      \
            __m512 b2 = NV > 2 ? _mm512_load_ps(bp + 32) : b0;                                      \
            FOR_ROWS(FMA)                                                                           \
            ap += MR;                                                                               \
            bp += NR;                                                                               \
        }                                                                                           \
        const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);                         \
        const __mmask16 m0 = lanes(nr), m1 = lanes(nr - 16), m2 = lanes(nr - 32);                   \
        (void)m1; (void)m2;                                                                         \
        FOR_ROWS(STORE)                                                                             \
    }
MICRO_KERNEL(1)
MICRO_KERNEL(2)
MICRO_KERNEL(3)

// Splits `total` into the fewest blocks of at most `limit`, of nearly equal size rounded up to `unit`.
static ptrdiff_t block_size(ptrdiff_t total, ptrdiff_t limit, ptrdiff_t unit) {
    ptrdiff_t blocks = (total + limit - 1) / limit;
    ptrdiff_t size = (total + blocks - 1) / blocks;
    return (size + unit - 1) / unit * unit;
}

void vssl_sgemm_avx512(int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, const float *a,
                       ptrdiff_t lda, const float *b, ptrdiff_t ldb, float beta, float *c, ptrdiff_t ldc) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0 || alpha == 0) {
        for (ptrdiff_t i = 0; i < m; i++) {
            float *row = c + i * ldc;
            if (beta == 0) memset(row, 0, sizeof(float) * (size_t)n);
            else if (beta != 1) for (ptrdiff_t j = 0; j < n; j++) row[j] *= beta;
        }
        return;
    }
    float *bp = vssl_gemm_buffer();
    float *ap = bp + KC * NC;
    const ptrdiff_t ncBlock = block_size(n, NC, NR), kcBlock = block_size(k, KC, 1);
    for (ptrdiff_t jc = 0; jc < n; jc += ncBlock) {
        ptrdiff_t nc = n - jc < ncBlock ? n - jc : ncBlock;
        for (ptrdiff_t pc = 0; pc < k; pc += kcBlock) {
            ptrdiff_t kc = k - pc < kcBlock ? k - pc : kcBlock;
            float betaBlock = pc == 0 ? beta : 1.0f;
            pack_b(transB, b, ldb, pc, kc, jc, nc, bp);
            for (ptrdiff_t ic = 0; ic < m; ic += MR) {
                ptrdiff_t mr = m - ic < MR ? m - ic : MR;
                pack_a(transA, a, lda, ic, mr, pc, kc, m, ap);
                for (ptrdiff_t jr = 0; jr < nc; jr += NR) {
                    ptrdiff_t nr = nc - jr < NR ? nc - jr : NR;
                    float *cb = c + ic * ldc + jc + jr;
                    const float *bpanel = bp + jr * kc;
                    if (nr > 32) micro_kernel_3(kc, ap, bpanel, cb, ldc, mr, nr, alpha, betaBlock);
                    else if (nr > 16) micro_kernel_2(kc, ap, bpanel, cb, ldc, mr, nr, alpha, betaBlock);
                    else micro_kernel_1(kc, ap, bpanel, cb, ldc, mr, nr, alpha, betaBlock);
                }
            }
        }
    }
}

#pragma clang attribute pop
#endif
