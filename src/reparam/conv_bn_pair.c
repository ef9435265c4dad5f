/* conv_bn_pair.c - the notebook's conv + BN cell and its fused conv. */
#include "rv_conv_bn_pair.h"
#include "rv_reparam.h"
#include "rv_measure.h"

static const rv_conv_params P = {.stride = 1, .pad_h = 0, .pad_w = 0, .groups = 1, .relu = 0};

rv_status rv_conv_bn_forward(void *ctx)
{
    rv_conv_bn_pair *l = ctx;
    rv_status st = rv_conv2d(&l->x, &l->w, l->bias, P, &l->z);
    return st == RV_OK ? rv_batchnorm(&l->z, &l->bn, &l->y) : st;
}

rv_status rv_conv_bn_fused(void *ctx)
{
    rv_conv_bn_pair *l = ctx;
    return rv_conv2d(&l->x, &l->wf, &l->bf, P, &l->yf);
}

/* The fusion, on the host: (wf, bf) = fold of the conv with `bn`, then put
 * on the device. */
rv_status rv_conv_bn_fold(const rv_conv_bn_pair *l, const rv_bn *bn, rv_device dev, rv_tensor *wf,
                          rv_tensor *bf)
{
    rv_tensor hwf = {0}, hbf = {0};
    rv_status st = rv_tensor_alloc(&hwf, RV_CPU, 4, l->h_w.dim, "fused weight");
    if (st == RV_OK) st = rv_tensor_alloc1(&hbf, RV_CPU, l->h_w.dim[0], "fused bias");
    if (st == RV_OK) st = rv_fuse_conv_bn(&l->h_w, l->bias ? &l->h_b : NULL, bn, &hwf, &hbf);
    if (st == RV_OK) st = rv_tensor_clone(wf, &hwf, dev, "fused weight");
    if (st == RV_OK) st = rv_tensor_clone(bf, &hbf, dev, "fused bias");
    rv_tensor_free(&hwf);
    rv_tensor_free(&hbf);
    return st;
}

rv_status rv_conv_bn_build(rv_conv_bn_pair *l, rv_device dev, int n, int c, int s, int with_bias,
                           uint64_t seed)
{
    rv_rng rng = rv_rng_seed(seed);
    *l = (rv_conv_bn_pair){0};
    rv_tensor hx = {0};
    l->bias = with_bias ? &l->b : NULL;
    rv_status st = rv_tensor_alloc4(&hx, RV_CPU, n, c, s, s, "x");
    if (st == RV_OK) st = rv_tensor_alloc4(&l->h_w, RV_CPU, c, c, 3, 3, "conv weight");
    if (st == RV_OK) st = rv_tensor_alloc1(&l->h_b, RV_CPU, c, "conv bias");
    if (st == RV_OK) st = rv_bn_alloc(&l->bn, c);
    if (st == RV_OK) {
        rv_tensor_fill_uniform(&hx, &rng, -1.0f, 1.0f);
        rv_tensor_fill_uniform(&l->h_w, &rng, -0.5f, 0.5f);
        rv_tensor_fill_uniform(&l->h_b, &rng, -0.5f, 0.5f);
        st = rv_bn_randomize(&l->bn, &rng);
    }
    if (st == RV_OK) st = rv_bn_prepare(&l->bn, dev);
    if (st == RV_OK) st = rv_tensor_clone(&l->x, &hx, dev, "x");
    if (st == RV_OK) st = rv_tensor_clone(&l->w, &l->h_w, dev, "conv weight");
    if (st == RV_OK) st = rv_tensor_clone(&l->b, &l->h_b, dev, "conv bias");
    if (st == RV_OK) st = rv_conv_bn_fold(l, &l->bn, dev, &l->wf, &l->bf);
    rv_tensor *const out[3] = {&l->z, &l->y, &l->yf};
    const int64_t od[4] = {n, c, s - 2, s - 2};
    if (st == RV_OK) st = rv_alloc_form_buffers(out, 3, 2, dev, od, l->held);
    rv_tensor_free(&hx);
    return st;
}

void rv_conv_bn_free(rv_conv_bn_pair *l)
{
    rv_tensor *all[10] = {&l->h_w, &l->h_b, &l->x, &l->w, &l->b,
                          &l->wf,  &l->bf,  &l->z, &l->y, &l->yf};
    for (int i = 0; i < 10; i++) rv_tensor_free(all[i]);
    rv_bn_free(&l->bn);
}
