/* batchnorm_train.c - batch norm in training mode on the CPU: the batch
 * statistics, the running-statistics update, and the backward (formulas in
 * rv_grad.h).
 *
 * Sums are in double and the variance takes two passes (the mean first,
 * then the squares of x - mean): one pass, E[x^2] - mean^2, cancels
 * catastrophically when a channel's mean is large against its spread.
 * The eps is the layer's own (bn->eps, RV_BN_EPS by default), the one the
 * inference-mode fold uses (rv_bn_coeffs), so that the two cannot differ.
 */
#include <math.h>

#include "rv_grad.h"

/* x (N, C, H, W) and bn agree; t[0..nx) are NULL or shaped like x, t[nx..nt) NULL or (C). */
static rv_status check(const rv_tensor *x, const rv_bn *bn, const rv_tensor *const *t, int nx,
                       int nt)
{
    if (x->ndim != 4 || x->dim[1] != bn->channels || x->device != RV_CPU)
        return rv_error(RV_EINVAL, "batchnorm (training): need x (N, %lld, H, W) on the CPU",
                        (long long)bn->channels);
    if (x->dim[0] * x->dim[2] * x->dim[3] < 2)
        return rv_error(RV_EINVAL,
                        "batchnorm (training): one value a channel: no variance to estimate "
                        "(need N H W >= 2)");
    for (int i = 0; i < nt; i++) {
        if (!t[i]) continue;
        int ok = i < nx ? rv_tensor_same_shape(t[i], x)
                        : t[i]->ndim == 1 && t[i]->dim[0] == bn->channels;
        if (!ok || t[i]->device != RV_CPU)
            return rv_error(RV_EINVAL,
                            "batchnorm (training): tensors must be shaped like x or (C), on "
                            "the CPU");
    }
    return RV_OK;
}

rv_status rv_bn_train_forward(const rv_tensor *x, rv_bn *bn, double momentum, rv_tensor *y,
                              rv_tensor *saved_mean, rv_tensor *saved_invstd)
{
    const rv_tensor *t[3] = {y, saved_mean, saved_invstd};
    rv_status st = check(x, bn, t, 1, 3);
    if (st != RV_OK) return st;
    if (!y || !saved_mean || !saved_invstd)
        return rv_error(RV_EINVAL, "batchnorm (training): y and the saved statistics are needed");
    int64_t N = x->dim[0], C = x->dim[1], HW = x->dim[2] * x->dim[3], m = N * HW;
    for (int64_t c = 0; c < C; c++) {
        double s = 0.0, s2 = 0.0;
        for (int64_t n = 0; n < N; n++)
            for (int64_t i = 0; i < HW; i++) s += x->data[(n * C + c) * HW + i];
        double mean = s / (double)m;
        for (int64_t n = 0; n < N; n++)
            for (int64_t i = 0; i < HW; i++) {
                double d = x->data[(n * C + c) * HW + i] - mean;
                s2 += d * d;
            }
        double var = s2 / (double)m, invstd = 1.0 / sqrt(var + bn->eps);
        double scale = bn->gamma.data[c] * invstd, shift = bn->beta.data[c] - mean * scale;
        for (int64_t n = 0; n < N; n++)
            for (int64_t i = 0; i < HW; i++) {
                int64_t k = (n * C + c) * HW + i;
                y->data[k] = (float)(x->data[k] * scale + shift);
            }
        saved_mean->data[c] = (float)mean;
        saved_invstd->data[c] = (float)invstd;
        bn->mean.data[c] = (float)((1.0 - momentum) * bn->mean.data[c] + momentum * mean);
        bn->var.data[c] = (float)((1.0 - momentum) * bn->var.data[c] +
                                  momentum * var * (double)m / (double)(m - 1));
    }
    return RV_OK;
}

rv_status rv_bn_train_backward(const rv_tensor *x, const rv_tensor *dy, const rv_bn *bn,
                               const rv_tensor *saved_mean, const rv_tensor *saved_invstd,
                               rv_tensor *dx, rv_tensor *dgamma, rv_tensor *dbeta)
{
    const rv_tensor *t[6] = {dy, dx, saved_mean, saved_invstd, dgamma, dbeta};
    rv_status st = check(x, bn, t, 2, 6);
    if (st == RV_OK && (!dy || !saved_mean || !saved_invstd))
        return rv_error(RV_EINVAL, "batchnorm (training) backward: dy and the saved statistics "
                                   "are needed");
    if (st != RV_OK) return st;
    int64_t N = x->dim[0], C = x->dim[1], HW = x->dim[2] * x->dim[3], m = N * HW;
    for (int64_t c = 0; c < C; c++) {
        double mean = saved_mean->data[c], invstd = saved_invstd->data[c];
        double sdy = 0.0, sdyxh = 0.0;
        for (int64_t n = 0; n < N; n++)
            for (int64_t i = 0; i < HW; i++) {
                int64_t k = (n * C + c) * HW + i;
                sdy += dy->data[k];
                sdyxh += dy->data[k] * ((x->data[k] - mean) * invstd);
            }
        if (dbeta) dbeta->data[c] = (float)sdy;
        if (dgamma) dgamma->data[c] = (float)sdyxh;
        if (!dx) continue;
        double k0 = bn->gamma.data[c] * invstd / (double)m;
        for (int64_t n = 0; n < N; n++)
            for (int64_t i = 0; i < HW; i++) {
                int64_t k = (n * C + c) * HW + i;
                double xh = (x->data[k] - mean) * invstd;
                dx->data[k] = (float)(k0 * ((double)m * dy->data[k] - sdy - xh * sdyxh));
            }
    }
    return RV_OK;
}
