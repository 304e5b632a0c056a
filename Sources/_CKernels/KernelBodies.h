// The kernels of one vssl_kernels table, written once against a small vector vocabulary that the
// including file defines for its instruction set (see KernelsPortable.c, KernelsAVX2.c,
// KernelsAVX512.c). No include guard: each table includes it once.
//
// Vocabulary: vf (the vector type), VW (lanes), K(name) (name with the table's suffix),
// vload/vstore (unaligned), vloadn(p, k, fill)/vstoren(p, v, k) (first k < VW lanes),
// vset, vadd, vsub, vmul, vdiv, vsqrt, vfmadd(a, b, c) = a·b + c, vfnmadd(a, b, c) = c − a·b,
// vmin/vmax with the x86 rule (the second operand when either is NaN), vsel_lt(x, y, a, b) =
// x < y ? a : b, vhsum/vhmax (across lanes), vpow2_magic(s) = 2ⁿ from s = n + 1.5·2²³ (integral n in
// [−126, 127]), vfmadd_exact (always one rounding, for AdamW).

#include <math.h>

// Full vector, or the first k lanes with the rest `fill`.
#define LD(p, k, fill) ((k) >= VW ? vload(p) : vloadn((p), (k), (fill)))
#define ST(p, v, k) do { if ((k) >= VW) vstore((p), (v)); else vstoren((p), (v), (k)); } while (0)

// eˣ to about one ulp: the Cephes expf polynomial after reduction by ln 2 (split in two so that
// n·ln 2 is exact). Below −87.34 (so −∞ too) the result is 0; above 88 it saturates at e⁸⁸, which
// no caller reaches (they exponentiate non-positive values). NaN propagates.
static inline vf K(vexp)(vf x) {
    const vf low = vset(-87.33654f);
    vf c = vmax(low, vmin(vset(88.0f), x));
    // Adding 1.5·2²³ rounds to the nearest integer.
    const vf magic = vset(12582912.0f);
    vf shifted = vfmadd(c, vset(1.442695041f), magic);
    vf n = vsub(shifted, magic);
    vf r = vfnmadd(n, vset(0.693359375f), c);
    r = vfnmadd(n, vset(-2.12194440e-4f), r);
    vf p = vset(1.9875691500e-4f);
    p = vfmadd(p, r, vset(1.3981999507e-3f));
    p = vfmadd(p, r, vset(8.3334519073e-3f));
    p = vfmadd(p, r, vset(4.1665795894e-2f));
    p = vfmadd(p, r, vset(1.6666665459e-1f));
    p = vfmadd(p, r, vset(5.0000001201e-1f));
    vf e = vadd(vfmadd(p, vmul(r, r), r), vset(1.0f));
    return vsel_lt(x, low, vset(0.0f), vmul(e, vpow2_magic(shifted)));
}

// erf(x) as x·P(x²)/Q(x²), P of degree 6 and Q of degree 4 in x², x clamped to [−4, 4] (where erf
// is 1 to Float precision). The coefficients are a least-squares fit on [0, 4] refined by Lawson
// reweighting towards the minimax error: absolute error below 4e-7 in Float32, against 1.5e-7 for
// the Abramowitz & Stegun 7.1.26 form PyTorch vectorises, which needs an exponential.
static inline vf K(verf)(vf x) {
    x = vmax(vset(-4.0f), vmin(vset(4.0f), x));
    vf z = vmul(x, x);
    vf p = vset(1.921544701133371e-08f);
    p = vfmadd(p, z, vset(-1.990452574318624e-06f));
    p = vfmadd(p, z, vset(1.555813360027969e-04f));
    p = vfmadd(p, z, vset(4.294945392757654e-03f));
    p = vfmadd(p, z, vset(5.243944749236107e-02f));
    p = vfmadd(p, z, vset(2.139891684055328e-01f));
    p = vfmadd(p, z, vset(1.128378629684448f));
    vf q = vset(1.098494045436382e-03f);
    q = vfmadd(q, z, vset(1.555493380874395e-02f));
    q = vfmadd(q, z, vset(1.208180859684944e-01f));
    q = vfmadd(q, z, vset(5.229706168174744e-01f));
    q = vfmadd(q, z, vset(1.0f));
    vf y = vdiv(vmul(x, p), q);
    return vmax(vset(-1.0f), vmin(vset(1.0f), y));
}

#define VSSL_INV_SQRT2 0.70710678118654752f
#define VSSL_INV_SQRT_2PI 0.39894228040143268f

static void K(gelu_forward)(const float *x, float *y, ptrdiff_t n) {
    for (ptrdiff_t i = 0; i < n; i += VW) {
        ptrdiff_t k = n - i;
        vf v = LD(x + i, k, 0.0f);
        vf half = vmul(v, vset(0.5f));
        ST(y + i, vfmadd(half, K(verf)(vmul(v, vset(VSSL_INV_SQRT2))), half), k);
    }
}

static inline vf K(gelu_derivative)(vf v) {
    vf cdf = vfmadd(vset(0.5f), K(verf)(vmul(v, vset(VSSL_INV_SQRT2))), vset(0.5f));
    vf pdf = vmul(K(vexp)(vmul(vmul(v, v), vset(-0.5f))), vset(VSSL_INV_SQRT_2PI));
    return vfmadd(v, pdf, cdf);
}

static void K(gelu_backward)(const float *x, const float *g, float *dx, ptrdiff_t n) {
    for (ptrdiff_t i = 0; i < n; i += VW) {
        ptrdiff_t k = n - i;
        ST(dx + i, vmul(LD(g + i, k, 0.0f), K(gelu_derivative)(LD(x + i, k, 0.0f))), k);
    }
}

// Σ x[0..<n] over four accumulators.
static inline float K(hsum_range)(const float *x, ptrdiff_t n) {
    vf a0 = vset(0.0f), a1 = vset(0.0f), a2 = vset(0.0f), a3 = vset(0.0f);
    ptrdiff_t i = 0;
    for (; i + 4 * VW <= n; i += 4 * VW) {
        a0 = vadd(a0, vload(x + i));
        a1 = vadd(a1, vload(x + i + VW));
        a2 = vadd(a2, vload(x + i + 2 * VW));
        a3 = vadd(a3, vload(x + i + 3 * VW));
    }
    for (; i < n; i += VW) a0 = vadd(a0, LD(x + i, n - i, 0.0f));
    return vhsum(vadd(vadd(a0, a1), vadd(a2, a3)));
}

// Σ a·b over two accumulators.
static inline float K(dot_range)(const float *a, const float *b, ptrdiff_t n) {
    vf a0 = vset(0.0f), a1 = vset(0.0f);
    ptrdiff_t i = 0;
    for (; i + 2 * VW <= n; i += 2 * VW) {
        a0 = vfmadd(vload(a + i), vload(b + i), a0);
        a1 = vfmadd(vload(a + i + VW), vload(b + i + VW), a1);
    }
    for (; i < n; i += VW) a0 = vfmadd(LD(a + i, n - i, 0.0f), LD(b + i, n - i, 0.0f), a0);
    return vhsum(vadd(a0, a1));
}

static float K(sum)(const float *x, ptrdiff_t n) { return K(hsum_range)(x, n); }

static void K(softmax_rows)(const float *x, float *y, ptrdiff_t rows, ptrdiff_t n, int logarithm) {
    if (n <= 0) return;
    for (ptrdiff_t r = 0; r < rows; r++) {
        const float *xr = x + r * n;
        float *yr = y + r * n;
        vf m = vset(-INFINITY);
        for (ptrdiff_t i = 0; i < n; i += VW) m = vmax(m, LD(xr + i, n - i, -INFINITY));
        const float maximum = vhmax(m);
        const vf shift = vset(maximum);
        vf s = vset(0.0f);
        for (ptrdiff_t i = 0; i < n; i += VW) {
            ptrdiff_t k = n - i;
            // Padding lanes hold −∞, whose exponential is 0.
            vf e = K(vexp)(vsub(LD(xr + i, k, -INFINITY), shift));
            if (!logarithm) ST(yr + i, e, k);
            s = vadd(s, e);
        }
        const float total = vhsum(s);
        if (logarithm) {
            const vf logShift = vset(maximum + logf(total));
            for (ptrdiff_t i = 0; i < n; i += VW) {
                ptrdiff_t k = n - i;
                ST(yr + i, vsub(LD(xr + i, k, 0.0f), logShift), k);
            }
        } else {
            const vf inverse = vset(1.0f / total);
            for (ptrdiff_t i = 0; i < n; i += VW) {
                ptrdiff_t k = n - i;
                ST(yr + i, vmul(LD(yr + i, k, 0.0f), inverse), k);
            }
        }
    }
}

static void K(softmax_backward_rows)(const float *g, const float *y, float *dx, ptrdiff_t rows, ptrdiff_t n,
                                     int logarithm) {
    for (ptrdiff_t r = 0; r < rows; r++) {
        const float *gr = g + r * n, *yr = y + r * n;
        float *dr = dx + r * n;
        if (logarithm) {
            const vf total = vset(K(hsum_range)(gr, n));
            for (ptrdiff_t i = 0; i < n; i += VW) {
                ptrdiff_t k = n - i;
                vf e = K(vexp)(LD(yr + i, k, 0.0f));
                ST(dr + i, vfnmadd(e, total, LD(gr + i, k, 0.0f)), k);
            }
        } else {
            const vf dot = vset(K(dot_range)(gr, yr, n));
            for (ptrdiff_t i = 0; i < n; i += VW) {
                ptrdiff_t k = n - i;
                ST(dr + i, vmul(LD(yr + i, k, 0.0f), vsub(LD(gr + i, k, 0.0f), dot)), k);
            }
        }
    }
}

static void K(softmax_columns)(const float *x, float *y, ptrdiff_t n, ptrdiff_t inner, int logarithm, float *scratch) {
    float *m = scratch, *s = scratch + inner;
    for (ptrdiff_t i = 0; i < inner; i++) { m[i] = -INFINITY; s[i] = 0.0f; }
    for (ptrdiff_t j = 0; j < n; j++) {
        const float *xr = x + j * inner;
        for (ptrdiff_t i = 0; i < inner; i += VW) {
            ptrdiff_t k = inner - i;
            ST(m + i, vmax(LD(m + i, k, 0.0f), LD(xr + i, k, 0.0f)), k);
        }
    }
    for (ptrdiff_t j = 0; j < n; j++) {
        const float *xr = x + j * inner;
        float *yr = y + j * inner;
        for (ptrdiff_t i = 0; i < inner; i += VW) {
            ptrdiff_t k = inner - i;
            vf e = K(vexp)(vsub(LD(xr + i, k, 0.0f), LD(m + i, k, 0.0f)));
            if (!logarithm) ST(yr + i, e, k);
            ST(s + i, vadd(LD(s + i, k, 0.0f), e), k);
        }
    }
    if (logarithm) {
        for (ptrdiff_t i = 0; i < inner; i++) m[i] += logf(s[i]);
        for (ptrdiff_t j = 0; j < n; j++) {
            const float *xr = x + j * inner;
            float *yr = y + j * inner;
            for (ptrdiff_t i = 0; i < inner; i += VW) {
                ptrdiff_t k = inner - i;
                ST(yr + i, vsub(LD(xr + i, k, 0.0f), LD(m + i, k, 0.0f)), k);
            }
        }
    } else {
        for (ptrdiff_t i = 0; i < inner; i++) s[i] = 1.0f / s[i];
        for (ptrdiff_t j = 0; j < n; j++) {
            float *yr = y + j * inner;
            for (ptrdiff_t i = 0; i < inner; i += VW) {
                ptrdiff_t k = inner - i;
                ST(yr + i, vmul(LD(yr + i, k, 0.0f), LD(s + i, k, 0.0f)), k);
            }
        }
    }
}

static void K(softmax_backward_columns)(const float *g, const float *y, float *dx, ptrdiff_t n, ptrdiff_t inner,
                                        int logarithm, float *scratch) {
    float *acc = scratch;
    for (ptrdiff_t i = 0; i < inner; i++) acc[i] = 0.0f;
    for (ptrdiff_t j = 0; j < n; j++) {
        const float *gr = g + j * inner, *yr = y + j * inner;
        for (ptrdiff_t i = 0; i < inner; i += VW) {
            ptrdiff_t k = inner - i;
            vf a = LD(acc + i, k, 0.0f), gv = LD(gr + i, k, 0.0f);
            ST(acc + i, logarithm ? vadd(a, gv) : vfmadd(gv, LD(yr + i, k, 0.0f), a), k);
        }
    }
    for (ptrdiff_t j = 0; j < n; j++) {
        const float *gr = g + j * inner, *yr = y + j * inner;
        float *dr = dx + j * inner;
        for (ptrdiff_t i = 0; i < inner; i += VW) {
            ptrdiff_t k = inner - i;
            vf a = LD(acc + i, k, 0.0f), gv = LD(gr + i, k, 0.0f), yv = LD(yr + i, k, 0.0f);
            ST(dr + i, logarithm ? vfnmadd(K(vexp)(yv), a, gv) : vmul(yv, vsub(gv, a)), k);
        }
    }
}

static void K(layer_norm_rows)(const float *x, const float *w, const float *b, float *y, float *mean, float *rstd,
                               ptrdiff_t rows, ptrdiff_t d, float epsilon) {
    if (d <= 0) return;
    const float inverseD = 1.0f / (float)d;
    for (ptrdiff_t r = 0; r < rows; r++) {
        const float *xr = x + r * d;
        float *yr = y + r * d;
        const float mu = K(hsum_range)(xr, d) * inverseD;
        // Two passes over a row that sits in L1: the centred variance stays accurate when the mean
        // is large.
        const vf vmu = vset(mu);
        vf a0 = vset(0.0f);
        for (ptrdiff_t i = 0; i < d; i += VW) {
            // Padding lanes hold the mean, so they add nothing.
            vf t = vsub(LD(xr + i, d - i, mu), vmu);
            a0 = vfmadd(t, t, a0);
        }
        const float variance = vhsum(a0) * inverseD;
        const float rs = 1.0f / sqrtf(variance + epsilon);
        mean[r] = mu;
        rstd[r] = rs;
        const vf vrs = vset(rs);
        for (ptrdiff_t i = 0; i < d; i += VW) {
            ptrdiff_t k = d - i;
            vf t = vmul(vsub(LD(xr + i, k, 0.0f), vmu), vrs);
            if (w) t = vmul(t, LD(w + i, k, 0.0f));
            if (b) t = vadd(t, LD(b + i, k, 0.0f));
            ST(yr + i, t, k);
        }
    }
}

static void K(layer_norm_backward_rows)(const float *g, const float *x, const float *w, const float *mean,
                                        const float *rstd, float *dx, float *dw, float *db, ptrdiff_t rows,
                                        ptrdiff_t d) {
    if (d <= 0) return;
    const float inverseD = 1.0f / (float)d;
    for (ptrdiff_t r = 0; r < rows; r++) {
        const float *gr = g + r * d, *xr = x + r * d;
        const vf vmu = vset(mean[r]), vrs = vset(rstd[r]);
        vf sumG = vset(0.0f), sumGX = vset(0.0f);
        for (ptrdiff_t i = 0; i < d; i += VW) {
            ptrdiff_t k = d - i;
            // Padding lanes: g = 0, so they add nothing to any sum.
            vf gv = LD(gr + i, k, 0.0f);
            vf xh = vmul(vsub(LD(xr + i, k, 0.0f), vmu), vrs);
            if (dw) ST(dw + i, vfmadd(gv, xh, LD(dw + i, k, 0.0f)), k);
            if (db) ST(db + i, vadd(gv, LD(db + i, k, 0.0f)), k);
            if (w) gv = vmul(gv, LD(w + i, k, 0.0f));
            sumG = vadd(sumG, gv);
            sumGX = vfmadd(gv, xh, sumGX);
        }
        if (!dx) continue;
        const vf meanG = vset(vhsum(sumG) * inverseD), meanGX = vset(vhsum(sumGX) * inverseD);
        float *dr = dx + r * d;
        for (ptrdiff_t i = 0; i < d; i += VW) {
            ptrdiff_t k = d - i;
            vf gv = LD(gr + i, k, 0.0f);
            if (w) gv = vmul(gv, LD(w + i, k, 0.0f));
            vf xh = vmul(vsub(LD(xr + i, k, 0.0f), vmu), vrs);
            ST(dr + i, vmul(vrs, vsub(gv, vfmadd(xh, meanGX, meanG))), k);
        }
    }
}

#define VSSL_BINARY(name, expr)                                                   \
    static void K(name)(const float *a, const float *b, float *out, ptrdiff_t n) { \
        for (ptrdiff_t i = 0; i < n; i += VW) {                                   \
            ptrdiff_t k = n - i;                                                  \
            vf va = LD(a + i, k, 0.0f), vb = LD(b + i, k, 1.0f);                  \
            ST(out + i, expr, k);                                                 \
        }                                                                         \
    }
VSSL_BINARY(add, vadd(va, vb))
VSSL_BINARY(sub, vsub(va, vb))
VSSL_BINARY(mul, vmul(va, vb))
#undef VSSL_BINARY

static void K(add_row)(const float *a, const float *row, float *out, ptrdiff_t rows, ptrdiff_t n) {
    for (ptrdiff_t r = 0; r < rows; r++) K(add)(a + r * n, row, out + r * n, n);
}

static void K(mul_row)(const float *a, const float *row, float *out, ptrdiff_t rows, ptrdiff_t n) {
    for (ptrdiff_t r = 0; r < rows; r++) K(mul)(a + r * n, row, out + r * n, n);
}

static void K(scale)(const float *x, float s, float *out, ptrdiff_t n) {
    const vf vs = vset(s);
    for (ptrdiff_t i = 0; i < n; i += VW) {
        ptrdiff_t k = n - i;
        ST(out + i, vmul(LD(x + i, k, 0.0f), vs), k);
    }
}

static void K(add_scaled)(const float *a, const float *b, float s, float *out, ptrdiff_t n) {
    const vf vs = vset(s);
    for (ptrdiff_t i = 0; i < n; i += VW) {
        ptrdiff_t k = n - i;
        ST(out + i, vfmadd(LD(b + i, k, 0.0f), vs, LD(a + i, k, 0.0f)), k);
    }
}

static void K(accumulate)(float *a, const float *b, ptrdiff_t n) { K(add)(a, b, a, n); }

static void K(sum_rows)(const float *x, ptrdiff_t rows, ptrdiff_t stride, ptrdiff_t width, float *out) {
    ptrdiff_t i = 0;
    // Four vectors of columns at a time, each summed down all rows in order.
    for (; i + 4 * VW <= width; i += 4 * VW) {
        vf a0 = vset(0.0f), a1 = vset(0.0f), a2 = vset(0.0f), a3 = vset(0.0f);
        for (ptrdiff_t r = 0; r < rows; r++) {
            const float *p = x + r * stride + i;
            a0 = vadd(a0, vload(p));
            a1 = vadd(a1, vload(p + VW));
            a2 = vadd(a2, vload(p + 2 * VW));
            a3 = vadd(a3, vload(p + 3 * VW));
        }
        vstore(out + i, a0);
        vstore(out + i + VW, a1);
        vstore(out + i + 2 * VW, a2);
        vstore(out + i + 3 * VW, a3);
    }
    for (; i < width; i += VW) {
        ptrdiff_t k = width - i;
        vf a0 = vset(0.0f);
        for (ptrdiff_t r = 0; r < rows; r++) a0 = vadd(a0, LD(x + r * stride + i, k, 0.0f));
        ST(out + i, a0, k);
    }
}

// PyTorch's single-tensor AdamW: lerp_ and addcmul_ are fused multiply-adds there too; square root
// and division are correctly rounded everywhere, so every table gives the same bits.
static void K(adamw)(const vssl_adamw_coefficients *c, float *p, const float *g, float *m, float *v, float *maxV,
                     ptrdiff_t n) {
    const vf decay = vset(c->decay), w1 = vset(c->w1), b2 = vset(c->b2), w2 = vset(c->w2);
    const vf negStep = vset(-c->step_size), corr = vset(c->correction2_sqrt), eps = vset(c->epsilon);
    for (ptrdiff_t i = 0; i < n; i += VW) {
        ptrdiff_t k = n - i;
        vf pv = LD(p + i, k, 0.0f), gv = LD(g + i, k, 0.0f), mv = LD(m + i, k, 0.0f), vv = LD(v + i, k, 0.0f);
        if (c->apply_decay) pv = vmul(pv, decay);
        mv = vfmadd_exact(w1, vsub(gv, mv), mv);
        vv = vfmadd_exact(vmul(w2, gv), gv, vmul(vv, b2));
        vf second = vv;
        if (maxV) {
            second = vmax(LD(maxV + i, k, 0.0f), vv);
            ST(maxV + i, second, k);
        }
        vf denominator = vadd(vdiv(vsqrt(second), corr), eps);
        pv = vadd(pv, vdiv(vmul(negStep, mv), denominator));
        ST(p + i, pv, k);
        ST(m + i, mv, k);
        ST(v + i, vv, k);
    }
}

static float K(centered_square_sum)(const float *x, float m, ptrdiff_t n) {
    const vf vm = vset(m);
    vf a0 = vset(0.0f), a1 = vset(0.0f), a2 = vset(0.0f), a3 = vset(0.0f);
    ptrdiff_t i = 0;
    for (; i + 4 * VW <= n; i += 4 * VW) {
        vf d0 = vsub(vload(x + i), vm), d1 = vsub(vload(x + i + VW), vm);
        vf d2 = vsub(vload(x + i + 2 * VW), vm), d3 = vsub(vload(x + i + 3 * VW), vm);
        a0 = vfmadd(d0, d0, a0);
        a1 = vfmadd(d1, d1, a1);
        a2 = vfmadd(d2, d2, a2);
        a3 = vfmadd(d3, d3, a3);
    }
    for (; i < n; i += VW) {
        // Padding lanes load m, so they add nothing.
        vf d = vsub(LD(x + i, n - i, m), vm);
        a0 = vfmadd(d, d, a0);
    }
    return vhsum(vadd(vadd(a0, a1), vadd(a2, a3)));
}

static float K(centered_dot)(const float *g, const float *x, float m, ptrdiff_t n) {
    const vf vm = vset(m);
    vf a0 = vset(0.0f), a1 = vset(0.0f);
    ptrdiff_t i = 0;
    for (; i + 2 * VW <= n; i += 2 * VW) {
        a0 = vfmadd(vload(g + i), vsub(vload(x + i), vm), a0);
        a1 = vfmadd(vload(g + i + VW), vsub(vload(x + i + VW), vm), a1);
    }
    for (; i < n; i += VW) a0 = vfmadd(LD(g + i, n - i, 0.0f), vsub(LD(x + i, n - i, m), vm), a0);
    return vhsum(vadd(a0, a1));
}

static void K(affine)(const float *x, float a, float b, int relu, float *y, ptrdiff_t n) {
    const vf va = vset(a), vb = vset(b), zero = vset(0.0f);
    for (ptrdiff_t i = 0; i < n; i += VW) {
        ptrdiff_t k = n - i;
        vf v = vfmadd(LD(x + i, k, 0.0f), va, vb);
        // vmax returns its second operand when either is NaN, so NaN passes through as in PyTorch.
        ST(y + i, relu ? vmax(zero, v) : v, k);
    }
}

static void K(batch_norm_backward)(const float *g, const float *x, float s, float meanG, float m, float k,
                                   float *dx, ptrdiff_t n) {
    const vf vs = vset(s), vg = vset(meanG), vm = vset(m), vk = vset(k);
    for (ptrdiff_t i = 0; i < n; i += VW) {
        ptrdiff_t c = n - i;
        vf centred = vsub(LD(x + i, c, 0.0f), vm);
        vf inner = vfnmadd(centred, vk, vsub(LD(g + i, c, 0.0f), vg));
        ST(dx + i, vmul(inner, vs), c);
    }
}

static void K(relu_mask)(const float *g, const float *y, float *out, ptrdiff_t n) {
    const vf zero = vset(0.0f);
    for (ptrdiff_t i = 0; i < n; i += VW) {
        ptrdiff_t k = n - i;
        ST(out + i, vsel_lt(zero, LD(y + i, k, 0.0f), LD(g + i, k, 0.0f), zero), k);
    }
}

const vssl_kernels K(vssl_table) = {
    .isa = VSSL_TABLE_ISA,
    .name = VSSL_TABLE_NAME,
    .gelu_forward = K(gelu_forward),
    .gelu_backward = K(gelu_backward),
    .softmax_rows = K(softmax_rows),
    .softmax_backward_rows = K(softmax_backward_rows),
    .softmax_columns = K(softmax_columns),
    .softmax_backward_columns = K(softmax_backward_columns),
    .layer_norm_rows = K(layer_norm_rows),
    .layer_norm_backward_rows = K(layer_norm_backward_rows),
    .add = K(add),
    .sub = K(sub),
    .mul = K(mul),
    .add_row = K(add_row),
    .mul_row = K(mul_row),
    .scale = K(scale),
    .add_scaled = K(add_scaled),
    .accumulate = K(accumulate),
    .sum = K(sum),
    .sum_rows = K(sum_rows),
    .adamw = K(adamw),
    .centered_square_sum = K(centered_square_sum),
    .centered_dot = K(centered_dot),
    .affine = K(affine),
    .batch_norm_backward = K(batch_norm_backward),
    .relu_mask = K(relu_mask),
    .sgemm = VSSL_TABLE_SGEMM,
};

#undef LD
#undef ST
