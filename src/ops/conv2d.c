/* conv2d.c - 2-D convolution on the CPU: the naive reference and im2col + OpenBLAS.
 *
 * Reference: the textbook loop nest, one output element at a time.
 * Fast path: per image, im2col turns the convolution into one matrix product
 * per group, Y_g (O/g x P*Q) = W_g (O/g x K) * col_g (K x P*Q) with
 * K = (C/g)*KH*KW, computed by cblas_sgemm on row-major matrices.
 * Bias and ReLU follow in one pass over each block of Y (the epilogue).
 * A 1x1, stride-1, unpadded conv needs no im2col: the image is its own col.
 * Threads (OpenMP) take blocks of output columns, each with its own im2col
 * block (or, when there are few columns, share one im2col of a group of
 * images and split O);
 * stride-1 3x3 layers with planned weights go to Winograd (rv_winograd.h),
 * depthwise convs (groups == C == O) to their direct loop (depthwise.c).
 */
#include <cblas.h>
#include <stdio.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "rv_alloc.h"
#include "rv_cpu.h"
#include "rv_dispatch.h"
#include "rv_elem.h"
#include "rv_gemm.h"
#include "rv_ops.h"
#include "rv_simd.h"
#include "rv_winograd.h"

rv_status rv_conv2d_shape(const rv_tensor *x, const rv_tensor *w, const rv_tensor *b,
                          rv_conv_params p, int64_t out[4])
{
    char xs[64], ws[64];
    if (x->ndim != 4) return rv_error(RV_EINVAL, "conv2d: input must be NCHW (rank 4)");
    if (w->ndim != 4) return rv_error(RV_EINVAL, "conv2d: weight must be (O, C/groups, KH, KW)");
    if (p.stride < 1 || p.pad_h < 0 || p.pad_w < 0 || p.groups < 1)
        return rv_error(RV_EINVAL,
                        "conv2d: stride %d, padding %d x %d, groups %d: need stride >= 1, "
                        "padding >= 0, groups >= 1",
                        p.stride, p.pad_h, p.pad_w, p.groups);
    int64_t C = x->dim[1], O = w->dim[0];
    if (C % p.groups || O % p.groups || w->dim[1] != C / p.groups)
        return rv_error(RV_EINVAL, "conv2d: weight %s does not fit input %s with groups %d",
                        rv_tensor_shape_str(w, ws, sizeof ws),
                        rv_tensor_shape_str(x, xs, sizeof xs), p.groups);
    if (b && (b->ndim != 1 || b->dim[0] != O))
        return rv_error(RV_EINVAL, "conv2d: bias must have %lld elements", (long long)O);
    int64_t P = (x->dim[2] + 2 * p.pad_h - w->dim[2]) / p.stride + 1;
    int64_t Q = (x->dim[3] + 2 * p.pad_w - w->dim[3]) / p.stride + 1;
    if (x->dim[2] + 2 * p.pad_h < w->dim[2] || x->dim[3] + 2 * p.pad_w < w->dim[3])
        return rv_error(RV_EINVAL, "conv2d: kernel %s is larger than padded input %s",
                        rv_tensor_shape_str(w, ws, sizeof ws),
                        rv_tensor_shape_str(x, xs, sizeof xs));
    out[0] = x->dim[0];
    out[1] = O;
    out[2] = P;
    out[3] = Q;
    return RV_OK;
}

rv_conv_geom rv_conv_geom_of(const rv_tensor *x, int64_t kh, int64_t kw, const rv_tensor *y,
                             rv_conv_params p)
{
    return (rv_conv_geom){.C = x->dim[1],
                          .H = x->dim[2],
                          .W = x->dim[3],
                          .KH = kh,
                          .KW = kw,
                          .P = y->dim[2],
                          .Q = y->dim[3],
                          .stride = p.stride,
                          .pad_h = p.pad_h,
                          .pad_w = p.pad_w};
}

rv_status rv_conv2d(const rv_tensor *x, const rv_tensor *w, const rv_tensor *b, rv_conv_params p,
                    rv_tensor *y)
{
    return rv_conv2d_run(x, w, b, p, NULL, y);
}

rv_status rv_conv2d_run(const rv_tensor *x, const rv_tensor *w, const rv_tensor *b,
                        rv_conv_params p, const rv_conv_exec *e, rv_tensor *y)
{
    int64_t out[4] = {0};
    rv_status st = rv_conv2d_shape(x, w, b, p, out);
    if (st != RV_OK) return st;
    rv_tensor expect = {.ndim = 4, .dim = {out[0], out[1], out[2], out[3]}};
    if (!rv_tensor_same_shape(y, &expect)) {
        char ys[64], es[64];
        return rv_error(RV_EINVAL, "conv2d: output is %s, expected %s",
                        rv_tensor_shape_str(y, ys, sizeof ys),
                        rv_tensor_shape_str(&expect, es, sizeof es));
    }
    if (w->device != x->device || y->device != x->device || (b && b->device != x->device))
        return rv_error(RV_EINVAL, "conv2d: input, weight, bias and output must be on one device");
    return RV_DISPATCH(x->device, rv_conv2d, x, w, b, p, e, y);
}

rv_status rv_conv2d_ref(const rv_tensor *x, const rv_tensor *w, const rv_tensor *b,
                        rv_conv_params p, rv_tensor *y)
{
    int64_t N = x->dim[0], C = x->dim[1], H = x->dim[2], W = x->dim[3];
    int64_t O = w->dim[0], Cg = w->dim[1], KH = w->dim[2], KW = w->dim[3];
    int64_t P = y->dim[2], Q = y->dim[3], Og = O / p.groups;
    for (int64_t n = 0; n < N; n++)
        for (int64_t o = 0; o < O; o++)
            for (int64_t oh = 0; oh < P; oh++)
                for (int64_t ow = 0; ow < Q; ow++) {
                    double acc = b ? b->data[o] : 0.0;
                    int64_t c0 = (o / Og) * Cg; /* first input channel of o's group */
                    for (int64_t c = 0; c < Cg; c++)
                        for (int64_t kh = 0; kh < KH; kh++)
                            for (int64_t kw = 0; kw < KW; kw++) {
                                int64_t ih = oh * p.stride - p.pad_h + kh;
                                int64_t iw = ow * p.stride - p.pad_w + kw;
                                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                                acc += (double)x->data[((n * C + c0 + c) * H + ih) * W + iw] *
                                       w->data[((o * Cg + c) * KH + kh) * KW + kw];
                            }
                    if (p.relu && acc < 0.0) acc = 0.0;
                    y->data[((n * O + o) * P + oh) * Q + ow] = (float)acc;
                }
    return RV_OK;
}

/* Rows [r0, r1) and columns [i0, i1) of one image's im2col matrix into dst
 * (row stride ld): row r = (c, kh, kw), column i = output position p Q + q.
 * The same values as rv_im2col_elem (which the CUDA kernel runs one element
 * per thread), a run of one output row at a time: the runs are short (Q
 * floats), so nothing is divided inside them. */
RV_SIMD_CLONES static void im2col_block(const float *x /* (C, H, W) */, rv_conv_geom g, int64_t r0,
                                        int64_t r1, int64_t i0, int64_t i1, float *dst, int64_t ld)
{
    for (int64_t r = r0; r < r1; r++, dst += ld) {
        int64_t c = r / (g.KH * g.KW), kh = r / g.KW % g.KH, kw = r % g.KW;
        /* output columns q whose input column q stride - pad + kw lies in
         * the row: [qlo, qhi), zero on either side */
        int64_t qlo = rv_ceil_div(g.pad_w - kw > 0 ? g.pad_w - kw : 0, g.stride);
        int64_t qhi = rv_ceil_div(g.W + g.pad_w - kw, g.stride);
        qhi = qhi > g.Q ? g.Q : qhi;
        float *d = dst;
        int64_t p = i0 / g.Q, q0 = i0 % g.Q;
        for (int64_t i = i0, run; i < i1; i += run, d += run, p++, q0 = 0) {
            int64_t ih = p * g.stride - g.pad_h + kh;
            run = g.Q - q0 < i1 - i ? g.Q - q0 : i1 - i;
            if (ih < 0 || ih >= g.H) {
                memset(d, 0, (size_t)run * sizeof *d);
                continue;
            }
            int64_t lo = qlo - q0, hi = qhi - q0;
            lo = lo < 0 ? 0 : lo > run ? run : lo;
            hi = hi > run ? run : hi < lo ? lo : hi;
            for (int64_t j = 0; j < lo; j++) d[j] = 0.0f;
            rv_gather(x + (c * g.H + ih) * g.W + (q0 + lo) * g.stride - g.pad_w + kw, g.stride,
                      hi - lo, d + lo);
            for (int64_t j = hi; j < run; j++) d[j] = 0.0f;
        }
    }
}

/* dst[i] = src[i] + bias, then ReLU if relu (dst may be src) */
static void bias_act_row(const float *src, int64_t n, float bias, int relu, float *dst)
{
    for (int64_t i = 0; i < n; i++) dst[i] = rv_bias_act(src[i], bias, relu);
}

/* yb (rows x cols, row stride ld) = W (rows x K) * B (K x cols, row stride
 * ldb), then + bias[row] (bias may be NULL) and ReLU in one pass. */
static void gemm_epilogue(int64_t rows, int64_t cols, int64_t K, const float *W, const float *B,
                          int64_t ldb, const float *bias, int relu, float *yb, int64_t ld)
{
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)cols, (int)K, 1.0f, W,
                (int)K, B, (int)ldb, 0.0f, yb, (int)ld);
    for (int64_t o = 0; o < rows; o++)
        bias_act_row(yb + o * ld, cols, bias ? bias[o] : 0.0f, relu, yb + o * ld);
}

/* im2col floats per column block (1 MiB): a thread's block (K x columns)
 * stays in an L2 cache of 1 MiB from im2col to the product; with 512 KiB
 * of L2 (Zen 3) smaller blocks were no faster (docs/performance.md). */
#define COL_BLOCK_FLOATS (256 * 1024)
/* im2col floats of a group of images in the few-positions path (8 MiB) */
#define GROUP_COL_FLOATS (2 * 1024 * 1024)

static int is_depthwise(const rv_tensor *w, rv_conv_params p, int64_t C)
{
    return p.groups > 1 && p.groups == C && w->dim[0] == p.groups && w->dim[1] == 1;
}

rv_status rv_conv2d_pack(const rv_tensor *w, rv_conv_params p, const rv_gemm_kernel *k,
                         rv_tensor *packed)
{
    *packed = (rv_tensor){0};
    int64_t O = w->dim[0], Ig = w->dim[1], G = p.groups;
    if (w->device != RV_CPU || !k || is_depthwise(w, p, G * Ig)) /* depthwise: not im2col */
        return RV_OK;
    int64_t Og = O / G, K = Ig * w->dim[2] * w->dim[3], per_group = rv_gemm_packed_floats(Og, K);
    rv_status st = rv_tensor_alloc1(packed, RV_CPU, G * per_group, "packed weights");
    for (int64_t grp = 0; grp < G && st == RV_OK; grp++)
        rv_gemm_pack(w->data + grp * Og * K, K, 1, Og, K, packed->data + grp * per_group);
    return st;
}

/* How the im2col path splits a conv: column blocks over the batch, each
 * thread with its own im2col buffer (nb == 0), or few output positions
 * sharing one im2col of nb images; and the workspace floats that takes. */
typedef struct {
    int pointwise;
    int64_t N, O, G, PQ, Og, K, nt, cblocks, bc, blocks, nb, floats;
} im2col_layout;

static im2col_layout im2col_layout_of(int64_t N, rv_conv_geom g, const rv_tensor *w,
                                      rv_conv_params p, int packed)
{
    im2col_layout l = {.N = N, .O = w->dim[0], .G = p.groups};
    l.pointwise = rv_conv_is_pointwise(g);
    l.PQ = g.P * g.Q;
    l.Og = l.O / l.G;
    l.K = w->dim[1] * g.KH * g.KW;
    l.nt = rv_cpu_threads();
    int64_t per = N * l.G, fit = COL_BLOCK_FLOATS / l.K > 0 ? COL_BLOCK_FLOATS / l.K : 1;
    l.cblocks = rv_ceil_div(l.PQ, fit);
    if (per * l.cblocks < 8 * l.nt) /* few blocks: whole rounds of nt, so no thread waits long */
        l.cblocks = rv_ceil_div(rv_ceil_div(per * l.cblocks, l.nt) * l.nt, per);
    l.bc = rv_ceil_div(l.PQ, l.cblocks);
    l.cblocks = rv_ceil_div(l.PQ, l.bc);
    l.blocks = per * l.cblocks;
    /* Column blocks read all the weights once per block. OpenBLAS also packs
     * them again for each, so its blocks need 64 columns or more; ours are
     * packed once, and one kernel block (48 columns) is enough. So A0's last
     * layer at batch 8 (49 columns an image) no longer takes the shared
     * im2col below, 2.7 MB that every panel of weights read again from the
     * L3 cache (docs/performance.md) */
    if (l.blocks >= l.nt && l.bc >= (packed ? 48 : 64)) {
        l.floats = l.pointwise ? 0 : l.nt * l.K * l.bc;
        return l;
    }
    l.nb = GROUP_COL_FLOATS / (l.G * l.K * l.PQ);
    l.nb = l.nb < 1 ? 1 : l.nb > N ? N : l.nb;
    l.floats = (l.G * l.K + l.O) * l.nb * l.PQ;
    return l;
}

size_t rv_conv2d_workspace_bytes(const rv_tensor *x, const rv_tensor *w, rv_conv_params p,
                                 const rv_conv_exec *e)
{
    int64_t out[4] = {0};
    if (rv_conv2d_shape(x, w, NULL, p, out) != RV_OK) return 0;
    rv_tensor y = {.ndim = 4, .dim = {out[0], out[1], out[2], out[3]}, .device = x->device};
    rv_conv_geom g = rv_conv_geom_of(x, w->dim[2], w->dim[3], &y, p);
    if (x->device == RV_CUDA) { /* kernels/conv2d.cu: the columns of a chunk of images */
        int64_t col_per_img = g.C * g.KH * g.KW * g.P * g.Q;
        return rv_conv_is_pointwise(g)
                   ? 0
                   : (size_t)(rv_cuda_col_chunk(x->dim[0], col_per_img, e ? e->cuda_col_bytes : 0) *
                              col_per_img) *
                         sizeof(float);
    }
    rv_cpu_threads_init();
    if (e && e->winograd && rv_winograd_applies(w, p))
        return rv_winograd_workspace_bytes(x->dim, out[1], e->winograd, e);
    if (is_depthwise(w, p, x->dim[1])) return rv_conv2d_depthwise_workspace_bytes(g);
    im2col_layout l = im2col_layout_of(x->dim[0], g, w, p, e && e->packed);
    return (size_t)l.floats * sizeof(float);
}

rv_status rv_conv2d_cpu(const rv_tensor *x, const rv_tensor *w, const rv_tensor *b,
                        rv_conv_params p, const rv_conv_exec *e, rv_tensor *y)
{
    if (e && e->winograd && rv_winograd_applies(w, p))
        return rv_conv2d_winograd(x, e->winograd, b, p.relu, e, y);
    if (is_depthwise(w, p, x->dim[1])) return rv_conv2d_depthwise_cpu(x, w, b, p, e, y);
    rv_cpu_threads_init();
    rv_conv_geom g = rv_conv_geom_of(x, w->dim[2], w->dim[3], y, p);
    /* the weight packed once (rv_conv2d_pack) for the plan's kernel */
    const rv_gemm_kernel *kern = e && e->packed ? e->gemm : NULL;
    if (e && e->packed && !kern)
        return rv_error(RV_EINVAL, "conv2d: packed weights need the kernel they were packed for");
    const float *pk = kern ? e->packed->data : NULL;
    im2col_layout l = im2col_layout_of(x->dim[0], g, w, p, pk != NULL);
    int64_t N = l.N, O = l.O, G = l.G, CHW = g.C * g.H * g.W, PQ = l.PQ, Og = l.Og, K = l.K;
    int64_t cblocks = l.cblocks, bc = l.bc, blocks = l.blocks;
    int pointwise = l.pointwise;
    const float *bias = b ? b->data : NULL;
    int64_t per_group = rv_gemm_packed_floats(Og, K);
    float *ws = NULL;
    if (l.floats) {
        rv_status st = rv_exec_workspace(e, RV_CPU, (size_t)l.floats * sizeof(float), &ws);
        if (st != RV_OK) return st;
    }
    if (!l.nb) {
        /* Column blocks over the batch: each thread runs im2col of its block
         * into its own buffer, the product, the epilogue. */
        float *col = ws;
#pragma omp parallel
        {
#ifdef _OPENMP
            float *mine = col ? col + omp_get_thread_num() * K * bc : NULL;
#else
            float *mine = col;
#endif
#pragma omp for schedule(dynamic, 1)
            for (int64_t blk = 0; blk < blocks; blk++) {
                int64_t n = blk / (G * cblocks), grp = blk / cblocks % G, cb = blk % cblocks;
                int64_t i0 = cb * bc, i1 = i0 + bc < PQ ? i0 + bc : PQ;
                const float *xn = x->data + n * CHW, *B = xn + grp * K * PQ + i0;
                int64_t ldb = PQ;
                if (!pointwise) {
                    im2col_block(xn, g, grp * K, grp * K + K, i0, i1, mine, i1 - i0);
                    B = mine;
                    ldb = i1 - i0;
                }
                float *yb = y->data + (n * O + grp * Og) * PQ + i0;
                if (pk) /* bias and ReLU in the kernel's stores */
                    rv_gemm_rows(kern, pk + grp * per_group, K, 0, Og, B, ldb, i1 - i0, yb, PQ, 0,
                                 bias ? bias + grp * Og : NULL, p.relu);
                else
                    gemm_epilogue(Og, i1 - i0, K, w->data + grp * Og * K, B, ldb,
                                  bias ? bias + grp * Og : NULL, p.relu, yb, PQ);
            }
        }
        return RV_OK;
    }
    /* Few output positions (the last stages): im2col of a group of images
     * (columns image by image) shared by the threads, which split the output
     * channels: one product per thread and group, so each thread packs its
     * part of the weights once per group rather than once per image. The
     * product goes to a buffer; the epilogue moves it into y per image. */
    int64_t nb = l.nb, nt = l.nt;
    float *col = ws;
    float *out = col + G * K * nb * PQ;
    /* parts of whole panels of 8 rows for the packed kernel */
    int64_t unit = pk ? RV_GEMM_MR : 1, units = rv_ceil_div(Og, unit);
    int64_t row_parts = nt < units ? nt : units;
    for (int64_t n0 = 0; n0 < N; n0 += nb) {
        int64_t nc = N - n0 < nb ? N - n0 : nb, cols = nc * PQ;
#pragma omp parallel
        {
#pragma omp for schedule(static)
            for (int64_t rn = 0; rn < G * K * nc; rn++) {
                int64_t r = rn / nc, n = rn % nc;
                const float *xn = x->data + (n0 + n) * CHW;
                float *dst = col + r * cols + n * PQ;
                if (pointwise)
                    memcpy(dst, xn + r * PQ, (size_t)PQ * sizeof *dst);
                else
                    im2col_block(xn, g, r, r + 1, 0, PQ, dst, PQ);
            }
#pragma omp for schedule(static)
            for (int64_t blk = 0; blk < G * row_parts; blk++) {
                int64_t grp = blk / row_parts, rp = blk % row_parts;
                int64_t r0 = unit * (units * rp / row_parts),
                        r1 = unit * (units * (rp + 1) / row_parts);
                r1 = r1 < Og ? r1 : Og;
                int64_t o0 = grp * Og + r0, o1 = grp * Og + r1;
                if (pk)
                    rv_gemm_rows(kern, pk + grp * per_group, K, r0, r1 - r0, col + grp * K * cols,
                                 cols, cols, out + o0 * cols, cols, 0, NULL, 0);
                else
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(o1 - o0),
                                (int)cols, (int)K, 1.0f, w->data + o0 * K, (int)K,
                                col + grp * K * cols, (int)cols, 0.0f, out + o0 * cols, (int)cols);
                for (int64_t o = o0; o < o1; o++)
                    for (int64_t n = 0; n < nc; n++)
                        bias_act_row(out + o * cols + n * PQ, PQ, bias ? bias[o] : 0.0f, p.relu,
                                     y->data + ((n0 + n) * O + o) * PQ);
            }
        }
    }
    return RV_OK;
}
