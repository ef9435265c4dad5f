/* rv_concat.h - DBB's transform IV as a unit with both forms: 1x1 conv-BN
 * branches concatenated along channels, then a 3x3 conv-BN (lesson 08).
 *
 *   unit:   y  = BN3( conv3x3( pad_t( concat(BN1(conv1x1(x, A1)), BN2(conv1x1(x, A2))) ) ) )
 *   folded: yf = conv3x3(x, W) + b  (padding 1)
 *
 * pad_t pads the concatenation with the two BNs' shifts t1, t2 (what each BN
 * gives where its 1x1 conv reads zeros), so the fold is exact on the border
 * too. The fold: each 1x1 with its BN (rv_fuse_conv_bn), the two stacked
 * along output channels (rv_concat_kernels: concatenated outputs are one
 * conv with stacked kernels), merged with the 3x3 (rv_merge_1x1_kxk), BN3
 * folded last. Groups 1 only: with g groups the stacked channels of one
 * group are not next to each other.
 */
#ifndef RV_CONCAT_H
#define RV_CONCAT_H

#include "rv_bn.h"
#include "rv_ops.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int stride;
    rv_tensor a[2];   /* the 1x1 kernels (M_k, C, 1, 1) */
    rv_bn bn[3];      /* after a[0], after a[1], after the 3x3 conv */
    rv_tensor shift;  /* (M1 + M2): bn[0]'s and bn[1]'s shifts, concatenated */
    rv_tensor w3;     /* (O, M1 + M2, 3, 3) */
    rv_tensor x;      /* (N, C, S, S) */
    rv_tensor mid;    /* (N, M1 + M2, S, S): the concatenation */
    rv_tensor pad;    /* (N, M1 + M2, S + 2, S + 2) */
    rv_tensor y, yf;  /* (N, O, P, P): the unit's output, the folded conv's */
    rv_tensor wf, bf; /* the folded conv (O, C, 3, 3) and its bias (O), on the device */
} rv_concat_unit;

/* Seeded weights (uniform in +-1/sqrt(fan_in)), BN statistics
 * (rv_bn_randomize) and x in [-1, 1] on dev: C -> m1 + m2 -> out channels,
 * N x C x S x S input, the 3x3 conv at this stride; then the fold. */
rv_status rv_concat_build(rv_concat_unit *u, rv_device dev, int n, int s, int64_t c, int64_t m1,
                          int64_t m2, int64_t out, int stride, uint64_t seed);
void rv_concat_free(rv_concat_unit *u);

/* The two forms, as rv_fn (ctx: rv_concat_unit *): y, then yf. */
rv_status rv_concat_forward(void *ctx);
rv_status rv_concat_fused(void *ctx);

#ifdef __cplusplus
}
#endif
#endif
