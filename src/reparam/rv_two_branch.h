/* rv_two_branch.h - the notebook's TwoBranches cell and its fused conv, as a
 * pair of forms over preallocated buffers (lessons 01 and 07, the bench).
 *
 *   two branches:  y  = conv(x, W1) + b1 + conv(x, W2) + b2   (3x3, no padding)
 *   fused:         yf = conv(x, W1 + W2) + (b1 + b2)
 */
#ifndef RV_TWO_BRANCH_H
#define RV_TWO_BRANCH_H

#include "rv_ops.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    rv_tensor x, w1, b1, w2, b2, wf, bf; /* x: (N, C, S, S), w*: (C, C, 3, 3), b*: (C) */
    rv_tensor y1, y2, y, yf;             /* outputs: (N, C, S-2, S-2) */
    size_t held[2]; /* activation bytes of each form: y1, y2, y and yf (rv_alloc_form_buffers) */
} rv_two_branch;

/* Seeded data on dev: small integers in [-3, 3] (every sum exact in float) or
 * floats (x in [-1, 1], weights and biases in [-0.5, 0.5]); then the fusion,
 * which sums the weights and the biases. s >= 3. */
rv_status rv_two_branch_build(rv_two_branch *t, rv_device dev, int n, int c, int s, int integers,
                              uint64_t seed);
void rv_two_branch_free(rv_two_branch *t);

/* The two forms, as rv_fn (ctx: rv_two_branch *). */
rv_status rv_two_branch_forward(void *ctx);
rv_status rv_two_branch_fused(void *ctx);

#ifdef __cplusplus
}
#endif
#endif
