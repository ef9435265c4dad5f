/* reparam.c - the algebra's checked entry points (each calls its step,
 * rv_steps.h) and the transforms beyond the notebook (rv_reparam.h). */
#include <string.h>

#include "rv_reparam.h"
#include "rv_steps.h"

/* "name: need ..." unless every tensor is a float tensor on the CPU. */
static rv_status on_host(const char *name, const rv_tensor *const *t, int n)
{
    for (int i = 0; i < n; i++)
        if (t[i] && (t[i]->device != RV_CPU || !t[i]->data))
            return rv_error(RV_EINVAL, "%s: weights are folded on the CPU (tensor %d is not there)",
                            name, i);
    return RV_OK;
}

static int is_bias_of(const rv_tensor *b, int64_t O) { return b->ndim == 1 && b->dim[0] == O; }

rv_status rv_sum_convs(const rv_tensor *w1, const rv_tensor *b1, const rv_tensor *w2,
                       const rv_tensor *b2, rv_tensor *w, rv_tensor *b)
{
    const rv_tensor *all[6] = {w1, b1, w2, b2, w, b};
    rv_status st = on_host("sum_convs", all, 6);
    if (st != RV_OK) return st;
    if (w1->ndim != 4 || !rv_tensor_same_shape(w1, w2) || !rv_tensor_same_shape(w1, w))
        return rv_error(RV_EINVAL, "sum_convs: the three weights must have one 4-D shape");
    if (!is_bias_of(b1, w->dim[0]) || !is_bias_of(b2, w->dim[0]) || !is_bias_of(b, w->dim[0]))
        return rv_error(RV_EINVAL, "sum_convs: each bias needs %lld elements",
                        (long long)w->dim[0]);
    return rv_step_sum_convs(w1, b1, w2, b2, w, b);
}

rv_status rv_fuse_conv_bn(const rv_tensor *w, const rv_tensor *b, const rv_bn *bn, rv_tensor *w_out,
                          rv_tensor *b_out)
{
    const rv_tensor *all[6] = {w, b, w_out, b_out, &bn->gamma, &bn->var};
    rv_status st = on_host("fuse_conv_bn", all, 6);
    if (st != RV_OK) return st;
    if (w->ndim != 4 || !rv_tensor_same_shape(w, w_out))
        return rv_error(RV_EINVAL, "fuse_conv_bn: weight and fused weight must have one 4-D shape");
    int64_t O = w->dim[0];
    if (bn->channels != O || !is_bias_of(b_out, O) || (b && !is_bias_of(b, O)))
        return rv_error(RV_EINVAL, "fuse_conv_bn: bn, bias and fused bias need %lld channels",
                        (long long)O);
    return rv_step_fuse_conv_bn(w, b, bn, w_out, b_out);
}

rv_status rv_pad_kernel(const rv_tensor *w, rv_tensor *y)
{
    char ws[64], ys[64];
    const rv_tensor *all[2] = {w, y};
    rv_status st = on_host("pad_kernel", all, 2);
    if (st != RV_OK) return st;
    if (w->ndim != 4 || y->ndim != 4 || y->dim[0] != w->dim[0] || y->dim[1] != w->dim[1] ||
        y->dim[2] < w->dim[2] || y->dim[3] < w->dim[3] || (y->dim[2] - w->dim[2]) % 2 ||
        (y->dim[3] - w->dim[3]) % 2)
        return rv_error(RV_EINVAL,
                        "pad_kernel: cannot centre kernel %s in %s: the output needs the "
                        "weight's (O, C) and a kernel larger by an even number each way",
                        rv_tensor_shape_str(w, ws, sizeof ws),
                        rv_tensor_shape_str(y, ys, sizeof ys));
    return rv_step_pad_kernel(w, y);
}

/* w (C, C/groups, KH, KW) with groups dividing C */
static rv_status check_channel_kernel(const char *name, int groups, const rv_tensor *w, int odd)
{
    const rv_tensor *all[1] = {w};
    rv_status st = on_host(name, all, 1);
    if (st != RV_OK) return st;
    if (w->ndim != 4 || groups < 1 || w->dim[0] % groups || w->dim[1] * groups != w->dim[0] ||
        (odd && (w->dim[2] % 2 == 0 || w->dim[3] % 2 == 0)))
        return rv_error(RV_EINVAL, "%s: need a tensor (C, C/groups, KH, KW)%s, groups %d", name,
                        odd ? " with KH and KW odd" : "", groups);
    return RV_OK;
}

rv_status rv_identity_kernel(int groups, rv_tensor *w)
{
    rv_status st = check_channel_kernel("identity_kernel", groups, w, 1);
    return st == RV_OK ? rv_step_identity_kernel(groups, w) : st;
}

rv_status rv_avgpool_kernel(int groups, rv_tensor *w)
{
    rv_status st = check_channel_kernel("avgpool_kernel", groups, w, 0);
    if (st != RV_OK) return st;
    int64_t C = w->dim[0], Cg = w->dim[1], taps = w->dim[2] * w->dim[3];
    rv_tensor_fill(w, 0.0f);
    for (int64_t o = 0; o < C; o++)
        for (int64_t k = 0; k < taps; k++)
            w->data[(o * Cg + o % Cg) * taps + k] = (float)(1.0 / (double)taps);
    return RV_OK;
}

rv_status rv_merge_1x1_kxk(const rv_tensor *w1, const rv_tensor *b1, const rv_tensor *w2,
                           const rv_tensor *b2, int groups, rv_tensor *w, rv_tensor *b)
{
    const rv_tensor *all[6] = {w1, b1, w2, b2, w, b};
    rv_status st = on_host("merge_1x1_kxk", all, 6);
    if (st != RV_OK) return st;
    if (w1->ndim != 4 || w2->ndim != 4 || w->ndim != 4 || groups < 1)
        return rv_error(RV_EINVAL, "merge_1x1_kxk: weights must be 4-D, groups >= 1");
    int64_t M = w1->dim[0], Ig = w1->dim[1], O = w2->dim[0], Mg = w2->dim[1];
    int64_t taps = w2->dim[2] * w2->dim[3];
    if (w1->dim[2] != 1 || w1->dim[3] != 1 || M % groups || O % groups || Mg * groups != M ||
        w->dim[0] != O || w->dim[1] != Ig || w->dim[2] != w2->dim[2] || w->dim[3] != w2->dim[3] ||
        !is_bias_of(b1, M) || !is_bias_of(b2, O) || !is_bias_of(b, O))
        return rv_error(RV_EINVAL,
                        "merge_1x1_kxk: need w1 (M, I/g, 1, 1), w2 (O, M/g, KH, KW), "
                        "w (O, I/g, KH, KW) and biases (M), (O), (O) with groups %d",
                        groups);
    int64_t Og = O / groups;
    for (int64_t o = 0; o < O; o++) {
        int64_t m0 = o / Og * Mg; /* the middle channels of o's group */
        double bias = b2->data[o];
        for (int64_t c = 0; c < Ig; c++)
            for (int64_t k = 0; k < taps; k++) {
                double acc = 0.0;
                for (int64_t m = 0; m < Mg; m++)
                    acc += (double)w2->data[(o * Mg + m) * taps + k] * w1->data[(m0 + m) * Ig + c];
                w->data[(o * Ig + c) * taps + k] = (float)acc;
            }
        /* the middle is b1 everywhere the 1x1 conv saw zeros, padding too */
        for (int64_t m = 0; m < Mg; m++)
            for (int64_t k = 0; k < taps; k++)
                bias += (double)w2->data[(o * Mg + m) * taps + k] * b1->data[m0 + m];
        b->data[o] = (float)bias;
    }
    return RV_OK;
}

rv_status rv_concat_kernels(const rv_tensor *const *ws, const rv_tensor *const *bs, int n,
                            rv_tensor *w, rv_tensor *b)
{
    int64_t O = 0;
    for (int i = 0; i < n; i++) {
        const rv_tensor *all[2] = {ws[i], bs[i]};
        rv_status st = on_host("concat_kernels", all, 2);
        if (st != RV_OK) return st;
        if (ws[i]->ndim != 4 || ws[i]->dim[1] != w->dim[1] || ws[i]->dim[2] != w->dim[2] ||
            ws[i]->dim[3] != w->dim[3] || !is_bias_of(bs[i], ws[i]->dim[0]))
            return rv_error(RV_EINVAL,
                            "concat_kernels: kernel %d does not match (O, I, KH, KW) "
                            "of the others or its bias",
                            i);
        O += ws[i]->dim[0];
    }
    if (n < 1 || w->ndim != 4 || w->device != RV_CPU || w->dim[0] != O || !is_bias_of(b, O) ||
        b->device != RV_CPU)
        return rv_error(RV_EINVAL, "concat_kernels: the output needs %lld channels", (long long)O);
    float *wd = w->data, *bd = b->data;
    for (int i = 0; i < n; i++) {
        memcpy(wd, ws[i]->data, rv_tensor_bytes(ws[i]));
        memcpy(bd, bs[i]->data, rv_tensor_bytes(bs[i]));
        wd += rv_tensor_numel(ws[i]);
        bd += ws[i]->dim[0];
    }
    return RV_OK;
}
