/* concat.c - DBB's transform IV as a unit with both forms (rv_concat.h). */
#include "rv_concat.h"

#include <math.h>

#include "rv_reparam.h"

rv_status rv_concat_forward(void *ctx)
{
    rv_concat_unit *u = ctx;
    int64_t N = u->x.dim[0], C = u->x.dim[1], H = u->x.dim[2], W = u->x.dim[3];
    int64_t M = u->mid.dim[1], m0 = u->a[0].dim[0];
    rv_status st = RV_OK;
    /* image by image, each branch writes its channels where the concatenation
     * puts them: one image's channels follow each other in memory */
    for (int64_t i = 0; i < N && st == RV_OK; i++) {
        rv_tensor xi = rv_tensor_view(u->x.data + i * C * H * W, u->x.device, 4,
                                      (const int64_t[]){1, C, H, W});
        for (int k = 0; k < 2 && st == RV_OK; k++) {
            rv_tensor mk = rv_tensor_view(u->mid.data + (i * M + (k ? m0 : 0)) * H * W, u->x.device,
                                          4, (const int64_t[]){1, u->a[k].dim[0], H, W});
            st = rv_conv2d(&xi, &u->a[k], NULL, (rv_conv_params){.stride = 1, .groups = 1}, &mk);
            if (st == RV_OK) st = rv_batchnorm(&mk, &u->bn[k], &mk);
        }
    }
    if (st == RV_OK) st = rv_pad_border(&u->mid, 1, 1, &u->shift, &u->pad);
    if (st == RV_OK)
        st = rv_conv2d(&u->pad, &u->w3, NULL, (rv_conv_params){.stride = u->stride, .groups = 1},
                       &u->y);
    return st == RV_OK ? rv_batchnorm(&u->y, &u->bn[2], &u->y) : st;
}

rv_status rv_concat_fused(void *ctx)
{
    rv_concat_unit *u = ctx;
    rv_conv_params p = {.stride = u->stride, .pad_h = 1, .pad_w = 1, .groups = 1};
    return rv_conv2d(&u->x, &u->wf, &u->bf, p, &u->yf);
}

void rv_concat_free(rv_concat_unit *u)
{
    rv_tensor *t[11] = {&u->a[0], &u->a[1], &u->shift, &u->w3, &u->x, &u->mid,
                        &u->pad,  &u->y,    &u->yf,    &u->wf, &u->bf};
    for (int i = 0; i < 11; i++) rv_tensor_free(t[i]);
    for (int i = 0; i < 3; i++) rv_bn_free(&u->bn[i]);
}

/* The fold, on the host: each 1x1 with its BN, the two stacked along output
 * channels, merged with the 3x3, the last BN folded in. */
static rv_status concat_fold(rv_concat_unit *u)
{
    rv_tensor h[8] = {{0}}; /* a0, a1, their biases, the stack, its bias, w3, zero bias */
    rv_tensor w = {0}, b = {0};
    int64_t M = u->mid.dim[1], O = u->w3.dim[0], C = u->x.dim[1];
    rv_status st = RV_OK;
    for (int k = 0; k < 2 && st == RV_OK; k++) {
        st = rv_tensor_clone(&h[k], &u->a[k], RV_CPU, "1x1 kernel");
        if (st == RV_OK) st = rv_tensor_alloc1(&h[2 + k], RV_CPU, h[k].dim[0], "1x1 bias");
        if (st == RV_OK) st = rv_fuse_conv_bn(&h[k], NULL, &u->bn[k], &h[k], &h[2 + k]);
    }
    if (st == RV_OK) st = rv_tensor_alloc4(&h[4], RV_CPU, M, C, 1, 1, "stacked 1x1 kernel");
    if (st == RV_OK) st = rv_tensor_alloc1(&h[5], RV_CPU, M, "stacked 1x1 bias");
    const rv_tensor *ws[2] = {&h[0], &h[1]}, *bs[2] = {&h[2], &h[3]};
    if (st == RV_OK) st = rv_concat_kernels(ws, bs, 2, &h[4], &h[5]);
    if (st == RV_OK) st = rv_tensor_clone(&h[6], &u->w3, RV_CPU, "3x3 kernel");
    if (st == RV_OK) st = rv_tensor_alloc1(&h[7], RV_CPU, O, "3x3 bias");
    if (st == RV_OK) st = rv_tensor_fill(&h[7], 0.0f);
    if (st == RV_OK) st = rv_tensor_alloc4(&w, RV_CPU, O, C, 3, 3, "folded kernel");
    if (st == RV_OK) st = rv_tensor_alloc1(&b, RV_CPU, O, "folded bias");
    if (st == RV_OK) st = rv_merge_1x1_kxk(&h[4], &h[5], &h[6], &h[7], 1, &w, &b);
    if (st == RV_OK) st = rv_fuse_conv_bn(&w, &b, &u->bn[2], &w, &b);
    if (st == RV_OK) st = rv_tensor_clone(&u->wf, &w, u->x.device, "folded kernel");
    if (st == RV_OK) st = rv_tensor_clone(&u->bf, &b, u->x.device, "folded bias");
    for (int i = 0; i < 8; i++) rv_tensor_free(&h[i]);
    rv_tensor_free(&w);
    rv_tensor_free(&b);
    return st;
}

rv_status rv_concat_build(rv_concat_unit *u, rv_device dev, int n, int s, int64_t c, int64_t m1,
                          int64_t m2, int64_t out, int stride, uint64_t seed)
{
    *u = (rv_concat_unit){.stride = stride};
    if (n < 1 || s < 1 || c < 1 || m1 < 1 || m2 < 1 || out < 1 || stride < 1)
        return rv_error(RV_EINVAL,
                        "concatenation unit: sizes must be positive (batch %d, size %d, channels "
                        "%lld -> %lld + %lld -> %lld, stride %d)",
                        n, s, (long long)c, (long long)m1, (long long)m2, (long long)out, stride);
    rv_rng r = rv_rng_seed(seed);
    const int64_t m[2] = {m1, m2}, M = m1 + m2;
    const int64_t P = (s - 1) / stride + 1;
    rv_status st = RV_OK;
    for (int k = 0; k < 2 && st == RV_OK; k++) {
        const int64_t d[4] = {m[k], c, 1, 1};
        const float bound = 1.0f / sqrtf((float)c);
        st = rv_tensor_random(&u->a[k], dev, 4, d, &r, -bound, bound, "1x1 kernel");
    }
    const int64_t bn_ch[3] = {m[0], m[1], out};
    for (int k = 0; k < 3 && st == RV_OK; k++) {
        st = rv_bn_alloc(&u->bn[k], bn_ch[k]);
        if (st == RV_OK) st = rv_bn_randomize(&u->bn[k], &r);
        if (st == RV_OK) st = rv_bn_prepare(&u->bn[k], dev);
    }
    const int64_t d3[4] = {out, M, 3, 3}, dx[4] = {n, c, s, s};
    const float bound3 = 1.0f / sqrtf(9.0f * (float)M);
    if (st == RV_OK) st = rv_tensor_random(&u->w3, dev, 4, d3, &r, -bound3, bound3, "3x3 kernel");
    if (st == RV_OK) st = rv_tensor_random(&u->x, dev, 4, dx, &r, -1.0f, 1.0f, "x");
    if (st == RV_OK) st = rv_tensor_alloc1(&u->shift, dev, M, "concatenated shift");
    for (int k = 0; k < 2 && st == RV_OK; k++) {
        rv_tensor part = rv_tensor_view(u->shift.data + (k ? m[0] : 0), dev, 1, &m[k]);
        st = rv_tensor_copy(&part, &u->bn[k].shift);
    }
    if (st == RV_OK) st = rv_tensor_alloc4(&u->mid, dev, n, M, s, s, "concatenation");
    if (st == RV_OK) st = rv_tensor_alloc4(&u->pad, dev, n, M, s + 2, s + 2, "padded");
    if (st == RV_OK) st = rv_tensor_alloc4(&u->y, dev, n, out, P, P, "unit output");
    if (st == RV_OK) st = rv_tensor_alloc4(&u->yf, dev, n, out, P, P, "folded output");
    if (st == RV_OK) st = concat_fold(u);
    if (st != RV_OK) rv_concat_free(u);
    return st;
}
