/* quant_net.c - blocks and networks simulated in INT8 and measured against
 * float32; the QARepVGG twin of a RepVGG network (rv_quant_net.h). */
#include <string.h>

#include "rv_quant_net.h"
#include "rv_reparam.h"
#include "rv_timing.h"

/* w = fake_quant(w) in place, on one grid or on one per output channel. */
static rv_status quantize_kernel(rv_tensor *w, rv_quant_grain g)
{
    if (g == RV_QUANT_PER_TENSOR) {
        float s;
        rv_status st = rv_quant_tensor_scale(w, &s);
        return st == RV_OK ? rv_fake_quant_tensor(w, s, w) : st;
    }
    rv_tensor s = {0};
    rv_status st = rv_tensor_alloc1(&s, w->device, w->dim[0], "per-channel scales");
    if (st == RV_OK) st = rv_quant_channel_scales(w, &s);
    if (st == RV_OK) st = rv_fake_quant_channel(w, &s, w);
    rv_tensor_free(&s);
    return st;
}

/* dst's statistics = src's (dst allocated for as many channels, on the CPU). */
static rv_status copy_bn(const rv_bn *src, rv_bn *dst)
{
    const rv_tensor *from[4] = {&src->gamma, &src->beta, &src->mean, &src->var};
    rv_tensor *to[4] = {&dst->gamma, &dst->beta, &dst->mean, &dst->var};
    rv_status st = RV_OK;
    for (int k = 0; k < 4 && st == RV_OK; k++) st = rv_tensor_copy(to[k], from[k]);
    dst->eps = src->eps;
    return st;
}

/* Branch i of b as a conv with its BN folded in and its kernel quantized,
 * into out's branch i (a conv with bias). */
static rv_status quantized_branch(const rv_block *b, int i, rv_quant_grain g, rv_block *out)
{
    rv_tensor w = {0}, bias = {0};
    rv_status st = rv_branch_kernel_fused(b, i, &w, &bias);
    if (st == RV_OK) st = quantize_kernel(&w, g);
    if (st == RV_OK) st = rv_tensor_copy(&out->branch[i].w, &w);
    if (st == RV_OK) st = rv_tensor_copy(&out->branch[i].b, &bias);
    rv_tensor_free(&w);
    rv_tensor_free(&bias);
    return st;
}

rv_status rv_block_fake_quant(const rv_block *b, rv_quant_grain g, rv_block *out)
{
    *out = (rv_block){0};
    if (g != RV_QUANT_PER_TENSOR && g != RV_QUANT_PER_CHANNEL)
        return rv_error(RV_EINVAL, "block_fake_quant: no such weight grain (%d)", (int)g);
    rv_block_spec q = b->spec;
    for (int i = 0; i < q.n_branches; i++) {
        rv_branch_spec *bs = &q.branch[i];
        if (bs->kind == RV_BRANCH_CONV) {
            bs->bias = 1; /* its BN, folded in, becomes its bias */
            bs->bn = 0;
        } else if (bs->kind != RV_BRANCH_IDENTITY) {
            return rv_error(RV_EINVAL,
                            "block_fake_quant: branch %d is neither a conv nor the identity: "
                            "only RepVGG-like blocks are quantized",
                            i);
        }
    }
    rv_status st = rv_block_alloc(out, q);
    for (int i = 0; i < q.n_branches && st == RV_OK; i++) {
        if (q.branch[i].kind == RV_BRANCH_CONV)
            st = quantized_branch(b, i, g, out);
        else if (q.branch[i].bn)
            st = copy_bn(&b->branch[i].bn, &out->branch[i].bn);
    }
    if (st == RV_OK && q.post_bn) st = copy_bn(&b->post, &out->post);
    if (st == RV_OK) st = rv_block_to(out, b->device);
    if (st != RV_OK) rv_block_free(out);
    return st;
}

/* *y = block b on x (allocated here; the caller frees it). */
static rv_status run_block(const rv_block *b, const rv_tensor *x, rv_tensor *y)
{
    int64_t shape[4];
    rv_tensor tmp = {0};
    *y = (rv_tensor){0};
    rv_status st = rv_block_out_shape(&b->spec, x, shape);
    if (st == RV_OK) st = rv_tensor_alloc(y, x->device, 4, shape, "block output");
    if (st == RV_OK && !rv_block_is_fused(&b->spec))
        st = rv_tensor_alloc(&tmp, x->device, 4, shape, "branch buffer");
    if (st == RV_OK) st = rv_block_forward(b, x, tmp.data ? &tmp : NULL, y);
    rv_tensor_free(&tmp);
    if (st != RV_OK) rv_tensor_free(y);
    return st;
}

rv_status rv_net_calibrate_inputs(const rv_net *net, const rv_tensor *batches, int n, float *scales)
{
    if (n < 1) return rv_error(RV_EINVAL, "calibrate_inputs: no calibration batch");
    rv_calib c[RV_MAX_BLOCKS] = {{0}};
    rv_status st = RV_OK;
    for (int k = 0; k < n && st == RV_OK; k++) {
        rv_tensor in = batches[k], out = {0}; /* in: the batch itself, then a block's output */
        for (int i = 0; i < net->n_blocks && st == RV_OK; i++) {
            st = rv_calib_observe(&c[i], &in);
            if (st == RV_OK) st = run_block(&net->blocks[i], &in, &out);
            if (i > 0) rv_tensor_free(&in);
            in = out;
            out = (rv_tensor){0};
        }
        if (st == RV_OK && net->n_blocks > 0) rv_tensor_free(&in);
    }
    for (int i = 0; i < net->n_blocks && st == RV_OK; i++) st = rv_calib_scale(&c[i], &scales[i]);
    return st;
}

/* The error of q's folded kernel against b's (a deploy-time block folds to
 * itself). */
static rv_status kernel_error(const rv_block *b, const rv_block *q, rv_quant_err *err)
{
    rv_block fb = {0}, fq = {0};
    rv_status st = rv_block_switch_to_fast(b, &fb);
    if (st == RV_OK) st = rv_block_switch_to_fast(q, &fq);
    if (st == RV_OK) st = rv_quant_error(&fq.branch[0].w, &fb.branch[0].w, err);
    rv_block_free(&fb);
    rv_block_free(&fq);
    return st;
}

/* *y = the quantized block q on fake_quant(x, scale); in is scratch of x's
 * shape. */
static rv_status run_quantized(const rv_block *q, const rv_tensor *x, float scale, rv_tensor *in,
                               rv_tensor *y)
{
    rv_status st = rv_fake_quant_tensor(x, scale, in);
    return st == RV_OK ? run_block(q, in, y) : st;
}

rv_status rv_net_quant_error(const rv_net *net, const float *scales, rv_quant_grain g,
                             const rv_tensor *x, rv_quant_block_err *errs)
{
    /* xf: the float network's input to block i, xq: the simulated one's (x at first) */
    rv_tensor xf = *x, xq = *x;
    rv_status st = RV_OK;
    for (int i = 0; i < net->n_blocks && st == RV_OK; i++) {
        const rv_block *b = &net->blocks[i];
        rv_block q = {0};
        rv_tensor in = {0}, yf = {0}, ya = {0}, yq = {0};
        st = rv_block_fake_quant(b, g, &q);
        if (st == RV_OK) st = kernel_error(b, &q, &errs[i].weights);
        if (st == RV_OK) st = run_block(b, &xf, &yf);
        if (st == RV_OK) st = rv_tensor_alloc(&in, x->device, 4, xf.dim, "quantized input");
        if (st == RV_OK) st = run_quantized(&q, &xf, scales[i], &in, &ya);
        if (st == RV_OK) st = run_quantized(&q, &xq, scales[i], &in, &yq);
        if (st == RV_OK) st = rv_quant_error(&ya, &yf, &errs[i].alone);
        if (st == RV_OK) st = rv_quant_error(&yq, &yf, &errs[i].chain);
        rv_block_free(&q);
        rv_tensor_free(&in);
        rv_tensor_free(&ya);
        if (i > 0) {
            rv_tensor_free(&xf);
            rv_tensor_free(&xq);
        }
        xf = yf;
        xq = yq;
    }
    if (net->n_blocks > 0 && xf.data != x->data) {
        rv_tensor_free(&xf);
        rv_tensor_free(&xq);
    }
    return st;
}

/* 1 when s is RepVGG's block for its channels, stride and groups. */
static int is_repvgg(const rv_block_spec *s)
{
    rv_block_spec r;
    if (rv_repvgg_block_spec(s->in_ch, s->out_ch, s->stride, s->groups, &r) != RV_OK) return 0;
    int same = s->n_branches == r.n_branches && s->post_bn == r.post_bn &&
               s->no_relu == r.no_relu && s->kh == r.kh && s->kw == r.kw;
    for (int i = 0; i < r.n_branches && same; i++) {
        const rv_branch_spec *a = &s->branch[i], *e = &r.branch[i];
        same = a->kind == e->kind && a->kh == e->kh && a->kw == e->kw && a->pad_h == e->pad_h &&
               a->pad_w == e->pad_w && a->bn == e->bn && a->bias == e->bias;
    }
    return same;
}

/* Block b (RepVGG's) as QARepVGG's block on the same kernels, into *out. */
static rv_status qarepvgg_block(const rv_block *b, rv_rng *r, rv_block *out)
{
    const rv_block_spec *s = &b->spec;
    rv_block_spec qs;
    rv_status st = rv_qarepvgg_block_spec(s->in_ch, s->out_ch, s->stride, s->groups, &qs);
    if (st == RV_OK) st = rv_block_alloc(out, qs);
    for (int i = 0; i < 2 && st == RV_OK; i++) /* the 3x3 and the 1x1 kernel */
        st = rv_tensor_copy(&out->branch[i].w, &b->branch[i].w);
    if (st == RV_OK) st = copy_bn(&b->branch[0].bn, &out->branch[0].bn);
    if (st == RV_OK) st = rv_bn_randomize(&out->post, r);
    if (st == RV_OK) st = rv_block_to(out, b->device);
    return st;
}

rv_status rv_net_to_qarepvgg(const rv_net *net, rv_rng *r, rv_net *qa)
{
    for (int i = 0; i < net->n_blocks; i++)
        if (!is_repvgg(&net->blocks[i].spec))
            return rv_error(RV_EINVAL,
                            "to_qarepvgg: block %d is not RepVGG's block (3x3 conv-BN, 1x1 "
                            "conv-BN and, at stride 1 with in == out, an identity BN)",
                            i);
    rv_status st = rv_net_alloc(qa, net->n_blocks, net->device);
    for (int i = 0; i < net->n_blocks && st == RV_OK; i++)
        st = qarepvgg_block(&net->blocks[i], r, &qa->blocks[i]);
    if (st == RV_OK && net->head_w.data) {
        st = rv_tensor_clone(&qa->head_w, &net->head_w, net->device, "linear.weight");
        if (st == RV_OK)
            st = rv_tensor_clone(&qa->head_b, &net->head_b, net->device, "linear.bias");
    }
    if (st != RV_OK) rv_net_free(qa);
    return st;
}

/* t (n, c, s, s) uniform in [-1, 1], on dev */
static rv_status random_batch(rv_tensor *t, rv_device dev, int64_t n, int64_t c, int64_t s,
                              rv_rng *r)
{
    return rv_tensor_random(t, dev, 4, (const int64_t[]){n, c, s, s}, r, -1.0f, 1.0f,
                            "random batch");
}

rv_status rv_quant_nets_build(rv_quant_nets *q, const rv_block_spec *specs, int n, rv_device dev,
                              int batch, int size, int n_calib, uint64_t seed)
{
    static const rv_quant_grain grains[2] = {RV_QUANT_PER_TENSOR, RV_QUANT_PER_CHANNEL};
    memset(q, 0, sizeof *q);
    if (n < 1 || n > RV_MAX_BLOCKS || n_calib < 1 || n_calib > RV_QUANT_MAX_CALIB)
        return rv_error(RV_EINVAL,
                        "quant_nets: %d blocks (1 to %d) and %d calibration batches "
                        "(1 to %d)",
                        n, RV_MAX_BLOCKS, n_calib, RV_QUANT_MAX_CALIB);
    rv_rng r = rv_rng_seed(seed);
    rv_tensor train = {0};
    const int64_t C = specs[0].in_ch;
    q->n_blocks = n;
    q->n_calib = n_calib;
    /* BN statistics from 128x128 maps whatever the size measured: statistics
     * from tiny maps (a 32x32 input ends in 1x1 ones) make a hypersensitive
     * network (lesson 06) */
    rv_status st = random_batch(&train, dev, 2, C, 128, &r);
    for (int i = 0; i < n_calib && st == RV_OK; i++)
        st = random_batch(&q->calib[i], dev, batch, C, size, &r);
    if (st == RV_OK) st = random_batch(&q->x, dev, batch, C, size, &r);
    rv_net *rep = q->net[RV_NET_REPVGG], *qa = q->net[RV_NET_QAREPVGG];
    if (st == RV_OK) st = rv_net_init_random(&rep[RV_FORM_TRAIN], specs, n, 0, &r, dev);
    if (st == RV_OK) st = rv_net_to_qarepvgg(&rep[RV_FORM_TRAIN], &r, &qa[RV_FORM_TRAIN]);
    for (int k = 0; k < 2 && st == RV_OK; k++) {
        rv_net *f = q->net[k];
        st = rv_net_calibrate_bn(&f[RV_FORM_TRAIN], &train, &r);
        if (st == RV_OK) st = rv_net_switch_to_fast(&f[RV_FORM_TRAIN], &f[RV_FORM_DEPLOY]);
        if (st == RV_OK)
            st = rv_net_calibrate_inputs(&f[RV_FORM_DEPLOY], q->calib, n_calib, q->scales[k]);
    }
    rv_tensor_free(&train);
    for (int k = 0; k < 2 && st == RV_OK; k++)
        for (int f = 0; f < 2 && st == RV_OK; f++)
            for (int g = 0; g < 2 && st == RV_OK; g++)
                st = rv_net_quant_error(&q->net[k][f], q->scales[k], grains[g], &q->x,
                                        q->err[k][f][g]);
    if (st != RV_OK) rv_quant_nets_free(q);
    return st;
}

void rv_quant_nets_free(rv_quant_nets *q)
{
    for (int k = 0; k < 2; k++)
        for (int f = 0; f < 2; f++) rv_net_free(&q->net[k][f]);
    for (int i = 0; i < RV_QUANT_MAX_CALIB; i++) rv_tensor_free(&q->calib[i]);
    rv_tensor_free(&q->x);
}

double rv_quant_nets_median_db(const rv_quant_nets *q, int net, int form, rv_quant_grain g,
                               int alone)
{
    double v[RV_MAX_BLOCKS];
    int m = 0;
    for (int i = 0; i < q->n_blocks; i++) {
        const rv_quant_block_err *e = &q->err[net][form][g - 1][i];
        if (rv_block_find_branch(&q->net[0][0].blocks[i].spec, RV_BRANCH_IDENTITY) >= 0)
            v[m++] = alone ? e->alone.sqnr_db : e->weights.sqnr_db;
    }
    return rv_median(v, m);
}

rv_status rv_branch_share_range(const rv_block *b, int i, double *largest, double *smallest)
{
    rv_tensor w = {0}, bias = {0};
    rv_status st = rv_branch_kernel_fused(b, i, &w, &bias);
    /* QARepVGG's BN after the sum scales every branch's share (sp) */
    if (st == RV_OK && b->spec.post_bn) st = rv_fuse_conv_bn(&w, &bias, &b->post, &w, &bias);
    if (st == RV_OK) rv_magnitude_range(&w, largest, smallest);
    rv_tensor_free(&w);
    rv_tensor_free(&bias);
    return st;
}
