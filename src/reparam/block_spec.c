/* block_spec.c - a block's spec: the families' branch lists (RepVGG,
 * QARepVGG, the plain VGG block, ACNet, DBB, the deploy-time block), the
 * check that every branch lines up with the folded conv, and the geometry a
 * spec alone gives (output shape, multiply-adds, each branch's conv
 * parameters). rv_block.h. */
#include <string.h>

#include "rv_block.h"
#include "rv_steps.h"

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

rv_block_spec rv_vgg_block_spec(int64_t in_ch, int64_t out_ch, int stride, int groups)
{
    const rv_branch_spec conv3 = {
        .kind = RV_BRANCH_CONV, .kh = 3, .kw = 3, .pad_h = 1, .pad_w = 1, .bn = 1};
    return rv_block_spec_list(in_ch, out_ch, stride, groups, 3, 1, &conv3);
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

int64_t rv_branch_mid_channels(const rv_block_spec *s, const rv_branch_spec *b)
{
    return b->mid_ch ? b->mid_ch : s->out_ch;
}

int rv_branch_has_middle(const rv_branch_spec *b)
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
            if (b->kind == RV_BRANCH_1X1_AVG && rv_branch_mid_channels(s, b) != s->out_ch)
                return rv_error(RV_EINVAL,
                                "block branch %d: an average pool keeps the channels: %lld "
                                "middle channels cannot give %lld",
                                i, (long long)rv_branch_mid_channels(s, b), (long long)s->out_ch);
            if (rv_branch_has_middle(b) && rv_branch_mid_channels(s, b) % s->groups)
                return rv_error(RV_EINVAL,
                                "block branch %d: %lld middle channels do not split "
                                "into %d groups",
                                i, (long long)rv_branch_mid_channels(s, b), s->groups);
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

rv_conv_params rv_branch_1x1_params(const rv_block_spec *s)
{
    return (rv_conv_params){.stride = 1, .groups = s->groups};
}

rv_conv_params rv_branch_conv_params(const rv_block_spec *s, const rv_branch_spec *b)
{
    int prepadded = rv_branch_has_middle(b) && !b->zero_border;
    return (rv_conv_params){.stride = s->stride,
                            .pad_h = prepadded ? 0 : b->pad_h,
                            .pad_w = prepadded ? 0 : b->pad_w,
                            .groups = s->groups};
}

rv_pool_params rv_branch_pool_params(const rv_block_spec *s, const rv_branch_spec *b)
{
    rv_conv_params c = rv_branch_conv_params(s, b);
    return (rv_pool_params){
        .kh = b->kh, .kw = b->kw, .stride = c.stride, .pad_h = c.pad_h, .pad_w = c.pad_w};
}

double rv_block_macs(const rv_block_spec *s, int64_t n, int64_t h, int64_t w)
{
    int64_t P = (h + 2 * s->pad_h - s->kh) / s->stride + 1;
    int64_t Q = (w + 2 * s->pad_w - s->kw) / s->stride + 1;
    double out = (double)n * s->out_ch * P * Q, Ig = (double)(s->in_ch / s->groups), macs = 0;
    for (int i = 0; i < s->n_branches; i++) {
        const rv_branch_spec *b = &s->branch[i];
        if (b->kind == RV_BRANCH_CONV) macs += out * Ig * b->kh * b->kw;
        if (rv_branch_has_middle(b)) /* the 1x1 conv; a pool adds, it does not multiply */
            macs += (double)n * (double)rv_branch_mid_channels(s, b) * h * w * Ig;
        if (b->kind == RV_BRANCH_1X1_KXK)
            macs += out * (double)(rv_branch_mid_channels(s, b) / s->groups) * b->kh * b->kw;
    }
    return macs;
}

rv_status rv_block_out_shape(const rv_block_spec *spec, const rv_tensor *x, int64_t out[4])
{
    rv_tensor w = {.ndim = 4,
                   .dim = {spec->out_ch, spec->in_ch / spec->groups, spec->kh, spec->kw}};
    return rv_conv2d_shape(x, &w, NULL, rv_block_conv_params(spec), out);
}
