/* reparam.c - conv+BN fusion and the identity kernel (see rv_reparam.h). */
#include "rv_reparam.h"

rv_status rv_fuse_conv_bn(const rv_tensor *w, const rv_tensor *b, const rv_bn *bn, rv_tensor *w_out,
                          rv_tensor *b_out)
{
    if (w->ndim != 4 || !rv_tensor_same_shape(w, w_out))
        return rv_error(RV_EINVAL, "fuse_conv_bn: weight and fused weight must have one 4-D shape");
    int64_t O = w->dim[0];
    if (bn->channels != O || b_out->ndim != 1 || b_out->dim[0] != O || (b && b->dim[0] != O))
        return rv_error(RV_EINVAL, "fuse_conv_bn: bn, bias and fused bias need %lld channels",
                        (long long)O);
    if (w->device != RV_CPU || w_out->device != RV_CPU || b_out->device != RV_CPU ||
        (b && b->device != RV_CPU))
        return rv_error(RV_EINVAL, "fuse_conv_bn: weights are fused on the CPU");
    int64_t per_out = rv_tensor_numel(w) / O;
    for (int64_t o = 0; o < O; o++) {
        double s, t;
        rv_bn_coeffs(bn, o, &s, &t);
        for (int64_t k = 0; k < per_out; k++)
            w_out->data[o * per_out + k] = (float)((double)w->data[o * per_out + k] * s);
        b_out->data[o] = (float)(t + (b ? s * b->data[o] : 0.0));
    }
    return RV_OK;
}

rv_status rv_identity_kernel(int groups, rv_tensor *w)
{
    if (w->ndim != 4 || w->device != RV_CPU || groups < 1 || w->dim[0] % groups ||
        w->dim[1] * groups != w->dim[0] || w->dim[2] != w->dim[3] || w->dim[2] % 2 == 0)
        return rv_error(RV_EINVAL, "identity_kernel: need a CPU tensor (C, C/groups, K, K), K odd");
    int64_t C = w->dim[0], Cg = w->dim[1], K = w->dim[2];
    rv_tensor_fill(w, 0.0f);
    for (int64_t i = 0; i < C; i++) w->data[((i * Cg + i % Cg) * K + K / 2) * K + K / 2] = 1.0f;
    return RV_OK;
}
