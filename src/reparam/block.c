/* block.c - the RepVGG block: random init, both forward passes, the switch. */
#include <math.h>
#include <string.h>

#include "rv_block.h"
#include "rv_reparam.h"
#include "rv_measure.h"
#include "rv_winograd.h"

int rv_block_wants_identity(int64_t in_ch, int64_t out_ch, int stride)
{
    return in_ch == out_ch && stride == 1;
}

/* u: the weight in the Winograd domain when planned (rv_block_plan), or NULL/empty */
static rv_conv_params conv3_params(const rv_block_spec *s, int relu, const rv_tensor *u)
{
    return (rv_conv_params){.stride = s->stride,
                            .pad_h = 1,
                            .pad_w = 1,
                            .groups = s->groups,
                            .relu = relu,
                            .winograd = u && u->data ? u : NULL};
}

static rv_conv_params conv1_params(const rv_block_spec *s)
{
    return (rv_conv_params){.stride = s->stride, .pad_h = 0, .pad_w = 0, .groups = s->groups};
}

static rv_status plan_winograd(const rv_tensor *w, const rv_block_spec *s, const int64_t in[4],
                               rv_tensor *u)
{
    if (!rv_winograd_enabled || w->device != RV_CPU || u->data ||
        !rv_winograd_applies(w, conv3_params(s, 0, u)))
        return RV_OK;
    return rv_winograd_weights(w, rv_winograd_tile(in[0], in[2], in[3]), u);
}

rv_status rv_block_plan(rv_block *b, const int64_t in[4])
{
    return plan_winograd(&b->w3, &b->spec, in, &b->u3);
}
void rv_block_unplan(rv_block *b) { rv_tensor_free(&b->u3); }
rv_status rv_fast_block_plan(rv_fast_block *f, const int64_t in[4])
{
    return plan_winograd(&f->w, &f->spec, in, &f->u);
}
void rv_fast_block_unplan(rv_fast_block *f) { rv_tensor_free(&f->u); }

/* A conv weight (O, I/g, k, k) filled on the host, then put on dev. */
static rv_status random_weight(rv_tensor *w, const rv_block_spec *s, int64_t k, rv_rng *r,
                               rv_device dev, const char *what)
{
    rv_tensor h;
    int64_t fan_in = s->in_ch / s->groups * k * k;
    float bound = (float)(1.0 / sqrt((double)fan_in));
    rv_status st = rv_tensor_alloc4(&h, RV_CPU, s->out_ch, s->in_ch / s->groups, k, k, what);
    if (st != RV_OK) return st;
    rv_tensor_fill_uniform(&h, r, -bound, bound);
    st = rv_tensor_clone(w, &h, dev, what);
    rv_tensor_free(&h);
    return st;
}

static rv_status random_bn(rv_bn *bn, int64_t channels, rv_rng *r, rv_device dev)
{
    rv_status st = rv_bn_alloc(bn, channels);
    if (st == RV_OK) st = rv_bn_randomize(bn, r);
    if (st == RV_OK) st = rv_bn_prepare(bn, dev);
    return st;
}

rv_status rv_block_init_random(rv_block *b, rv_block_spec spec, rv_rng *r, rv_device dev)
{
    memset(b, 0, sizeof *b);
    b->spec = spec;
    if (spec.groups < 1 || spec.in_ch % spec.groups || spec.out_ch % spec.groups)
        return rv_error(RV_EINVAL, "block: %lld -> %lld channels do not split into %d groups",
                        (long long)spec.in_ch, (long long)spec.out_ch, spec.groups);
    rv_status st = random_weight(&b->w3, &spec, 3, r, dev, "block 3x3 weight");
    if (st == RV_OK) st = random_bn(&b->bn3, spec.out_ch, r, dev);
    if (st == RV_OK) st = random_weight(&b->w1, &spec, 1, r, dev, "block 1x1 weight");
    if (st == RV_OK) st = random_bn(&b->bn1, spec.out_ch, r, dev);
    if (st == RV_OK && spec.has_identity) st = random_bn(&b->bnid, spec.out_ch, r, dev);
    if (st != RV_OK) rv_block_free(b);
    return st;
}

void rv_block_free(rv_block *b)
{
    rv_tensor_free(&b->w3);
    rv_tensor_free(&b->w1);
    rv_block_unplan(b);
    rv_bn_free(&b->bn3);
    rv_bn_free(&b->bn1);
    rv_bn_free(&b->bnid);
}

rv_status rv_block_out_shape(const rv_block_spec *spec, const rv_tensor *x, int64_t out[4])
{
    rv_tensor w = {.ndim = 4, .dim = {spec->out_ch, spec->in_ch / spec->groups, 3, 3}};
    return rv_conv2d_shape(x, &w, NULL, conv3_params(spec, 0, NULL), out);
}

rv_status rv_block_forward(const rv_block *b, const rv_tensor *x, rv_tensor *tmp, rv_tensor *y)
{
    const rv_block_spec *s = &b->spec;
    rv_status st = rv_conv2d(x, &b->w3, NULL, conv3_params(s, 0, &b->u3), y);
    if (st == RV_OK) st = rv_batchnorm(y, &b->bn3, y);
    if (st == RV_OK) st = rv_conv2d(x, &b->w1, NULL, conv1_params(s), tmp);
    if (st == RV_OK) st = rv_batchnorm(tmp, &b->bn1, tmp);
    if (st == RV_OK) st = rv_add(y, tmp, y);
    if (st == RV_OK && s->has_identity) {
        st = rv_batchnorm(x, &b->bnid, tmp);
        if (st == RV_OK) st = rv_add(y, tmp, y);
    }
    if (st == RV_OK) st = rv_relu(y, y);
    return st;
}

rv_status rv_block_calibrate_bn(rv_block *b, const rv_tensor *x, rv_tensor *tmp, rv_tensor *y,
                                rv_rng *r)
{
    const rv_block_spec *s = &b->spec;
    rv_status st = rv_conv2d(x, &b->w3, NULL, conv3_params(s, 0, &b->u3), tmp);
    if (st == RV_OK) st = rv_bn_calibrate(&b->bn3, tmp, r);
    if (st == RV_OK) st = rv_conv2d(x, &b->w1, NULL, conv1_params(s), tmp);
    if (st == RV_OK) st = rv_bn_calibrate(&b->bn1, tmp, r);
    if (st == RV_OK && s->has_identity) st = rv_bn_calibrate(&b->bnid, x, r);
    if (st == RV_OK) st = rv_block_forward(b, x, tmp, y);
    return st;
}

/* The fusion runs on host copies of the weights (rv_reparam.h works on the
 * CPU); the block's BN statistics are already on the host. */
static rv_status fuse_branches(const rv_block *b, rv_tensor *w, rv_tensor *bias)
{
    const rv_block_spec *s = &b->spec;
    int64_t O = s->out_ch, Ig = s->in_ch / s->groups;
    rv_tensor w3 = {0}, w1 = {0}, w1f = {0}, w1p = {0}, bb = {0}, id = {0};
    rv_status st = rv_tensor_clone(&w3, &b->w3, RV_CPU, "3x3 weight");
    if (st == RV_OK) st = rv_tensor_clone(&w1, &b->w1, RV_CPU, "1x1 weight");
    if (st == RV_OK) st = rv_tensor_alloc4(w, RV_CPU, O, Ig, 3, 3, "fused weight");
    if (st == RV_OK) st = rv_tensor_alloc1(bias, RV_CPU, O, "fused bias");
    if (st == RV_OK) st = rv_tensor_alloc4(&w1f, RV_CPU, O, Ig, 1, 1, "fused 1x1 weight");
    if (st == RV_OK) st = rv_tensor_alloc4(&w1p, RV_CPU, O, Ig, 3, 3, "padded 1x1 weight");
    if (st == RV_OK) st = rv_tensor_alloc1(&bb, RV_CPU, O, "branch bias");
    /* 3x3 conv + BN */
    if (st == RV_OK) st = rv_fuse_conv_bn(&w3, NULL, &b->bn3, w, bias);
    /* 1x1 conv + BN, padded to 3x3 */
    if (st == RV_OK) st = rv_fuse_conv_bn(&w1, NULL, &b->bn1, &w1f, &bb);
    if (st == RV_OK) st = rv_pad_kernel(&w1f, &w1p);
    if (st == RV_OK) st = rv_add(w, &w1p, w);
    if (st == RV_OK) st = rv_add(bias, &bb, bias);
    /* identity as a 3x3 conv + BN */
    if (st == RV_OK && s->has_identity) {
        st = rv_tensor_alloc4(&id, RV_CPU, O, Ig, 3, 3, "identity kernel");
        if (st == RV_OK) st = rv_identity_kernel(s->groups, &id);
        if (st == RV_OK) st = rv_fuse_conv_bn(&id, NULL, &b->bnid, &id, &bb);
        if (st == RV_OK) st = rv_add(w, &id, w);
        if (st == RV_OK) st = rv_add(bias, &bb, bias);
    }
    rv_tensor *tmp[6] = {&w3, &w1, &w1f, &w1p, &bb, &id};
    for (int i = 0; i < 6; i++) rv_tensor_free(tmp[i]);
    if (st != RV_OK) {
        rv_tensor_free(w);
        rv_tensor_free(bias);
    }
    return st;
}

rv_status rv_block_switch_to_fast(const rv_block *b, rv_fast_block *out)
{
    memset(out, 0, sizeof *out);
    out->spec = b->spec;
    out->spec.has_identity = 0; /* one branch now */
    rv_tensor w, bias;
    rv_status st = fuse_branches(b, &w, &bias);
    if (st != RV_OK) return st;
    rv_device dev = b->w3.device;
    if (dev == RV_CPU) {
        out->w = w;
        out->b = bias;
        return RV_OK;
    }
    st = rv_tensor_clone(&out->w, &w, dev, "fused weight");
    if (st == RV_OK) st = rv_tensor_clone(&out->b, &bias, dev, "fused bias");
    rv_tensor_free(&w);
    rv_tensor_free(&bias);
    if (st != RV_OK) rv_fast_block_free(out);
    return st;
}

rv_status rv_fast_block_forward(const rv_fast_block *f, const rv_tensor *x, rv_tensor *y)
{
    return rv_conv2d(x, &f->w, &f->b, conv3_params(&f->spec, 1, &f->u), y);
}

void rv_fast_block_free(rv_fast_block *f)
{
    rv_tensor_free(&f->w);
    rv_tensor_free(&f->b);
    rv_fast_block_unplan(f);
}

rv_status rv_block_pair_train(void *ctx)
{
    rv_block_pair *p = ctx;
    return rv_block_forward(&p->train, &p->x, &p->tmp, &p->y);
}

rv_status rv_block_pair_fast(void *ctx)
{
    rv_block_pair *p = ctx;
    return rv_fast_block_forward(&p->fast, &p->x, &p->yf);
}

rv_status rv_block_pair_build(rv_block_pair *p, rv_block_spec spec, rv_device dev, int n, int s,
                              uint64_t seed)
{
    *p = (rv_block_pair){0};
    rv_rng rng = rv_rng_seed(seed);
    rv_tensor hx = {0};
    int64_t out[4];
    rv_status st = rv_block_init_random(&p->train, spec, &rng, dev);
    if (st == RV_OK) st = rv_block_switch_to_fast(&p->train, &p->fast);
    const int64_t in[4] = {n, spec.in_ch, s, s};
    if (st == RV_OK) st = rv_block_plan(&p->train, in);
    if (st == RV_OK) st = rv_fast_block_plan(&p->fast, in);
    if (st == RV_OK) st = rv_tensor_alloc4(&hx, RV_CPU, n, spec.in_ch, s, s, "x");
    if (st == RV_OK) st = rv_tensor_fill_uniform(&hx, &rng, -1.0f, 1.0f);
    if (st == RV_OK) st = rv_tensor_clone(&p->x, &hx, dev, "x");
    rv_tensor_free(&hx);
    if (st == RV_OK) st = rv_block_out_shape(&spec, &p->x, out);
    rv_tensor *const o[3] = {&p->tmp, &p->y, &p->yf};
    if (st == RV_OK) st = rv_alloc_form_buffers(o, 3, 2, dev, out, p->held);
    if (st != RV_OK) rv_block_pair_free(p);
    return st;
}

void rv_block_pair_free(rv_block_pair *p)
{
    rv_block_free(&p->train);
    rv_fast_block_free(&p->fast);
    rv_tensor *t[4] = {&p->x, &p->tmp, &p->y, &p->yf};
    for (int i = 0; i < 4; i++) rv_tensor_free(t[i]);
}
