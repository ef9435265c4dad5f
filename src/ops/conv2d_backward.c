/* conv2d_backward.c - the gradients of a 2-D convolution on the CPU: the naive
 * reference and im2col + OpenBLAS (see rv_grad.h for the formulas).
 *
 * Reference: one loop nest per gradient, each element a sum in double; dx
 * is gathered (for each input pixel, the output positions and taps that
 * read it), so no element is written twice.
 * Fast path: the forward is, per image and group, Y_g = W_g col_g with
 * col = im2col(x) (K x P*Q, K = (C/g) KH KW; src/ops/conv2d.c). So
 *   dW_g += dY_g col_g^T        (Og x K)  = (Og x PQ) (PQ x K)
 *   dcol_g = W_g^T dY_g         (K x PQ)  = (K x Og) (Og x PQ)
 * and dx = col2im(dcol): each column entry added back onto the input pixel
 * im2col copied it from (entries that were padding are dropped). Threads
 * take whole images (a static schedule: the same images per thread every
 * run), each with its own col, dcol and partial dW; the partials are summed
 * in thread order, so a run is bit-reproducible for a thread count.
 */
#include <cblas.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "rv_cpu.h"
#include "rv_elem.h"
#include "rv_grad.h"

static rv_status check_shapes(const rv_tensor *x, const rv_tensor *w, const rv_tensor *dy,
                              rv_conv_params p, const rv_tensor *dx, const rv_tensor *dw,
                              const rv_tensor *db)
{
    int64_t out[4];
    rv_status st = rv_conv2d_shape(x, w, db, p, out);
    if (st != RV_OK) return st;
    rv_tensor expect = {.ndim = 4, .dim = {out[0], out[1], out[2], out[3]}};
    if (p.relu) return rv_error(RV_EINVAL, "conv2d backward: p.relu is set (use rv_relu_backward)");
    if (!rv_tensor_same_shape(dy, &expect))
        return rv_error(RV_EINVAL, "conv2d backward: dy does not have the output's shape");
    if ((dx && !rv_tensor_same_shape(dx, x)) || (dw && !rv_tensor_same_shape(dw, w)))
        return rv_error(RV_EINVAL, "conv2d backward: dx must be shaped like x, dw like w");
    const rv_tensor *all[6] = {x, w, dy, dx, dw, db};
    for (int i = 0; i < 6; i++)
        if (all[i] && all[i]->device != RV_CPU)
            return rv_error(RV_EINVAL, "conv2d backward: runs on the CPU only");
    return RV_OK;
}

rv_status rv_conv2d_backward_run(const rv_tensor *x, const rv_tensor *w, const rv_tensor *dy,
                                 rv_conv_params p, const rv_conv_exec *e, rv_tensor *dx,
                                 rv_tensor *dw, rv_tensor *db)
{
    rv_status st = check_shapes(x, w, dy, p, dx, dw, db);
    return st == RV_OK ? rv_conv2d_backward_cpu(x, w, dy, p, e, dx, dw, db) : st;
}

rv_status rv_conv2d_backward(const rv_tensor *x, const rv_tensor *w, const rv_tensor *dy,
                             rv_conv_params p, rv_tensor *dx, rv_tensor *dw, rv_tensor *db)
{
    return rv_conv2d_backward_run(x, w, dy, p, NULL, dx, dw, db);
}

/* db: the same sum in both versions, in double. */
static void bias_grad(const rv_tensor *dy, rv_tensor *db)
{
    int64_t N = dy->dim[0], O = dy->dim[1], PQ = dy->dim[2] * dy->dim[3];
    for (int64_t o = 0; o < O; o++) {
        double s = 0.0;
        for (int64_t n = 0; n < N; n++)
            for (int64_t i = 0; i < PQ; i++) s += dy->data[(n * O + o) * PQ + i];
        db->data[o] = (float)s;
    }
}

rv_status rv_conv2d_backward_ref(const rv_tensor *x, const rv_tensor *w, const rv_tensor *dy,
                                 rv_conv_params p, rv_tensor *dx, rv_tensor *dw, rv_tensor *db)
{
    rv_status st = check_shapes(x, w, dy, p, dx, dw, db);
    if (st != RV_OK) return st;
    int64_t N = x->dim[0], C = x->dim[1], H = x->dim[2], W = x->dim[3];
    int64_t O = w->dim[0], Cg = w->dim[1], KH = w->dim[2], KW = w->dim[3];
    int64_t P = dy->dim[2], Q = dy->dim[3], Og = O / p.groups, s = p.stride;
    if (db) bias_grad(dy, db);
    if (dw)
        for (int64_t o = 0; o < O; o++)
            for (int64_t c = 0; c < Cg; c++)
                for (int64_t i = 0; i < KH; i++)
                    for (int64_t j = 0; j < KW; j++) {
                        double acc = 0.0;
                        int64_t ci = (o / Og) * Cg + c;
                        for (int64_t n = 0; n < N; n++)
                            for (int64_t oh = 0; oh < P; oh++)
                                for (int64_t ow = 0; ow < Q; ow++) {
                                    int64_t ih = oh * s - p.pad_h + i, iw = ow * s - p.pad_w + j;
                                    if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                                    acc += (double)dy->data[((n * O + o) * P + oh) * Q + ow] *
                                           x->data[((n * C + ci) * H + ih) * W + iw];
                                }
                        dw->data[((o * Cg + c) * KH + i) * KW + j] = (float)acc;
                    }
    if (dx)
        for (int64_t n = 0; n < N; n++)
            for (int64_t ci = 0; ci < C; ci++)
                for (int64_t ih = 0; ih < H; ih++)
                    for (int64_t iw = 0; iw < W; iw++) {
                        double acc = 0.0;
                        int64_t grp = ci / Cg, c = ci % Cg;
                        for (int64_t o = grp * Og; o < (grp + 1) * Og; o++)
                            for (int64_t i = 0; i < KH; i++)
                                for (int64_t j = 0; j < KW; j++) {
                                    /* the output (oh, ow) whose tap (i, j) reads (ih, iw) */
                                    int64_t th = ih + p.pad_h - i, tw = iw + p.pad_w - j;
                                    if (th < 0 || tw < 0 || th % s || tw % s) continue;
                                    int64_t oh = th / s, ow = tw / s;
                                    if (oh >= P || ow >= Q) continue;
                                    acc += (double)dy->data[((n * O + o) * P + oh) * Q + ow] *
                                           w->data[((o * Cg + c) * KH + i) * KW + j];
                                }
                        dx->data[((n * C + ci) * H + ih) * W + iw] = (float)acc;
                    }
    return RV_OK;
}

/* dx (C, H, W) of one image = col2im(dcol): the adjoint of rv_im2col_elem,
 * entry i of dcol (C KH KW x P Q) added onto the pixel it was read from. */
static void col2im(const float *dcol, rv_conv_geom g, float *dx)
{
    int64_t PQ = g.P * g.Q;
    memset(dx, 0, (size_t)(g.C * g.H * g.W) * sizeof *dx);
    for (int64_t r = 0; r < g.C * g.KH * g.KW; r++) {
        int64_t c = r / (g.KH * g.KW), kh = r / g.KW % g.KH, kw = r % g.KW;
        for (int64_t oh = 0; oh < g.P; oh++) {
            int64_t ih = oh * g.stride - g.pad_h + kh;
            if (ih < 0 || ih >= g.H) continue;
            const float *d = dcol + r * PQ + oh * g.Q;
            float *row = dx + (c * g.H + ih) * g.W;
            for (int64_t ow = 0; ow < g.Q; ow++) {
                int64_t iw = ow * g.stride - g.pad_w + kw;
                if (iw >= 0 && iw < g.W) row[iw] += d[ow];
            }
        }
    }
}

/* The threads of the fast backward (one image each at least), and the
 * floats each one's scratch takes: col and dcol (KT x PQ each), a partial
 * dW (O x K). One formula for the backward and its workspace's size. */
static int64_t scratch_per_thread(const rv_tensor *x, const rv_tensor *w, int64_t PQ, int groups,
                                  int want_dx, int want_dw, int *nt)
{
    rv_cpu_threads_init();
    int64_t K = w->dim[1] * w->dim[2] * w->dim[3], KT = groups * K, OK = w->dim[0] * K;
    *nt = rv_cpu_threads();
    if (*nt > x->dim[0]) *nt = (int)x->dim[0];
    return (want_dw ? KT * PQ + OK : 0) + (want_dx ? KT * PQ : 0);
}

size_t rv_conv2d_backward_workspace_bytes(const rv_tensor *x, const rv_tensor *w, rv_conv_params p,
                                          int want_dx, int want_dw)
{
    int64_t out[4];
    if (rv_conv2d_shape(x, w, NULL, p, out) != RV_OK) return 0;
    int nt;
    int64_t per = scratch_per_thread(x, w, out[2] * out[3], p.groups, want_dx, want_dw, &nt);
    return (size_t)(nt * per) * sizeof(float);
}

rv_status rv_conv2d_backward_cpu(const rv_tensor *x, const rv_tensor *w, const rv_tensor *dy,
                                 rv_conv_params p, const rv_conv_exec *e, rv_tensor *dx,
                                 rv_tensor *dw, rv_tensor *db)
{
    rv_conv_geom g = rv_conv_geom_of(x, w->dim[2], w->dim[3], dy, p);
    int64_t N = x->dim[0], O = w->dim[0], G = p.groups, Og = O / G, PQ = g.P * g.Q;
    int64_t K = w->dim[1] * g.KH * g.KW, KT = G * K, CHW = g.C * g.H * g.W;
    int nt;
    int64_t per = scratch_per_thread(x, w, PQ, p.groups, dx != NULL, dw != NULL, &nt);
    float *ws = NULL;
    if (per) {
        rv_status st = rv_exec_workspace(e, RV_CPU, (size_t)(nt * per) * sizeof(float), &ws);
        if (st != RV_OK) return st;
    }
    if (db) bias_grad(dy, db);
    for (int t = 0; dw && t < nt; t++)
        memset(ws + t * per + KT * PQ, 0, (size_t)(O * K) * sizeof *ws);
#pragma omp parallel num_threads(nt)
    {
#ifdef _OPENMP
        int t = omp_get_thread_num();
#else
        int t = 0;
#endif
        float *col = ws + t * per, *pdw = dw ? col + KT * PQ : NULL;
        float *dcol = dx ? (dw ? pdw + O * K : col) : NULL;
#pragma omp for schedule(static)
        for (int64_t n = 0; n < N; n++) {
            const float *xn = x->data + n * CHW, *dyn = dy->data + n * O * PQ;
            if (dw) {
                for (int64_t i = 0; i < KT * PQ; i++) col[i] = rv_im2col_elem(xn, g, i);
                for (int64_t grp = 0; grp < G; grp++)
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)Og, (int)K, (int)PQ,
                                1.0f, dyn + grp * Og * PQ, (int)PQ, col + grp * K * PQ, (int)PQ,
                                1.0f, pdw + grp * Og * K, (int)K);
            }
            if (dx) {
                for (int64_t grp = 0; grp < G; grp++)
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)K, (int)PQ, (int)Og,
                                1.0f, w->data + grp * Og * K, (int)K, dyn + grp * Og * PQ, (int)PQ,
                                0.0f, dcol + grp * K * PQ, (int)PQ);
                col2im(dcol, g, dx->data + n * CHW);
            }
        }
    }
    if (dw) /* the partials, in thread order */
        for (int64_t i = 0; i < O * K; i++) {
            float s = 0.0f;
            for (int t = 0; t < nt; t++) s += ws[t * per + KT * PQ + i];
            dw->data[i] = s;
        }
    return RV_OK;
}
