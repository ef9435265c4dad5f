/* depthwise.c - the depthwise conv on the CPU, direct (rv_ops.h).
 *
 * A depthwise conv has groups == C == O: output channel c is input channel c
 * convolved with its own KH x KW kernel, w (C, 1, KH, KW). As im2col + GEMM
 * it is one product per image and channel of a 1 x KH*KW row by a
 * KH*KW x P*Q matrix: C tiny calls to OpenBLAS, each after an im2col that
 * writes KH*KW times the plane, for 2*KH*KW flops per output value. Here
 * the threads take the (image, channel) planes, and each plane is
 *   1. copied once into a zero-bordered buffer whose rows are split into
 *      `stride` phases of columns: phase f holds the padded columns
 *      f, f + stride, f + 2 stride, ..., so for tap kw the inputs of output
 *      columns q = 0, 1, 2, ... lie side by side, at phase kw % stride from
 *      offset kw / stride (unpadded at stride 1, the plane is its own copy);
 *   2. swept one output row at a time: yr[q] = sum over taps of w * src[q],
 *      a loop over q that reads contiguous floats with no bounds test and
 *      vectorises (3x3: the nine taps unrolled into one expression; kernels
 *      up to 7 wide: one kernel row at a time into the output row, which
 *      stays in L1; wider ones: one tap at a time);
 *   3. finished in the same sweep: bias and ReLU (rv_bias_act).
 *
 * rv_conv2d_cpu sends every depthwise conv here: measured by turns against
 * its im2col + OpenBLAS path (rv_time_forms, 10 warm-up and 40 runs each,
 * medians; bias and ReLU; an AMD EPYC with AVX-512, 2 cores shared with other
 * jobs, OpenBLAS 0.3.21 on its Cooperlake kernels; 2026-11-30), direct against im2col:
 *   3x3 pad 1, batch 1, 64 x 56 x 56:          0.059 ms against 0.167 ms
 *   3x3 pad 1, batch 1, 128 x 28 x 28:         0.050 ms against 0.138 ms
 *   3x3 pad 1, batch 1, 256 x 7 x 7:           0.025 ms against 0.065 ms
 *   3x3 pad 1 stride 2, batch 8, 128 x 28 x 28: 0.38 ms against 0.51 ms
 *   3x3 pad 1 stride 2, batch 1, 32 x 112 x 112: 0.064 ms against 0.114 ms
 *   1x1 (MobileOne's scale branch), 64 x 56 x 56: 0.012 ms against 0.032 ms
 *   5x5 pad 2, batch 1, 64 x 56 x 56:          0.14 ms against 0.45 ms
 * and on one thread by about as much, except the batch-8 stride-2 case
 * (0.74 ms against 0.86 ms). Where it is still slow: small
 * planes, stride 2 most (14 x 14 outputs above): each output row is a
 * short loop (Q floats, under one AVX-512 vector at Q = 14) with its own
 * set-up, and the phased copy is as large as the input plane for a quarter
 * of the outputs.
 */
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "rv_alloc.h"
#include "rv_cpu.h"
#include "rv_elem.h"
#include "rv_ops.h"
#include "rv_simd.h"

/* The padded plane, phase-split: row r (padded input row r - pad_h) holds
 * `s` phases of L floats each; phase f, float j = padded column j s + f,
 * i.e. input column j s + f - pad_w, or 0 outside the input. */
typedef struct {
    int64_t H, W, pad_h, pad_w, s, L, rows;
} phased;

static phased phased_of(const rv_conv_geom *g)
{
    int64_t s = g->stride, L = rv_ceil_div(g->W + 2 * g->pad_w, s);
    return (phased){.H = g->H,
                    .W = g->W,
                    .pad_h = g->pad_h,
                    .pad_w = g->pad_w,
                    .s = s,
                    .L = L,
                    .rows = g->H + 2 * g->pad_h};
}

/* Floats of one phased plane */
static int64_t phased_floats(const phased *ph) { return ph->rows * ph->s * ph->L; }

/* The phased copy of plane x (H x W) into buf */
RV_SIMD_INLINE void fill_phased(const float *restrict x, phased ph, float *restrict buf)
{
    for (int64_t r = 0; r < ph.rows; r++) {
        float *d = buf + r * ph.s * ph.L;
        int64_t ih = r - ph.pad_h;
        if (ih < 0 || ih >= ph.H) {
            memset(d, 0, (size_t)(ph.s * ph.L) * sizeof *d);
            continue;
        }
        for (int64_t f = 0; f < ph.s; f++, d += ph.L) {
            /* float j is input column j s + f - pad_w: inside for j in [lo, hi) */
            int64_t lo = rv_ceil_div(ph.pad_w > f ? ph.pad_w - f : 0, ph.s);
            int64_t hi = rv_ceil_div(ph.W + ph.pad_w - f, ph.s);
            hi = hi > ph.L ? ph.L : hi < lo ? lo : hi;
            memset(d, 0, (size_t)lo * sizeof *d);
            rv_gather(x + ih * ph.W + lo * ph.s + f - ph.pad_w, ph.s, hi - lo, d + lo);
            memset(d + hi, 0, (size_t)(ph.L - hi) * sizeof *d);
        }
    }
}

/* The inputs of tap (kh, kw) for output row p: a pointer whose float q is
 * the padded input at row p s + kh, column q s + kw */
RV_SIMD_INLINE const float *tap(const float *buf, phased ph, int64_t p, int64_t kh, int64_t kw)
{
    return buf + ((p * ph.s + kh) * ph.s + kw % ph.s) * ph.L + kw / ph.s;
}

/* One output plane (P x Q) of a 3x3 kernel k, from the phased plane buf */
RV_SIMD_INLINE void plane_3x3(const float *restrict buf, phased ph, const float *restrict k,
                              float bias, int relu, int64_t P, int64_t Q, float *restrict y)
{
    const float k0 = k[0], k1 = k[1], k2 = k[2], k3 = k[3], k4 = k[4], k5 = k[5], k6 = k[6],
                k7 = k[7], k8 = k[8];
    for (int64_t p = 0; p < P; p++) {
        const float *restrict a0 = tap(buf, ph, p, 0, 0), *restrict a1 = tap(buf, ph, p, 0, 1),
                              *restrict a2 = tap(buf, ph, p, 0, 2);
        const float *restrict b0 = tap(buf, ph, p, 1, 0), *restrict b1 = tap(buf, ph, p, 1, 1),
                              *restrict b2 = tap(buf, ph, p, 1, 2);
        const float *restrict c0 = tap(buf, ph, p, 2, 0), *restrict c1 = tap(buf, ph, p, 2, 1),
                              *restrict c2 = tap(buf, ph, p, 2, 2);
        float *restrict yr = y + p * Q;
        for (int64_t q = 0; q < Q; q++)
            yr[q] = rv_bias_act(k0 * a0[q] + k1 * a1[q] + k2 * a2[q] + k3 * b0[q] + k4 * b1[q] +
                                    k5 * b2[q] + k6 * c0[q] + k7 * c1[q] + k8 * c2[q],
                                bias, relu);
    }
}

/* Kernel row kh of width KW (KW a constant where inlined, so the taps
 * unroll and the loop over q vectorises) into the output row yr of Q floats:
 * yr[q] = (first ? 0 : yr[q]) + sum over kw of k[kw] * the input of tap
 * (kh, kw); the last kernel row adds the bias and applies the ReLU. */
RV_SIMD_INLINE void kernel_row(const float *restrict row, phased ph, const float *restrict k,
                               int KW, int first, int last, float bias, int relu, int64_t Q,
                               float *restrict yr)
{
    int64_t off[8];
    for (int kw = 0; kw < KW; kw++) off[kw] = kw % ph.s * ph.L + kw / ph.s;
    for (int64_t q = 0; q < Q; q++) {
        float v = first ? 0.0f : yr[q];
        for (int kw = 0; kw < KW; kw++) v += k[kw] * row[off[kw] + q];
        yr[q] = last ? rv_bias_act(v, bias, relu) : v;
    }
}

/* The same as plane_3x3 for kernels KH x KW with KW <= 7 (1x1, 5x5, 1x3,
 * ...): kernel row by kernel row into the output row, which stays in L1 */
RV_SIMD_INLINE void plane_rows(const float *restrict buf, phased ph, const float *restrict k,
                               int64_t KH, int KW, float bias, int relu, int64_t P, int64_t Q,
                               float *restrict y)
{
    for (int64_t p = 0; p < P; p++)
        for (int64_t kh = 0; kh < KH; kh++) {
            const float *row = tap(buf, ph, p, kh, 0), *kr = k + kh * KW;
            int first = kh == 0, last = kh == KH - 1;
            float *yr = y + p * Q;
            switch (KW) {
#define KW_CASE(n)                                                                                 \
    case n:                                                                                        \
        kernel_row(row, ph, kr, n, first, last, bias, relu, Q, yr);                                \
        break;
                KW_CASE(1)
                KW_CASE(2)
                KW_CASE(3)
                KW_CASE(4)
                KW_CASE(5)
                KW_CASE(6)
                KW_CASE(7)
#undef KW_CASE
            }
        }
}

/* Wider kernels: tap by tap into the output row */
RV_SIMD_INLINE void plane_taps(const float *restrict buf, phased ph, const float *restrict k,
                               int64_t KH, int64_t KW, float bias, int relu, int64_t P, int64_t Q,
                               float *restrict y)
{
    for (int64_t p = 0; p < P; p++) {
        float *restrict yr = y + p * Q;
        for (int64_t q = 0; q < Q; q++) yr[q] = 0.0f;
        for (int64_t kh = 0; kh < KH; kh++)
            for (int64_t kw = 0; kw < KW; kw++) {
                const float kv = k[kh * KW + kw], *restrict src = tap(buf, ph, p, kh, kw);
                for (int64_t q = 0; q < Q; q++) yr[q] += kv * src[q];
            }
        for (int64_t q = 0; q < Q; q++) yr[q] = rv_bias_act(yr[q], bias, relu);
    }
}

/* Plane x (H x W) through kernel k (KH x KW) into plane y (P x Q), by way of
 * the phased copy in buf; without padding at stride 1 the plane is its own
 * phased copy */
RV_SIMD_CLONES static void depthwise_plane(const float *restrict x, phased ph,
                                           const float *restrict k, int64_t KH, int64_t KW,
                                           float bias, int relu, int64_t P, int64_t Q,
                                           float *restrict buf, float *restrict y)
{
    if (ph.s == 1 && ph.pad_h == 0 && ph.pad_w == 0)
        buf = (float *)x;
    else
        fill_phased(x, ph, buf);
    if (KH == 3 && KW == 3)
        plane_3x3(buf, ph, k, bias, relu, P, Q, y);
    else if (KW <= 7)
        plane_rows(buf, ph, k, KH, (int)KW, bias, relu, P, Q, y);
    else
        plane_taps(buf, ph, k, KH, KW, bias, relu, P, Q, y);
}

size_t rv_conv2d_depthwise_workspace_bytes(rv_conv_geom g)
{
    phased ph = phased_of(&g);
    return (size_t)(rv_cpu_threads() * phased_floats(&ph)) * sizeof(float);
}

rv_status rv_conv2d_depthwise_cpu(const rv_tensor *x, const rv_tensor *w, const rv_tensor *b,
                                  rv_conv_params p, const rv_conv_exec *e, rv_tensor *y)
{
    int64_t N = x->dim[0], C = x->dim[1], O = w->dim[0];
    if (p.groups != C || O != C || w->dim[1] != 1 || y->dim[1] != C)
        return rv_error(RV_EINVAL, "depthwise conv: needs groups == input channels == output "
                                   "channels and a weight (C, 1, KH, KW)");
    rv_cpu_threads_init();
    rv_conv_geom g = rv_conv_geom_of(x, w->dim[2], w->dim[3], y, p);
    phased ph = phased_of(&g);
    int64_t per = phased_floats(&ph), nt = rv_cpu_threads(), HW = g.H * g.W, PQ = g.P * g.Q;
    float *bufs;
    rv_status st = rv_exec_workspace(e, RV_CPU, (size_t)(nt * per) * sizeof(float), &bufs);
    if (st != RV_OK) return st;
#pragma omp parallel
    {
#ifdef _OPENMP
        float *buf = bufs + omp_get_thread_num() * per;
#else
        float *buf = bufs;
#endif
#pragma omp for schedule(static)
        for (int64_t nc = 0; nc < N * C; nc++) {
            int64_t c = nc % C;
            depthwise_plane(x->data + nc * HW, ph, w->data + c * g.KH * g.KW, g.KH, g.KW,
                            b ? b->data[c] : 0.0f, p.relu, g.P, g.Q, buf, y->data + nc * PQ);
        }
    }
    return RV_OK;
}
