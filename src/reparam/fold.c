/* fold.c - a block's branches as one conv: each branch's kernel (alone, or
 * with its BN folded in), and the switch to the deploy-time block
 * (rv_block.h; the fold itself is the step rv_step_fold_block, rv_steps.h). */
#include "rv_block.h"
#include "rv_reparam.h"
#include "rv_steps.h"

/* *h = a host copy of t */
static rv_status to_host(const rv_tensor *t, rv_tensor *h, const char *what)
{
    return rv_tensor_clone(h, t, RV_CPU, what);
}

/* The 1x1 conv with its BN folded in, then merged with the kxk conv, or with
 * the average pool's kernel (no bias of its own: its BN is the branch's,
 * folded by the caller). */
static rv_status merged_1x1_kxk(const rv_block *b, int i, rv_tensor *w, rv_tensor *bias)
{
    const rv_branch_spec *bs = &b->spec.branch[i];
    const rv_branch *br = &b->branch[i];
    rv_tensor w1 = {0}, b1 = {0}, w2 = {0}, zero = {0};
    rv_status st = to_host(&br->w1, &w1, "branch 1x1 weight");
    if (st == RV_OK) st = rv_tensor_alloc1(&b1, RV_CPU, w1.dim[0], "branch 1x1 bias");
    if (st == RV_OK) st = rv_fuse_conv_bn(&w1, NULL, &br->bn1, &w1, &b1);
    if (st == RV_OK && bs->kind == RV_BRANCH_1X1_KXK)
        st = to_host(&br->w, &w2, "branch kxk weight");
    if (st == RV_OK && bs->kind == RV_BRANCH_1X1_AVG) {
        st = rv_tensor_alloc4(&w2, RV_CPU, w->dim[0], w1.dim[0] / b->spec.groups, bs->kh, bs->kw,
                              "branch pool kernel");
        if (st == RV_OK) st = rv_avgpool_kernel(b->spec.groups, &w2);
    }
    if (st == RV_OK) st = rv_tensor_alloc1(&zero, RV_CPU, w2.dim[0], "branch kxk bias");
    if (st == RV_OK) st = rv_tensor_fill(&zero, 0.0f);
    if (st == RV_OK) st = rv_merge_1x1_kxk(&w1, &b1, &w2, &zero, b->spec.groups, w, bias);
    rv_tensor *t[4] = {&w1, &b1, &w2, &zero};
    for (int k = 0; k < 4; k++) rv_tensor_free(t[k]);
    return st;
}

rv_status rv_branch_kernel(const rv_block *b, int i, rv_tensor *w, rv_tensor *bias,
                           const rv_bn **bn)
{
    const rv_block_spec *s = &b->spec;
    if (i < 0 || i >= s->n_branches)
        return rv_error(RV_EINVAL, "branch_kernel: no branch %d in a block of %d", i,
                        s->n_branches);
    const rv_branch_spec *bs = &s->branch[i];
    const rv_branch *br = &b->branch[i];
    int64_t O = s->out_ch, Ig = s->in_ch / s->groups;
    int kh = bs->kind == RV_BRANCH_IDENTITY ? s->kh : bs->kh;
    int kw = bs->kind == RV_BRANCH_IDENTITY ? s->kw : bs->kw;
    *w = (rv_tensor){0};
    *bias = (rv_tensor){0};
    *bn = bs->bn ? &br->bn : NULL;
    rv_status st = bs->kind == RV_BRANCH_CONV
                       ? to_host(&br->w, w, "branch weight")
                       : rv_tensor_alloc4(w, RV_CPU, O, Ig, kh, kw, "branch kernel");
    if (st == RV_OK)
        st = br->b.data ? to_host(&br->b, bias, "branch bias")
                        : rv_tensor_alloc1(bias, RV_CPU, O, "branch bias");
    if (st == RV_OK && !br->b.data) st = rv_tensor_fill(bias, 0.0f);
    if (st == RV_OK && bs->kind == RV_BRANCH_IDENTITY) st = rv_identity_kernel(s->groups, w);
    if (st == RV_OK && bs->kind == RV_BRANCH_AVGPOOL) st = rv_avgpool_kernel(s->groups, w);
    if (st == RV_OK && (bs->kind == RV_BRANCH_1X1_KXK || bs->kind == RV_BRANCH_1X1_AVG))
        st = merged_1x1_kxk(b, i, w, bias);
    if (st != RV_OK) {
        rv_tensor_free(w);
        rv_tensor_free(bias);
    }
    return st;
}

rv_status rv_branch_kernel_fused(const rv_block *b, int i, rv_tensor *w, rv_tensor *bias)
{
    const rv_bn *bn;
    rv_status st = rv_branch_kernel(b, i, w, bias, &bn);
    if (st == RV_OK && bn) st = rv_fuse_conv_bn(w, bias, bn, w, bias);
    if (st != RV_OK) {
        rv_tensor_free(w);
        rv_tensor_free(bias);
    }
    return st;
}

rv_status rv_block_switch_to_fast(const rv_block *b, rv_block *out)
{
    *out = (rv_block){0};
    rv_status st = rv_block_check(&b->spec);
    if (st == RV_OK) st = rv_block_alloc(out, rv_fused_block_spec(&b->spec));
    rv_tensor *w = &out->branch[0].w, *bias = &out->branch[0].b;
    if (st == RV_OK) st = rv_tensor_fill(w, 0.0f);
    if (st == RV_OK) st = rv_tensor_fill(bias, 0.0f);
    if (st == RV_OK) st = rv_step_fold_block(b, w, bias);
    if (st == RV_OK) st = rv_block_to(out, b->device);
    if (st != RV_OK) rv_block_free(out);
    return st;
}
