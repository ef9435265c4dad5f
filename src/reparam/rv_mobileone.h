/* rv_mobileone.h - MobileOne's block ("MobileOne: An Improved One millisecond
 * Mobile Backbone", Vasu et al., CVPR 2023): two re-parameterizable blocks
 * in sequence, each a list of branches (rv_block.h).
 *
 * The depthwise part, C -> C channels in C groups (each output channel sees
 * only its own input channel), 3x3 with padding 1, stride 1 or 2:
 *     y1 = ReLU( sum_i BN_i(dw3x3_i(x)) + BN_s(dw1x1(x)) + BN_id(x) )
 *        = ReLU( dw3x3(x, Wd) + bd )
 * k 3x3 conv-BN branches, the 1x1 conv-BN "scale" branch, and the identity
 * BN only at stride 1 (rv_block_wants_identity: in == out holds).
 * The pointwise part, C -> O channels, 1x1, stride 1, one group:
 *     y = ReLU( sum_i BN_i(conv1x1_i(y1)) + BN_id(y1) ) = ReLU( conv1x1(y1, Wp) + bp )
 * k 1x1 conv-BN branches and the identity BN only where C == O (a 1x1 kernel
 * has no smaller kernel to add as a scale branch).
 * Each part folds into one conv by rv_block_switch_to_fast; the depthwise
 * fold is lesson 04's identity kernel with groups = C, and lesson 03's
 * padding of the 1x1 kernel, channel by channel. k is the paper's
 * over-parameterization factor (MobileOne-S0 trains with k = 4, the larger
 * models with k = 1).
 */
#ifndef RV_MOBILEONE_H
#define RV_MOBILEONE_H

#include "rv_block.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The most conv branches a part can have: the depthwise part holds k + 2
 * branches (rv_block.h's RV_MAX_BRANCHES) */
#define RV_MOBILEONE_MAX_K (RV_MAX_BRANCHES - 2)

typedef struct {
    int64_t in_ch, out_ch; /* C, and O after the pointwise part */
    int stride;            /* the depthwise part's */
    int k;                 /* conv branches per part, 1 to RV_MOBILEONE_MAX_K */
} rv_mobileone;

/* *dw and *pw = the two parts' specs; RV_EINVAL naming what is wrong (k out
 * of range, channels or stride below 1). */
rv_status rv_mobileone_specs(rv_mobileone m, rv_block_spec *dw, rv_block_spec *pw);

/* The block in both forms with buffers, for the lesson, the bench and the
 * tests: x (N, C, S, S) seeded in [-1, 1]; every conv weight and BN
 * statistic seeded (rv_block_init_random); the deploy-time parts folded from
 * the train-time ones. */
typedef struct {
    rv_mobileone m;
    rv_block train[2];        /* [0] the depthwise part, [1] the pointwise part */
    rv_block fast[2];         /* the same parts, each folded into one conv */
    rv_block_plan plan[2][2]; /* [part][0 train-time, 1 deploy-time], for x */
    rv_tensor x;              /* (N, C, S, S) */
    /* train-time: the depthwise part's output mid (N, C, P, P), the block's
     * y (N, O, P, P), branch scratch of each shape; deploy-time: midf, yf */
    rv_tensor tmp[2], mid, y;
    rv_tensor midf, yf;
    size_t held[2]; /* activation bytes of each form: tmp, mid and y; midf and yf */
} rv_mobileone_pair;

rv_status rv_mobileone_pair_build(rv_mobileone_pair *p, rv_mobileone m, rv_device dev, int n, int s,
                                  uint64_t seed);
void rv_mobileone_pair_free(rv_mobileone_pair *p);
/* The two forms, as rv_fn (ctx: rv_mobileone_pair *): both parts
 * train-time, and both folded. */
rv_status rv_mobileone_pair_train(void *ctx);
rv_status rv_mobileone_pair_fast(void *ctx);

#ifdef __cplusplus
}
#endif
#endif
