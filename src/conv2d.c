/* conv2d.c - 2-D convolution on the CPU: the naive reference and im2col + OpenBLAS.
 *
 * Reference: the textbook loop nest, one output element at a time.
 * Fast path: per image, im2col turns the convolution into one matrix product
 * per group, Y_g (O/g x P*Q) = W_g (O/g x K) * col_g (K x P*Q) with
 * K = (C/g)*KH*KW, computed by cblas_sgemm on row-major matrices.
 * Bias and ReLU follow in one pass over each block of Y (the epilogue).
 * A 1x1, stride-1, unpadded conv needs no im2col: the image is its own col.
 * Threads (OpenMP) share im2col by rows and the product by blocks of Y;
 * stride-1 3x3 layers with planned weights go to Winograd (rv_winograd.h).
 */
#include <cblas.h>
#include <stdio.h>
#include <string.h>

#include "rv_alloc.h"
#include "rv_dispatch.h"
#include "rv_elem.h"
#include "rv_ops.h"
#include "rv_winograd.h"

rv_status rv_conv2d_shape(const rv_tensor *x, const rv_tensor *w, const rv_tensor *b,
                          rv_conv_params p, int64_t out[4])
{
    char xs[64], ws[64];
    if (x->ndim != 4) return rv_error(RV_EINVAL, "conv2d: input must be NCHW (rank 4)");
    if (w->ndim != 4) return rv_error(RV_EINVAL, "conv2d: weight must be (O, C/groups, KH, KW)");
    if (p.stride < 1 || p.pad < 0 || p.groups < 1)
        return rv_error(RV_EINVAL,
                        "conv2d: stride %d, pad %d, groups %d: need stride >= 1, "
                        "pad >= 0, groups >= 1",
                        p.stride, p.pad, p.groups);
    int64_t C = x->dim[1], O = w->dim[0];
    if (C % p.groups || O % p.groups || w->dim[1] != C / p.groups)
        return rv_error(RV_EINVAL, "conv2d: weight %s does not fit input %s with groups %d",
                        rv_tensor_shape_str(w, ws, sizeof ws),
                        rv_tensor_shape_str(x, xs, sizeof xs), p.groups);
    if (b && (b->ndim != 1 || b->dim[0] != O))
        return rv_error(RV_EINVAL, "conv2d: bias must have %lld elements", (long long)O);
    int64_t P = (x->dim[2] + 2 * p.pad - w->dim[2]) / p.stride + 1;
    int64_t Q = (x->dim[3] + 2 * p.pad - w->dim[3]) / p.stride + 1;
    if (x->dim[2] + 2 * p.pad < w->dim[2] || x->dim[3] + 2 * p.pad < w->dim[3])
        return rv_error(RV_EINVAL, "conv2d: kernel %s is larger than padded input %s",
                        rv_tensor_shape_str(w, ws, sizeof ws),
                        rv_tensor_shape_str(x, xs, sizeof xs));
    out[0] = x->dim[0];
    out[1] = O;
    out[2] = P;
    out[3] = Q;
    return RV_OK;
}

rv_status rv_conv2d(const rv_tensor *x, const rv_tensor *w, const rv_tensor *b, rv_conv_params p,
                    rv_tensor *y)
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
    return RV_DISPATCH(x->device, rv_conv2d, x, w, b, p, y);
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
                                int64_t ih = oh * p.stride - p.pad + kh;
                                int64_t iw = ow * p.stride - p.pad + kw;
                                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                                acc += (double)x->data[((n * C + c0 + c) * H + ih) * W + iw] *
                                       w->data[((o * Cg + c) * KH + kh) * KW + kw];
                            }
                    if (p.relu && acc < 0.0) acc = 0.0;
                    y->data[((n * O + o) * P + oh) * Q + ow] = (float)acc;
                }
    return RV_OK;
}

/* Row r = (c, kh, kw) of one image's im2col matrix: the same values as
 * rv_im2col_elem (which the CUDA kernel runs one element per thread), without
 * a division per element. */
static void im2col_row(const float *x /* (C, H, W) */, rv_conv_geom g, int64_t r, float *dst)
{
    int64_t c = r / (g.KH * g.KW), kh = r / g.KW % g.KH, kw = r % g.KW;
    for (int64_t p = 0; p < g.P; p++, dst += g.Q) {
        int64_t ih = p * g.stride - g.pad + kh;
        if (ih < 0 || ih >= g.H) {
            memset(dst, 0, (size_t)g.Q * sizeof *dst);
            continue;
        }
        const float *row = x + (c * g.H + ih) * g.W;
        for (int64_t q = 0; q < g.Q; q++) {
            int64_t iw = q * g.stride - g.pad + kw;
            dst[q] = iw >= 0 && iw < g.W ? row[iw] : 0.0f;
        }
    }
}

rv_status rv_conv2d_cpu(const rv_tensor *x, const rv_tensor *w, const rv_tensor *b,
                        rv_conv_params p, rv_tensor *y)
{
    if (p.winograd && rv_winograd_applies(w, p))
        return rv_conv2d_winograd(x, p.winograd, b, p.relu, y);
    rv_cpu_threads_init();
    rv_conv_geom g = {.C = x->dim[1],
                      .H = x->dim[2],
                      .W = x->dim[3],
                      .KH = w->dim[2],
                      .KW = w->dim[3],
                      .P = y->dim[2],
                      .Q = y->dim[3],
                      .stride = p.stride,
                      .pad = p.pad};
    int64_t N = x->dim[0], O = w->dim[0], G = p.groups;
    int64_t PQ = g.P * g.Q, Og = O / G, K = w->dim[1] * g.KH * g.KW;
    int pointwise = g.KH == 1 && g.KW == 1 && p.stride == 1 && p.pad == 0;
    float *col = NULL;
    if (!pointwise) {
        col = rv_workspace(RV_CPU, (size_t)(G * K * PQ) * sizeof(float));
        if (!col) return RV_ENOMEM;
    }
    /* Output blocks per group: columns split when wide, output channels when not. */
    int64_t nt = rv_cpu_threads();
    int64_t col_parts = PQ >= 128 * nt ? nt : 1, row_parts = col_parts == 1 ? nt : 1;
    if (row_parts > Og) row_parts = Og;
    int64_t blocks = G * row_parts * col_parts;
    for (int64_t n = 0; n < N; n++) {
        const float *xn = x->data + n * g.C * g.H * g.W;
        float *yn = y->data + n * O * PQ;
        const float *cn = pointwise ? xn : col;
#pragma omp parallel
        {
            if (!pointwise) {
#pragma omp for schedule(static)
                for (int64_t r = 0; r < G * K; r++) im2col_row(xn, g, r, col + r * PQ);
            }
#pragma omp for schedule(static)
            for (int64_t blk = 0; blk < blocks; blk++) {
                int64_t grp = blk / (row_parts * col_parts), part = blk % (row_parts * col_parts);
                int64_t rp = part / col_parts, cp = part % col_parts;
                int64_t o0 = Og * rp / row_parts, o1 = Og * (rp + 1) / row_parts;
                int64_t q0 = PQ * cp / col_parts, q1 = PQ * (cp + 1) / col_parts;
                float *yb = yn + (grp * Og + o0) * PQ + q0;
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(o1 - o0), (int)(q1 - q0),
                            (int)K, 1.0f, w->data + (grp * Og + o0) * K, (int)K,
                            cn + grp * K * PQ + q0, (int)PQ, 0.0f, yb, (int)PQ);
                for (int64_t o = o0; o < o1; o++) { /* the epilogue, one pass */
                    float *yo = yb + (o - o0) * PQ, bias = b ? b->data[grp * Og + o] : 0.0f;
                    for (int64_t q = 0; q < q1 - q0; q++) yo[q] = rv_bias_act(yo[q], bias, p.relu);
                }
            }
        }
    }
    return RV_OK;
}
