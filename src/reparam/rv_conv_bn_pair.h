/* rv_conv_bn_pair.h - the notebook's conv + BN cell (In [7]) and the conv
 * that folds the BN in, as a pair of forms over preallocated buffers
 * (lesson 02, the bench).
 *
 *   conv + BN:  y  = bn(conv(x, W) + b)                 (3x3, no padding)
 *   fused:      yf = conv(x, s*W) + (t + s*b)           (rv_fuse_conv_bn)
 */
#ifndef RV_CONV_BN_PAIR_H
#define RV_CONV_BN_PAIR_H

#include "rv_ops.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    rv_tensor h_w, h_b;    /* host: w (C, C, 3, 3), b (C) */
    rv_tensor x, w, b;     /* device: x (N, C, S, S), w, b */
    const rv_tensor *bias; /* &b, or NULL: a conv without bias (the notebook's) */
    rv_bn bn;              /* running statistics, prepared on the device */
    rv_tensor wf, bf;      /* device: the fused conv, (C, C, 3, 3) and (C) */
    rv_tensor z, y, yf;    /* device: conv(x), bn(conv(x)), fused(x); (N, C, S-2, S-2) */
    size_t held[2];        /* activation bytes of each form: z and y, and yf */
} rv_conv_bn_pair;

/* Seeded data on dev: x in [-1, 1], W and b in [-0.5, 0.5], BN statistics
 * from rv_bn_randomize; with_bias = 0 is the notebook's conv (bias=False).
 * s >= 3. */
rv_status rv_conv_bn_build(rv_conv_bn_pair *l, rv_device dev, int n, int c, int s, int with_bias,
                           uint64_t seed);
void rv_conv_bn_free(rv_conv_bn_pair *l);

/* (wf, bf) on dev = the pair's conv folded with `bn`, computed on the host. */
rv_status rv_conv_bn_fold(const rv_conv_bn_pair *l, const rv_bn *bn, rv_device dev, rv_tensor *wf,
                          rv_tensor *bf);

/* The two forms, as rv_fn (ctx: rv_conv_bn_pair *). */
rv_status rv_conv_bn_forward(void *ctx);
rv_status rv_conv_bn_fused(void *ctx);

#ifdef __cplusplus
}
#endif
#endif
