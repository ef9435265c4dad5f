/* block.c - a block's parameters: allocated, filled at random (PyTorch's
 * init), moved between devices, counted, freed (rv_block.h). The spec is
 * block_spec.c's, the forward block_forward.c's, the fold fold.c's. */
#include <math.h>
#include <string.h>

#include "rv_block.h"

static rv_status alloc_weight(rv_tensor *w, int64_t o, int64_t i, int64_t kh, int64_t kw,
                              const char *what)
{
    return rv_tensor_alloc4(w, RV_CPU, o, i, kh, kw, what);
}

rv_status rv_block_alloc(rv_block *b, rv_block_spec spec)
{
    memset(b, 0, sizeof *b);
    b->spec = spec;
    b->device = RV_CPU;
    rv_status st = rv_block_check(&spec);
    const int64_t O = spec.out_ch, Ig = spec.in_ch / (spec.groups ? spec.groups : 1);
    for (int i = 0; i < spec.n_branches && st == RV_OK; i++) {
        const rv_branch_spec *bs = &spec.branch[i];
        rv_branch *br = &b->branch[i];
        if (bs->kind == RV_BRANCH_CONV)
            st = alloc_weight(&br->w, O, Ig, bs->kh, bs->kw, "branch weight");
        if (st == RV_OK && rv_branch_has_middle(bs)) {
            int64_t M = rv_branch_mid_channels(&spec, bs);
            st = alloc_weight(&br->w1, M, Ig, 1, 1, "branch 1x1 weight");
            if (st == RV_OK) st = rv_bn_alloc(&br->bn1, M);
            if (st == RV_OK && bs->kind == RV_BRANCH_1X1_KXK)
                st = alloc_weight(&br->w, O, M / spec.groups, bs->kh, bs->kw, "branch weight");
        }
        if (st == RV_OK && bs->bias) st = rv_tensor_alloc1(&br->b, RV_CPU, O, "branch bias");
        if (st == RV_OK && bs->bn) st = rv_bn_alloc(&br->bn, O);
    }
    if (st == RV_OK && spec.post_bn) st = rv_bn_alloc(&b->post, O);
    if (st != RV_OK) rv_block_free(b);
    return st;
}

/* Every BN of the block: f(bn) for each, stopping at the first error. */
static rv_status each_bn(rv_block *b, rv_status (*f)(rv_bn *, void *), void *ctx)
{
    rv_status st = RV_OK;
    for (int i = 0; i < b->spec.n_branches && st == RV_OK; i++) {
        if (b->branch[i].bn1.channels) st = f(&b->branch[i].bn1, ctx);
        if (st == RV_OK && b->branch[i].bn.channels) st = f(&b->branch[i].bn, ctx);
    }
    if (st == RV_OK && b->post.channels) st = f(&b->post, ctx);
    return st;
}

static rv_status prepare_bn(rv_bn *bn, void *dev) { return rv_bn_prepare(bn, *(rv_device *)dev); }

rv_status rv_block_to(rv_block *b, rv_device dev)
{
    rv_status st = RV_OK;
    for (int i = 0; i < b->spec.n_branches && st == RV_OK; i++) {
        rv_tensor *t[3] = {&b->branch[i].w, &b->branch[i].b, &b->branch[i].w1};
        for (int k = 0; k < 3 && st == RV_OK; k++) {
            if (!t[k]->data || t[k]->device == dev) continue;
            rv_tensor moved;
            st = rv_tensor_clone(&moved, t[k], dev, "branch weight");
            if (st == RV_OK) {
                rv_tensor_free(t[k]);
                *t[k] = moved;
            }
        }
    }
    if (st == RV_OK) st = each_bn(b, prepare_bn, &dev);
    if (st == RV_OK) b->device = dev;
    return st;
}

/* PyTorch's conv init bound, 1/sqrt(fan_in), for the weight and the bias */
static void fill_conv(rv_tensor *w, rv_tensor *bias, rv_rng *r)
{
    float bound = (float)(1.0 / sqrt((double)(w->dim[1] * w->dim[2] * w->dim[3])));
    rv_tensor_fill_uniform(w, r, -bound, bound);
    if (bias->data) rv_tensor_fill_uniform(bias, r, -bound, bound);
}

rv_status rv_block_init_random(rv_block *b, rv_block_spec spec, rv_rng *r, rv_device dev)
{
    rv_status st = rv_block_alloc(b, spec);
    if (st != RV_OK) return st;
    /* branch by branch, its convs then its BNs: RepVGG's order of old */
    for (int i = 0; i < spec.n_branches && st == RV_OK; i++) {
        rv_branch *br = &b->branch[i];
        if (br->w1.data) {
            rv_tensor none = {0};
            fill_conv(&br->w1, &none, r);
            st = rv_bn_randomize(&br->bn1, r);
        }
        if (br->w.data) fill_conv(&br->w, &br->b, r);
        if (st == RV_OK && br->bn.channels) st = rv_bn_randomize(&br->bn, r);
    }
    if (st == RV_OK && b->post.channels) st = rv_bn_randomize(&b->post, r);
    if (st == RV_OK) st = rv_block_to(b, dev);
    if (st != RV_OK) rv_block_free(b);
    return st;
}

void rv_block_free(rv_block *b)
{
    for (int i = 0; i < RV_MAX_BRANCHES; i++) {
        rv_branch *br = &b->branch[i];
        rv_tensor_free(&br->w);
        rv_tensor_free(&br->b);
        rv_tensor_free(&br->w1);
        rv_bn_free(&br->bn);
        rv_bn_free(&br->bn1);
    }
    rv_bn_free(&b->post);
}

int64_t rv_block_params(const rv_block *b)
{
    int64_t n = 0;
    for (int i = 0; i < b->spec.n_branches; i++) {
        const rv_branch *br = &b->branch[i];
        n += rv_tensor_numel(&br->w) + rv_tensor_numel(&br->b) + rv_tensor_numel(&br->w1);
        n += 2 * (br->bn.channels + br->bn1.channels); /* gamma and beta */
    }
    return n + 2 * b->post.channels;
}
