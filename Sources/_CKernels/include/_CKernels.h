#ifndef VIDEOSSL_CKERNELS_H
#define VIDEOSSL_CKERNELS_H
// Float32 kernels behind TensorCore's memory-bound and transcendental ops (and, in the AVX-512
// table only, the convolutions' matrix product), compiled three times:
// portable C, AVX2 + FMA and AVX-512, each through a per-function target attribute (no compiler
// flag), and chosen once per process from what the CPU supports. Every table computes the same
// formulas; the vector ones fuse multiply-adds, so results may differ in the last bits.
//
// Counts are element counts; rows are contiguous unless a stride is given. Pointers marked
// _Nullable may be NULL; all others must be valid for the whole extent.
#include <stddef.h>

#pragma clang assume_nonnull begin

/// The instruction sets a table can be compiled for, best last.
enum {
    VSSL_ISA_PORTABLE = 0,
    VSSL_ISA_AVX2 = 1,
    VSSL_ISA_AVX512 = 2,
    VSSL_ISA_COUNT = 3
};

/// Scalar coefficients of one AdamW step (PyTorch's single-tensor arithmetic).
typedef struct vssl_adamw_coefficients {
    /// p ← p·decay first, when apply_decay is non-zero.
    float decay;
    int apply_decay;
    /// m ← m + w1·(g − m);  v ← v·b2 + w2·g².
    float w1, b2, w2;
    /// p ← p − step_size·m / (√v̂ / correction2_sqrt + epsilon).
    float step_size, correction2_sqrt, epsilon;
} vssl_adamw_coefficients;

/// One set of kernels compiled for one instruction set.
typedef struct vssl_kernels {
    /// The instruction set (a VSSL_ISA_ value) and its name.
    int isa;
    const char *name;

    /// y = x·Φ(x) with Φ from a rational erf (absolute error below 4e-7).
    void (*gelu_forward)(const float *x, float *y, ptrdiff_t n);
    /// dx = g·(Φ(x) + x·φ(x)).
    void (*gelu_backward)(const float *x, const float *g, float *dx, ptrdiff_t n);

    /// Softmax (or, with log != 0, log-softmax) of each contiguous row of n values; y may be x.
    void (*softmax_rows)(const float *x, float *y, ptrdiff_t rows, ptrdiff_t n, int log);
    /// dx = y·(g − Σ g·y), or with log != 0 dx = g − exp(y)·Σ g, per row; dx may be g.
    void (*softmax_backward_rows)(const float *g, const float *y, float *dx, ptrdiff_t rows, ptrdiff_t n,
                                  int log);
    /// The softmax of one [n, inner] block along its first axis (every column on its own);
    /// scratch holds 2·inner floats.
    void (*softmax_columns)(const float *x, float *y, ptrdiff_t n, ptrdiff_t inner, int log, float *scratch);
    /// The backward of softmax_columns; scratch holds inner floats.
    void (*softmax_backward_columns)(const float *g, const float *y, float *dx, ptrdiff_t n, ptrdiff_t inner,
                                     int log, float *scratch);

    /// Layer norm of each row of d values: y = (x − mean)·rstd·w + b, saving mean and rstd.
    void (*layer_norm_rows)(const float *x, const float *_Nullable w, const float *_Nullable b, float *y,
                            float *mean, float *rstd, ptrdiff_t rows, ptrdiff_t d, float epsilon);
    /// Its backward over rows: dx = rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)) with ĝ = g·w, and
    /// dw += Σ g·x̂, db += Σ g accumulated into the given rows of d values.
    void (*layer_norm_backward_rows)(const float *g, const float *x, const float *_Nullable w, const float *mean,
                                     const float *rstd, float *_Nullable dx, float *_Nullable dw,
                                     float *_Nullable db, ptrdiff_t rows, ptrdiff_t d);

    /// out = a + b, a − b, a·b elementwise.
    void (*add)(const float *a, const float *b, float *out, ptrdiff_t n);
    void (*sub)(const float *a, const float *b, float *out, ptrdiff_t n);
    void (*mul)(const float *a, const float *b, float *out, ptrdiff_t n);
    /// out[r, j] = a[r, j] + row[j] (or ·row[j]) for rows of n values.
    void (*add_row)(const float *a, const float *row, float *out, ptrdiff_t rows, ptrdiff_t n);
    void (*mul_row)(const float *a, const float *row, float *out, ptrdiff_t rows, ptrdiff_t n);
    /// out = s·x.
    void (*scale)(const float *x, float s, float *out, ptrdiff_t n);
    /// out = a + s·b.
    void (*add_scaled)(const float *a, const float *b, float s, float *out, ptrdiff_t n);
    /// a += b (gradient accumulation).
    void (*accumulate)(float *a, const float *b, ptrdiff_t n);

    /// Σ x.
    float (*sum)(const float *x, ptrdiff_t n);
    /// out[i] = Σ_r x[r·stride + i] for i < width (columns sums; out is overwritten).
    void (*sum_rows)(const float *x, ptrdiff_t rows, ptrdiff_t stride, ptrdiff_t width, float *out);

    /// Σ (x − m)², over four accumulators (batch-norm variance about the mean m).
    float (*centered_square_sum)(const float *x, float m, ptrdiff_t n);
    /// Σ g·(x − m) (batch-norm weight gradient before the 1/σ factor).
    float (*centered_dot)(const float *g, const float *x, float m, ptrdiff_t n);
    /// y = x·a + b, then max(y, 0) when relu is non-zero (NaN stays NaN).
    void (*affine)(const float *x, float a, float b, int relu, float *y, ptrdiff_t n);
    /// dx = s·(g − meanG − (x − m)·k): the batch-norm input gradient with batch statistics.
    void (*batch_norm_backward)(const float *g, const float *x, float s, float meanG, float m, float k,
                                float *dx, ptrdiff_t n);
    /// out = y > 0 ? g : 0 (the ReLU gradient read off its output).
    void (*relu_mask)(const float *g, const float *y, float *out, ptrdiff_t n);

    /// One AdamW update of n parameters; vmax is the AMSGrad running maximum, NULL without it.
    void (*adamw)(const vssl_adamw_coefficients *c, float *p, const float *g, float *m, float *v,
                  float *_Nullable vmax, ptrdiff_t n);

    /// C = alpha·op(A)·op(B) + beta·C for row-major matrices (op(A) m×k, op(B) k×n, op(X) = Xᵀ
    /// when transX is non-zero), on the calling thread; C is not read when beta is 0. A packed GEMM
    /// of the package's own, only in the AVX-512 table: it runs at about 1.6× the rate of
    /// OpenBLAS's AVX2 kernels on the convolution shapes (1.5–1.9× single-threaded). NULL in the other tables, whose callers
    /// use cblas_sgemm.
    void (*_Nullable sgemm)(int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha,
                            const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb, float beta, float *c,
                            ptrdiff_t ldc);
} vssl_kernels;

/// A hint to the CPU that the caller is spinning on a shared flag (x86 PAUSE): it frees the
/// core's resources for a hyperthread sibling and leaves the loop promptly when the flag changes.
void vssl_cpu_relax(void);

/// The table this process uses: the best the CPU supports, unless the environment variable
/// VIDEOSSL_KERNELS names a lower one (portable, avx2, avx512).
const vssl_kernels *vssl_active_kernels(void);

/// The table for one instruction set, or NULL where it is not compiled in or the CPU lacks it.
const vssl_kernels *_Nullable vssl_kernels_for_isa(int isa);

#pragma clang assume_nonnull end

#endif
