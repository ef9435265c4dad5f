/* block_forward.c - a block's forward pass (rv_block.h): each branch in
 * turn, with its BN, summed into y; the post-sum BN; ReLU. The calibration
 * pass is the same walk with every BN first given the statistics of its
 * input (rv_bn_calibrate), in the order the forward applies them. */
#include <string.h>

#include "rv_block.h"

/* Which BN of a block: branch i's middle one, branch i's own, the post-sum one. */
typedef enum { BN_MIDDLE, BN_BRANCH, BN_POST } bn_slot;

/* One walk over a block: how its convs run (bp, ws), and for the calibration
 * pass the same block, writable, with its random numbers. */
typedef struct {
    const rv_block *b;
    const rv_block_plan *bp;
    const rv_tensor *ws;
    rv_block *calibrate; /* b itself in the calibration pass, else NULL */
    rv_rng *r;
} walk;

static const rv_bn *bn_of(const rv_block *b, int i, bn_slot slot)
{
    return slot == BN_POST ? &b->post : slot == BN_MIDDLE ? &b->branch[i].bn1 : &b->branch[i].bn;
}

/* dst = bn(src) for BN `slot` of branch i (dst may be src), calibrated on
 * src first in the calibration pass */
static rv_status bn_step(const walk *w, int i, bn_slot slot, const rv_tensor *src, rv_tensor *dst)
{
    const rv_bn *bn = bn_of(w->b, i, slot);
    if (w->calibrate) {
        rv_bn *mine = slot == BN_POST     ? &w->calibrate->post
                      : slot == BN_MIDDLE ? &w->calibrate->branch[i].bn1
                                          : &w->calibrate->branch[i].bn;
        rv_status st = rv_bn_calibrate(mine, src, w->r);
        if (st != RV_OK) return st;
    }
    return rv_batchnorm(src, bn, dst);
}

/* The 1x1 conv, its BN, the middle padded (with the BN's shift unless
 * zero_border), the kxk conv (or average pool) into out */
static rv_status one_then_k(const walk *w, int i, const rv_tensor *x, rv_tensor *out)
{
    const rv_block_spec *s = &w->b->spec;
    const rv_branch_spec *bs = &s->branch[i];
    const rv_branch *br = &w->b->branch[i];
    if (!w->bp)
        return rv_error(RV_EINVAL,
                        "block branch %d: a branch with a middle runs on a plan "
                        "(rv_block_plan_build)",
                        i);
    int64_t M = rv_branch_mid_channels(s, bs), N = x->dim[0], H = x->dim[2], W = x->dim[3];
    float *m = w->bp->middle.data;
    rv_tensor mid = rv_tensor_view(m, w->b->device, 4, (const int64_t[]){N, M, H, W});
    rv_tensor padded =
        rv_tensor_view(m + rv_tensor_numel(&mid), w->b->device, 4,
                       (const int64_t[]){N, M, H + 2 * bs->pad_h, W + 2 * bs->pad_w});
    rv_conv_exec plain = rv_block_conv_exec(NULL, i, w->ws),
                 e = rv_block_conv_exec(w->bp, i, w->ws);
    rv_status st = rv_conv2d_run(x, &br->w1, NULL, rv_branch_1x1_params(s), &plain, &mid);
    if (st == RV_OK) st = bn_step(w, i, BN_MIDDLE, &mid, &mid);
    if (st == RV_OK && !bs->zero_border)
        st = rv_pad_border(&mid, bs->pad_h, bs->pad_w, &br->bn1.shift, &padded);
    const rv_tensor *in_k = bs->zero_border ? &mid : &padded;
    rv_conv_params pk = rv_branch_conv_params(s, bs);
    if (st == RV_OK && bs->kind == RV_BRANCH_1X1_AVG)
        return rv_avgpool2d(in_k, rv_branch_pool_params(s, bs), out);
    return st == RV_OK ? rv_conv2d_run(in_k, &br->w, NULL, pk, &e, out) : st;
}

/* out = branch i of x, its BN included */
static rv_status branch_forward(const walk *w, int i, const rv_tensor *x, rv_tensor *out)
{
    const rv_block_spec *s = &w->b->spec;
    const rv_branch_spec *bs = &s->branch[i];
    const rv_branch *br = &w->b->branch[i];
    rv_conv_exec e = rv_block_conv_exec(w->bp, i, w->ws);
    rv_status st;
    switch (bs->kind) {
    case RV_BRANCH_CONV:
        st = rv_conv2d_run(x, &br->w, br->b.data ? &br->b : NULL, rv_branch_conv_params(s, bs), &e,
                           out);
        break;
    case RV_BRANCH_IDENTITY: /* its BN straight from x: no copy of x first */
        return bs->bn ? bn_step(w, i, BN_BRANCH, x, out) : rv_tensor_copy(out, x);
    case RV_BRANCH_AVGPOOL:
        st = rv_avgpool2d(x, rv_branch_pool_params(s, bs), out);
        break;
    default:
        st = one_then_k(w, i, x, out);
        break;
    }
    return st == RV_OK && bs->bn ? bn_step(w, i, BN_BRANCH, out, out) : st;
}

static rv_status run(const walk *w, const rv_tensor *x, rv_tensor *tmp, rv_tensor *y)
{
    const rv_block_spec *s = &w->b->spec;
    if (x->ndim != 4 || x->dim[1] != s->in_ch)
        return rv_error(RV_EINVAL, "block: input needs %lld channels (N, C, H, W)",
                        (long long)s->in_ch);
    if (w->bp && memcmp(x->dim, w->bp->in, sizeof w->bp->in) != 0)
        return rv_error(RV_EINVAL, "block: the plan was made for an input of another shape");
    if (rv_block_is_fused(s)) { /* the deploy-time block: bias and ReLU in the conv's epilogue */
        rv_conv_params p = rv_branch_conv_params(s, &s->branch[0]);
        rv_conv_exec e = rv_block_conv_exec(w->bp, 0, w->ws);
        p.relu = !s->no_relu;
        return rv_conv2d_run(x, &w->b->branch[0].w, &w->b->branch[0].b, p, &e, y);
    }
    rv_status st = RV_OK;
    for (int i = 0; i < s->n_branches && st == RV_OK; i++) {
        if (i > 0 && s->branch[i].kind == RV_BRANCH_IDENTITY && !s->branch[i].bn) {
            st = rv_add(y, x, y); /* x itself: nothing to compute */
            continue;
        }
        if (i > 0 && !tmp) return rv_error(RV_EINVAL, "block: a multi-branch block needs tmp");
        st = branch_forward(w, i, x, i == 0 ? y : tmp);
        if (st == RV_OK && i > 0) st = rv_add(y, tmp, y);
    }
    if (st == RV_OK && s->post_bn) st = bn_step(w, 0, BN_POST, y, y);
    if (st == RV_OK && !s->no_relu) st = rv_relu(y, y);
    return st;
}

rv_status rv_block_run(const rv_block *b, const rv_block_plan *bp, const rv_tensor *ws,
                       const rv_tensor *x, rv_tensor *tmp, rv_tensor *y)
{
    walk w = {.b = b, .bp = bp, .ws = ws};
    return run(&w, x, tmp, y);
}

rv_status rv_block_forward(const rv_block *b, const rv_tensor *x, rv_tensor *tmp, rv_tensor *y)
{
    return rv_block_run(b, NULL, NULL, x, tmp, y);
}

rv_status rv_block_calibrate_bn(rv_block *b, const rv_block_plan *bp, const rv_tensor *x,
                                rv_tensor *tmp, rv_tensor *y, rv_rng *r)
{
    walk w = {.b = b, .bp = bp, .calibrate = b, .r = r};
    return run(&w, x, tmp, y);
}
