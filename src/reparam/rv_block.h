/* rv_block.h - the RepVGG block in its two forms, and the switch between them.
 *
 * Train-time form (the notebook's RepVGGBlock, the paper's Fig. 2b):
 *     y = ReLU( BN3(conv3x3(x)) + BN1(conv1x1(x)) + BNid(x) )
 * where conv3x3 has padding 1, conv1x1 padding 0, both the block's stride and
 * groups and no bias, and the identity branch BNid exists only when
 * in == out and stride == 1. (The notebook builds it whenever in == out, also
 * at stride 2, where x and the other branches differ in size: its RepVGG-A0
 * crashes. We follow the paper.)
 *
 * Deploy-time form (RepVGGFastBlock): y = ReLU(conv3x3(x, W) + b), with
 *     W = fuse(W3, BN3) + pad1x1to3x3(fuse(W1, BN1)) + fuse(I, BNid)
 *     b = the sum of the three fused biases                (rv_reparam.h)
 */
#ifndef RV_BLOCK_H
#define RV_BLOCK_H

#include "rv_bn.h"
#include "rv_ops.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int64_t in_ch, out_ch;
    int stride, groups;
    int has_identity; /* in_ch == out_ch && stride == 1 for the paper's nets;
                       * always 0 in a fast block */
} rv_block_spec;

typedef struct {
    rv_block_spec spec;
    rv_tensor w3;         /* (O, I/g, 3, 3), on `device` */
    rv_tensor w1;         /* (O, I/g, 1, 1), on `device` */
    rv_bn bn3, bn1, bnid; /* bnid only with spec.has_identity */
    rv_tensor u3;         /* w3 in the Winograd domain: planned on the CPU, or empty */
} rv_block;

typedef struct {
    rv_block_spec spec;
    rv_tensor w; /* (O, I/g, 3, 3), on `device` */
    rv_tensor b; /* (O) */
    rv_tensor u; /* w in the Winograd domain: planned on the CPU, or empty */
} rv_fast_block;

/* The paper's rule for the identity branch. */
int rv_block_wants_identity(int64_t in_ch, int64_t out_ch, int stride);

/* Weights uniform in +-1/sqrt(fan_in) (PyTorch's conv init), BN statistics
 * from rv_bn_randomize; all from `r`, then put on `dev`. */
rv_status rv_block_init_random(rv_block *b, rv_block_spec spec, rv_rng *r, rv_device dev);
void rv_block_free(rv_block *b);
/* Gives every BN of the block statistics calibrated on input x
 * (rv_bn_calibrate), then runs the block: y = block(x); tmp is scratch. */
rv_status rv_block_calibrate_bn(rv_block *b, const rv_tensor *x, rv_tensor *tmp, rv_tensor *y,
                                rv_rng *r);

/* Output shape of either form for input x. */
rv_status rv_block_out_shape(const rv_block_spec *spec, const rv_tensor *x, int64_t out[4]);

/* y = the train-time block of x; tmp is scratch of y's shape. */
rv_status rv_block_forward(const rv_block *b, const rv_tensor *x, rv_tensor *tmp, rv_tensor *y);

/* The re-parameterization: the fast block that computes the same function,
 * on the same device as b. */
rv_status rv_block_switch_to_fast(const rv_block *b, rv_fast_block *out);
rv_status rv_fast_block_forward(const rv_fast_block *f, const rv_tensor *x, rv_tensor *y);
void rv_fast_block_free(rv_fast_block *f);

/* Planning a block for its forward passes on inputs of shape in (N, C, H,
 * W): on the CPU, the stride-1 3x3 weight is transformed into the Winograd
 * domain once (rv_winograd.h), so the forward runs Winograd F(2x2, 3x3) or
 * F(4x4, 3x3) for it (rv_winograd_tile picks by the shape; any shape still
 * runs); elsewhere nothing to do. Unplan frees that copy (free does too).
 * Change a weight only unplanned. */
rv_status rv_block_plan(rv_block *b, const int64_t in[4]);
void rv_block_unplan(rv_block *b);
rv_status rv_fast_block_plan(rv_fast_block *f, const int64_t in[4]);
void rv_fast_block_unplan(rv_fast_block *f);

/* A block in both forms with buffers, for lessons and benchmarks:
 * x (N, C, S, S) seeded in [-1, 1]; tmp, y (train-time) and yf (deploy-time)
 * shaped as the block's output. */
typedef struct {
    rv_block train;
    rv_fast_block fast;
    rv_tensor x, tmp, y, yf;
    size_t held[2]; /* activation bytes of each form: tmp and y, and yf */
} rv_block_pair;

rv_status rv_block_pair_build(rv_block_pair *p, rv_block_spec spec, rv_device dev, int n, int s,
                              uint64_t seed);
void rv_block_pair_free(rv_block_pair *p);
/* The two forms, as rv_fn (ctx: rv_block_pair *). */
rv_status rv_block_pair_train(void *ctx);
rv_status rv_block_pair_fast(void *ctx);

#ifdef __cplusplus
}
#endif
#endif
