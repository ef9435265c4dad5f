/* block.c - a block as a list of branches: specs, parameters, the forward
 * pass, planning (rv_block.h). The fold is in fold.c. */
#include <math.h>
#include <string.h>

#include "rv_block.h"
#include "rv_steps.h"
#include "rv_winograd.h"

rv_status rv_block_wants_identity(int64_t in_ch, int64_t out_ch, int stride, int *yes)
{
    *yes = -1;
    rv_status st = rv_step_wants_identity(in_ch, out_ch, stride, yes);
    if (st == RV_OK && *yes != 0 && *yes != 1)
        st = rv_error(RV_EINVAL, "wants_identity: the answer must be 1 or 0, got %d", *yes);
    return st;
}

rv_block_spec rv_block_spec_list(int64_t in_ch, int64_t out_ch, int stride, int groups, int k,
                                 int n, const rv_branch_spec *branches)
{
    rv_block_spec s = {.in_ch = in_ch,
                       .out_ch = out_ch,
                       .stride = stride,
                       .groups = groups,
                       .kh = k,
                       .kw = k,
                       .pad_h = k / 2,
                       .pad_w = k / 2,
                       .n_branches = n};
    for (int i = 0; i < n && i < RV_MAX_BRANCHES; i++) s.branch[i] = branches[i];
    return s;
}

rv_status rv_repvgg_block_spec(int64_t in_ch, int64_t out_ch, int stride, int groups,
                               rv_block_spec *spec)
{
    const rv_branch_spec b[3] = {
        {.kind = RV_BRANCH_CONV, .kh = 3, .kw = 3, .pad_h = 1, .pad_w = 1, .bn = 1},
        {.kind = RV_BRANCH_CONV, .kh = 1, .kw = 1, .bn = 1},
        {.kind = RV_BRANCH_IDENTITY, .bn = 1},
    };
    int identity;
    rv_status st = rv_block_wants_identity(in_ch, out_ch, stride, &identity);
    if (st == RV_OK) *spec = rv_block_spec_list(in_ch, out_ch, stride, groups, 3, 2 + identity, b);
    return st;
}

rv_status rv_qarepvgg_block_spec(int64_t in_ch, int64_t out_ch, int stride, int groups,
                                 rv_block_spec *spec)
{
    rv_status st = rv_repvgg_block_spec(in_ch, out_ch, stride, groups, spec);
    if (st != RV_OK) return st;
    for (int i = 1; i < spec->n_branches; i++) spec->branch[i].bn = 0;
    spec->post_bn = 1;
    return RV_OK;
}

rv_block_spec rv_acnet_block_spec(int64_t in_ch, int64_t out_ch, int stride, int groups)
{
    const rv_branch_spec b[3] = {
        {.kind = RV_BRANCH_CONV, .kh = 3, .kw = 3, .pad_h = 1, .pad_w = 1, .bn = 1},
        {.kind = RV_BRANCH_CONV, .kh = 1, .kw = 3, .pad_h = 0, .pad_w = 1, .bn = 1},
        {.kind = RV_BRANCH_CONV, .kh = 3, .kw = 1, .pad_h = 1, .pad_w = 0, .bn = 1},
    };
    return rv_block_spec_list(in_ch, out_ch, stride, groups, 3, 3, b);
}

rv_block_spec rv_dbb_block_spec(int64_t in_ch, int64_t out_ch, int stride, int groups)
{
    /* depthwise (one channel per group), a 1x1 conv is one weight per channel,
     * a scale the BN after it already applies: DBB leaves that branch out,
     * pools x itself, and doubles the 1x1-then-3x3's middle channels */
    int depthwise = groups >= out_ch;
    const rv_branch_spec conv3 = {
        .kind = RV_BRANCH_CONV, .kh = 3, .kw = 3, .pad_h = 1, .pad_w = 1, .bn = 1};
    const rv_branch_spec conv1 = {.kind = RV_BRANCH_CONV, .kh = 1, .kw = 1, .bn = 1};
    const rv_branch_spec avg = {.kind = depthwise ? RV_BRANCH_AVGPOOL : RV_BRANCH_1X1_AVG,
                                .kh = 3,
                                .kw = 3,
                                .pad_h = 1,
                                .pad_w = 1,
                                .bn = 1};
    const rv_branch_spec one_three = {.kind = RV_BRANCH_1X1_KXK,
                                      .kh = 3,
                                      .kw = 3,
                                      .pad_h = 1,
                                      .pad_w = 1,
                                      .bn = 1,
                                      .mid_ch = depthwise ? 2 * in_ch : in_ch};
    const rv_branch_spec all[4] = {conv3, conv1, avg, one_three};
    const rv_branch_spec dw[3] = {conv3, avg, one_three};
    return rv_block_spec_list(in_ch, out_ch, stride, groups, 3, depthwise ? 3 : 4,
                              depthwise ? dw : all);
}

rv_block_spec rv_fused_block_spec(const rv_block_spec *s)
{
    rv_block_spec f = *s;
    f.post_bn = 0;
    f.n_branches = 1;
    memset(f.branch, 0, sizeof f.branch);
    f.branch[0] = (rv_branch_spec){.kind = RV_BRANCH_CONV,
                                   .kh = s->kh,
                                   .kw = s->kw,
                                   .pad_h = s->pad_h,
                                   .pad_w = s->pad_w,
                                   .bias = 1};
    return f;
}

int rv_block_is_fused(const rv_block_spec *s)
{
    const rv_branch_spec *b = &s->branch[0];
    return s->n_branches == 1 && !s->post_bn && b->kind == RV_BRANCH_CONV && b->bias && !b->bn &&
           b->kh == s->kh && b->kw == s->kw;
}

int rv_block_find_branch(const rv_block_spec *s, rv_branch_kind kind)
{
    for (int i = 0; i < s->n_branches; i++)
        if (s->branch[i].kind == kind) return i;
    return -1;
}

/* Channels between a 1X1_KXK branch's convs, or a 1X1_AVG's conv and pool. */
static int64_t mid_channels(const rv_block_spec *s, const rv_branch_spec *b)
{
    return b->mid_ch ? b->mid_ch : s->out_ch;
}

/* A branch that starts with a 1x1 conv and its BN: 1X1_KXK or 1X1_AVG. */
static int has_middle(const rv_branch_spec *b)
{
    return b->kind == RV_BRANCH_1X1_KXK || b->kind == RV_BRANCH_1X1_AVG;
}

/* A kernel kh x kw with padding ph x pw lines up with the block's KH x KW
 * with padding PH x PW when it sits at the centre: every output pixel then
 * reads the same input window, so both give the same output size and the
 * fold can centre the kernel (rv_pad_kernel). */
static int lines_up(const rv_block_spec *s, int kh, int kw, int ph, int pw)
{
    return kh >= 1 && kw >= 1 && kh <= s->kh && kw <= s->kw && (s->kh - kh) % 2 == 0 &&
           (s->kw - kw) % 2 == 0 && s->pad_h - ph == (s->kh - kh) / 2 &&
           s->pad_w - pw == (s->kw - kw) / 2;
}

rv_status rv_block_check(const rv_block_spec *s)
{
    if (s->in_ch < 1 || s->out_ch < 1 || s->stride < 1 || s->groups < 1 || s->kh < 1 || s->kw < 1 ||
        s->pad_h < 0 || s->pad_w < 0)
        return rv_error(RV_EINVAL, "block: need channels, stride, groups and kernel >= 1, "
                                   "padding >= 0");
    if (s->in_ch % s->groups || s->out_ch % s->groups)
        return rv_error(RV_EINVAL, "block: %lld -> %lld channels do not split into %d groups",
                        (long long)s->in_ch, (long long)s->out_ch, s->groups);
    if (s->n_branches < 1 || s->n_branches > RV_MAX_BRANCHES)
        return rv_error(RV_EINVAL, "block: %d branches, expected 1 to %d", s->n_branches,
                        RV_MAX_BRANCHES);
    for (int i = 0; i < s->n_branches; i++) {
        const rv_branch_spec *b = &s->branch[i];
        int same_ch = s->in_ch == s->out_ch;
        switch (b->kind) {
        case RV_BRANCH_IDENTITY:
            /* x itself: it keeps x's channels, height and width */
            if (!same_ch)
                return rv_error(RV_EINVAL,
                                "block branch %d: an identity branch is x itself, with x's %lld "
                                "channels, but the block gives %lld: it needs in == out",
                                i, (long long)s->in_ch, (long long)s->out_ch);
            if (s->stride != 1)
                return rv_error(RV_EINVAL,
                                "block branch %d: an identity branch is x itself, with x's height "
                                "and width, but the block's stride %d shrinks them: it needs "
                                "stride 1",
                                i, s->stride);
            if (s->kh % 2 == 0 || s->kw % 2 == 0 || 2 * s->pad_h != s->kh - 1 ||
                2 * s->pad_w != s->kw - 1)
                return rv_error(RV_EINVAL,
                                "block branch %d: an identity branch is x itself, with x's height "
                                "and width, but the block's %dx%d kernel with padding %dx%d "
                                "changes them",
                                i, s->kh, s->kw, s->pad_h, s->pad_w);
            break;
        case RV_BRANCH_AVGPOOL:
        case RV_BRANCH_CONV:
        case RV_BRANCH_1X1_KXK:
        case RV_BRANCH_1X1_AVG:
            if (b->kind == RV_BRANCH_AVGPOOL && !same_ch)
                return rv_error(RV_EINVAL,
                                "block branch %d: an average pool keeps the channels: "
                                "in == out needed",
                                i);
            if (b->kh > s->kh || b->kw > s->kw)
                return rv_error(RV_EINVAL,
                                "block branch %d: a %dx%d kernel does not fit in the block's "
                                "%dx%d",
                                i, b->kh, b->kw, s->kh, s->kw);
            if (!lines_up(s, b->kh, b->kw, b->pad_h, b->pad_w))
                return rv_error(RV_EINVAL,
                                "block branch %d: a %dx%d kernel with padding %dx%d does not "
                                "line up with the block's %dx%d kernel and padding %dx%d "
                                "(centred, it needs padding %dx%d)",
                                i, b->kh, b->kw, b->pad_h, b->pad_w, s->kh, s->kw, s->pad_h,
                                s->pad_w, s->pad_h - (s->kh - b->kh) / 2,
                                s->pad_w - (s->kw - b->kw) / 2);
            if (b->kind == RV_BRANCH_1X1_AVG && mid_channels(s, b) != s->out_ch)
                return rv_error(RV_EINVAL,
                                "block branch %d: an average pool keeps the channels: %lld "
                                "middle channels cannot give %lld",
                                i, (long long)mid_channels(s, b), (long long)s->out_ch);
            if (has_middle(b) && mid_channels(s, b) % s->groups)
                return rv_error(RV_EINVAL,
                                "block branch %d: %lld middle channels do not split "
                                "into %d groups",
                                i, (long long)mid_channels(s, b), s->groups);
            break;
        default:
            return rv_error(RV_EINVAL, "block branch %d: no such kind of branch (%d)", i,
                            (int)b->kind);
        }
        if (b->bias && b->kind != RV_BRANCH_CONV)
            return rv_error(RV_EINVAL, "block branch %d: only a conv branch has its own bias", i);
    }
    return RV_OK;
}

rv_conv_params rv_block_conv_params(const rv_block_spec *s)
{
    return (rv_conv_params){
        .stride = s->stride, .pad_h = s->pad_h, .pad_w = s->pad_w, .groups = s->groups};
}

/* The conv (or pool) of branch b: its padding, the block's stride and
 * groups, and its planned weights (Winograd-domain or packed) when br is
 * given. A 1X1_KXK's kxk conv and a 1X1_AVG's pool read a middle already
 * padded with the BN's shift unless zero_border. */
static rv_conv_params branch_params(const rv_block_spec *s, const rv_branch_spec *b,
                                    const rv_branch *br)
{
    int prepadded = has_middle(b) && !b->zero_border;
    return (rv_conv_params){.stride = s->stride,
                            .pad_h = prepadded ? 0 : b->pad_h,
                            .pad_w = prepadded ? 0 : b->pad_w,
                            .groups = s->groups,
                            .winograd = br && br->u.data ? &br->u : NULL,
                            .packed = br && br->packed.data ? &br->packed : NULL};
}

/* ---- parameters ---------------------------------------------------------- */

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
        if (st == RV_OK && has_middle(bs)) {
            int64_t M = mid_channels(&spec, bs);
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
    rv_block_unplan(b);
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

double rv_block_macs(const rv_block_spec *s, int64_t n, int64_t h, int64_t w)
{
    int64_t P = (h + 2 * s->pad_h - s->kh) / s->stride + 1;
    int64_t Q = (w + 2 * s->pad_w - s->kw) / s->stride + 1;
    double out = (double)n * s->out_ch * P * Q, Ig = (double)(s->in_ch / s->groups), macs = 0;
    for (int i = 0; i < s->n_branches; i++) {
        const rv_branch_spec *b = &s->branch[i];
        if (b->kind == RV_BRANCH_CONV) macs += out * Ig * b->kh * b->kw;
        if (has_middle(b)) /* the 1x1 conv; a pool adds, it does not multiply */
            macs += (double)n * (double)mid_channels(s, b) * h * w * Ig;
        if (b->kind == RV_BRANCH_1X1_KXK)
            macs += out * (double)(mid_channels(s, b) / s->groups) * b->kh * b->kw;
    }
    return macs;
}

rv_status rv_block_out_shape(const rv_block_spec *spec, const rv_tensor *x, int64_t out[4])
{
    rv_tensor w = {.ndim = 4,
                   .dim = {spec->out_ch, spec->in_ch / spec->groups, spec->kh, spec->kw}};
    return rv_conv2d_shape(x, &w, NULL, rv_block_conv_params(spec), out);
}

/* ---- planning ---------------------------------------------------------- */

/* Floats of a 1X1_KXK or 1X1_AVG branch's middle, then its padded copy, for
 * input in */
static int64_t middle_floats(const rv_block_spec *s, const rv_branch_spec *b, const int64_t in[4],
                             int64_t *mid)
{
    int64_t M = mid_channels(s, b);
    *mid = in[0] * M * in[2] * in[3];
    return *mid + in[0] * M * (in[2] + 2 * b->pad_h) * (in[3] + 2 * b->pad_w);
}

rv_status rv_block_plan(rv_block *b, const int64_t in[4])
{
    rv_status st = RV_OK;
    int64_t need = 0, mid;
    for (int i = 0; i < b->spec.n_branches && st == RV_OK; i++) {
        const rv_branch_spec *bs = &b->spec.branch[i];
        rv_branch *br = &b->branch[i];
        if (has_middle(bs)) {
            int64_t f = middle_floats(&b->spec, bs, in, &mid);
            need = f > need ? f : need;
        }
        rv_conv_params p = branch_params(&b->spec, bs, NULL);
        if (!br->w.data || br->w.device != RV_CPU || br->u.data || br->packed.data) continue;
        if (rv_winograd_enabled && rv_winograd_applies(&br->w, p))
            st = rv_winograd_weights(&br->w, rv_winograd_tile(in[0], in[2], in[3]), &br->u);
        else
            st = rv_conv2d_pack(&br->w, p, &br->packed);
    }
    if (st == RV_OK && need > rv_tensor_numel(&b->scratch)) {
        rv_tensor_free(&b->scratch);
        st = rv_tensor_alloc1(&b->scratch, b->device, need, "branch middle");
    }
    if (st != RV_OK) rv_block_unplan(b);
    return st;
}

void rv_block_unplan(rv_block *b)
{
    for (int i = 0; i < RV_MAX_BRANCHES; i++) {
        rv_tensor_free(&b->branch[i].u);
        rv_tensor_free(&b->branch[i].packed);
    }
    rv_tensor_free(&b->scratch);
}

size_t rv_block_planned_bytes(const rv_block *b)
{
    size_t n = rv_tensor_bytes(&b->scratch);
    for (int i = 0; i < b->spec.n_branches; i++)
        n += rv_tensor_bytes(&b->branch[i].u) + rv_tensor_bytes(&b->branch[i].packed);
    return n;
}

/* ---- the forward pass ---------------------------------------------------- */

/* A tensor of shape (n, c, h, w) over memory at p (no ownership). */
static rv_tensor view4(float *p, rv_device dev, int64_t n, int64_t c, int64_t h, int64_t w)
{
    return (rv_tensor){.data = p, .ndim = 4, .dim = {n, c, h, w}, .device = dev};
}

/* y = bn(y), first calibrating the BN on y when r is given */
static rv_status apply_bn(rv_bn *bn, rv_tensor *y, rv_rng *r)
{
    rv_status st = r ? rv_bn_calibrate(bn, y, r) : RV_OK;
    return st == RV_OK ? rv_batchnorm(y, bn, y) : st;
}

/* The 1x1 conv, its BN, the middle padded (with the BN's shift unless
 * zero_border), the kxk conv (or average pool) into out */
static rv_status one_then_k(rv_block *b, int i, const rv_tensor *x, rv_tensor *out, rv_rng *r)
{
    const rv_block_spec *s = &b->spec;
    const rv_branch_spec *bs = &s->branch[i];
    rv_branch *br = &b->branch[i];
    int64_t in[4] = {x->dim[0], x->dim[1], x->dim[2], x->dim[3]}, nmid;
    if (middle_floats(s, bs, in, &nmid) > rv_tensor_numel(&b->scratch))
        return rv_error(RV_EINVAL,
                        "block branch %d: plan the block for this input first "
                        "(rv_block_plan)",
                        i);
    int64_t M = mid_channels(s, bs);
    rv_tensor mid = view4(b->scratch.data, b->device, in[0], M, in[2], in[3]);
    rv_tensor padded = view4(b->scratch.data + nmid, b->device, in[0], M, in[2] + 2 * bs->pad_h,
                             in[3] + 2 * bs->pad_w);
    rv_conv_params p1 = {.stride = 1, .groups = s->groups};
    rv_status st = rv_conv2d(x, &br->w1, NULL, p1, &mid);
    if (st == RV_OK) st = apply_bn(&br->bn1, &mid, r);
    if (st == RV_OK && !bs->zero_border)
        st = rv_pad_border(&mid, bs->pad_h, bs->pad_w, &br->bn1.shift, &padded);
    const rv_tensor *in_k = bs->zero_border ? &mid : &padded;
    if (st == RV_OK && bs->kind == RV_BRANCH_1X1_AVG)
        return rv_avgpool2d(in_k, bs->kh, bs->kw, branch_params(s, bs, NULL), out);
    return st == RV_OK ? rv_conv2d(in_k, &br->w, NULL, branch_params(s, bs, br), out) : st;
}

/* out = branch i of x, its BN included */
static rv_status branch_forward(rv_block *b, int i, const rv_tensor *x, rv_tensor *out, rv_rng *r)
{
    const rv_block_spec *s = &b->spec;
    const rv_branch_spec *bs = &s->branch[i];
    rv_branch *br = &b->branch[i];
    rv_status st;
    switch (bs->kind) {
    case RV_BRANCH_CONV:
        st = rv_conv2d(x, &br->w, br->b.data ? &br->b : NULL, branch_params(s, bs, br), out);
        break;
    case RV_BRANCH_IDENTITY:
        st = rv_tensor_copy(out, x);
        break;
    case RV_BRANCH_AVGPOOL:
        st = rv_avgpool2d(x, bs->kh, bs->kw, branch_params(s, bs, NULL), out);
        break;
    default:
        st = one_then_k(b, i, x, out, r);
        break;
    }
    return st == RV_OK && bs->bn ? apply_bn(&br->bn, out, r) : st;
}

/* The block on x, calibrating every BN on the way when r is given. */
static rv_status run(rv_block *b, const rv_tensor *x, rv_tensor *tmp, rv_tensor *y, rv_rng *r)
{
    const rv_block_spec *s = &b->spec;
    if (x->ndim != 4 || x->dim[1] != s->in_ch)
        return rv_error(RV_EINVAL, "block: input needs %lld channels (N, C, H, W)",
                        (long long)s->in_ch);
    if (rv_block_is_fused(s)) { /* the deploy-time block: bias and ReLU in the conv's epilogue */
        rv_conv_params p = branch_params(s, &s->branch[0], &b->branch[0]);
        p.relu = !s->no_relu;
        return rv_conv2d(x, &b->branch[0].w, &b->branch[0].b, p, y);
    }
    rv_status st = RV_OK;
    for (int i = 0; i < s->n_branches && st == RV_OK; i++) {
        if (i > 0 && s->branch[i].kind == RV_BRANCH_IDENTITY && !s->branch[i].bn) {
            st = rv_add(y, x, y); /* x itself: nothing to compute */
            continue;
        }
        if (i > 0 && !tmp) return rv_error(RV_EINVAL, "block: a multi-branch block needs tmp");
        st = branch_forward(b, i, x, i == 0 ? y : tmp, r);
        if (st == RV_OK && i > 0) st = rv_add(y, tmp, y);
    }
    if (st == RV_OK && s->post_bn) st = apply_bn(&b->post, y, r);
    if (st == RV_OK && !s->no_relu) st = rv_relu(y, y);
    return st;
}

rv_status rv_block_forward(const rv_block *b, const rv_tensor *x, rv_tensor *tmp, rv_tensor *y)
{
    return run((rv_block *)b, x, tmp, y, NULL); /* without r, run changes nothing in b */
}

rv_status rv_block_calibrate_bn(rv_block *b, const rv_tensor *x, rv_tensor *tmp, rv_tensor *y,
                                rv_rng *r)
{
    return run(b, x, tmp, y, r);
}
