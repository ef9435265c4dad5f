/* batchnorm.c - batch norm in inference mode: parameters, the fold, the CPU op. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rv_dispatch.h"
#include "rv_elem.h"
#include "rv_ops.h"

rv_status rv_bn_alloc(rv_bn *bn, int64_t channels)
{
    memset(bn, 0, sizeof *bn);
    bn->eps = RV_BN_EPS;
    bn->channels = channels;
    rv_tensor *p[4] = {&bn->gamma, &bn->beta, &bn->mean, &bn->var};
    const char *names[4] = {"bn.gamma", "bn.beta", "bn.running_mean", "bn.running_var"};
    const float init[4] = {1.0f, 0.0f, 0.0f, 1.0f};
    for (int i = 0; i < 4; i++) {
        rv_status st = rv_tensor_alloc1(p[i], RV_CPU, channels, names[i]);
        if (st != RV_OK) {
            rv_bn_free(bn);
            return st;
        }
        rv_tensor_fill(p[i], init[i]);
    }
    return RV_OK;
}

rv_status rv_bn_randomize(rv_bn *bn, rv_rng *r)
{
    rv_tensor_fill_uniform(&bn->gamma, r, 0.5f, 1.5f);
    rv_tensor_fill_uniform(&bn->beta, r, -0.5f, 0.5f);
    rv_tensor_fill_uniform(&bn->mean, r, -0.5f, 0.5f);
    return rv_tensor_fill_uniform(&bn->var, r, 0.01f, 1.0f);
}

void rv_bn_coeffs(const rv_bn *bn, int64_t c, double *scale, double *shift)
{
    double s = (double)bn->gamma.data[c] / sqrt((double)bn->var.data[c] + bn->eps);
    *scale = s;
    *shift = (double)bn->beta.data[c] - (double)bn->mean.data[c] * s;
}

rv_status rv_bn_prepare(rv_bn *bn, rv_device dev)
{
    rv_tensor scale, shift;
    rv_status st = rv_tensor_alloc1(&scale, RV_CPU, bn->channels, "bn.scale");
    if (st != RV_OK) return st;
    st = rv_tensor_alloc1(&shift, RV_CPU, bn->channels, "bn.shift");
    if (st != RV_OK) {
        rv_tensor_free(&scale);
        return st;
    }
    for (int64_t c = 0; c < bn->channels; c++) {
        double s, t;
        rv_bn_coeffs(bn, c, &s, &t);
        scale.data[c] = (float)s;
        shift.data[c] = (float)t;
    }
    rv_tensor_free(&bn->scale);
    rv_tensor_free(&bn->shift);
    if (dev == RV_CPU) {
        bn->scale = scale;
        bn->shift = shift;
        return RV_OK;
    }
    st = rv_tensor_clone(&bn->scale, &scale, dev, "bn.scale");
    if (st == RV_OK) st = rv_tensor_clone(&bn->shift, &shift, dev, "bn.shift");
    rv_tensor_free(&scale);
    rv_tensor_free(&shift);
    return st;
}

rv_status rv_channel_stats(const rv_tensor *x, double *mean, double *var)
{
    if (x->ndim != 4) return rv_error(RV_EINVAL, "channel_stats: need an NCHW tensor");
    rv_tensor h = *x;
    if (x->device != RV_CPU) {
        rv_status st = rv_tensor_clone(&h, x, RV_CPU, "statistics copy");
        if (st != RV_OK) return st;
    }
    int64_t N = x->dim[0], C = x->dim[1], HW = x->dim[2] * x->dim[3];
    for (int64_t c = 0; c < C; c++) {
        double sum = 0.0, sum2 = 0.0;
        for (int64_t n = 0; n < N; n++)
            for (int64_t i = 0; i < HW; i++) {
                double v = h.data[(n * C + c) * HW + i];
                sum += v;
                sum2 += v * v;
            }
        mean[c] = sum / (double)(N * HW);
        var[c] = fmax(sum2 / (double)(N * HW) - mean[c] * mean[c], 0.0);
    }
    if (x->device != RV_CPU) rv_tensor_free(&h);
    return RV_OK;
}

rv_status rv_bn_calibrate(rv_bn *bn, const rv_tensor *x, rv_rng *r)
{
    if (x->ndim != 4 || x->dim[1] != bn->channels)
        return rv_error(RV_EINVAL, "bn_calibrate: input must have %lld channels",
                        (long long)bn->channels);
    int64_t C = bn->channels;
    double *stats = malloc(2 * (size_t)C * sizeof *stats); /* bookkeeping, not a tensor */
    if (!stats)
        return rv_error(RV_ENOMEM, "bn_calibrate: no memory for %lld channels", (long long)C);
    rv_status st = rv_channel_stats(x, stats, stats + C);
    /* A floor of a tenth of the layer's mean second moment E[x^2]: a
     * near-constant channel (a small batch, a 1x1 map, a dead ReLU) would
     * otherwise be scaled by 1/sqrt(tiny), amplifying float rounding far
     * beyond what a trained network shows. */
    double floor = 0.0;
    for (int64_t c = 0; c < C; c++) floor += 0.1 * (stats[C + c] + stats[c] * stats[c]) / (double)C;
    for (int64_t c = 0; c < C && st == RV_OK; c++) {
        double sd = sqrt(stats[C + c]);
        bn->mean.data[c] = (float)(stats[c] + rv_rng_uniform(r, -0.2f, 0.2f) * sd);
        bn->var.data[c] = (float)(stats[C + c] * rv_rng_uniform(r, 0.5f, 2.0f) + floor + 1e-6);
    }
    free(stats);
    return st == RV_OK ? rv_bn_prepare(bn, x->device) : st;
}

void rv_bn_free(rv_bn *bn)
{
    rv_tensor *p[6] = {&bn->gamma, &bn->beta, &bn->mean, &bn->var, &bn->scale, &bn->shift};
    for (int i = 0; i < 6; i++) rv_tensor_free(p[i]);
}

rv_status rv_batchnorm_cpu(const rv_tensor *x, const rv_bn *bn, rv_tensor *y)
{
    int64_t planes = x->dim[0] * x->dim[1], C = x->dim[1], HW = x->dim[2] * x->dim[3];
    /* rv_affine_elem's formula, a plane (one channel) at a time: no division
     * per element, and the planes shared among the threads */
#pragma omp parallel for schedule(static)
    for (int64_t pl = 0; pl < planes; pl++) {
        const float *xp = x->data + pl * HW;
        float *yp = y->data + pl * HW, s = bn->scale.data[pl % C], t = bn->shift.data[pl % C];
        for (int64_t i = 0; i < HW; i++) yp[i] = xp[i] * s + t;
    }
    return RV_OK;
}

rv_status rv_batchnorm(const rv_tensor *x, const rv_bn *bn, rv_tensor *y)
{
    if (x->ndim != 4 || !rv_tensor_same_shape(x, y))
        return rv_error(RV_EINVAL, "batchnorm: x and y must be NCHW tensors of the same shape");
    if (x->dim[1] != bn->channels)
        return rv_error(RV_EINVAL, "batchnorm: x has %lld channels, bn has %lld",
                        (long long)x->dim[1], (long long)bn->channels);
    if (!bn->scale.data || bn->scale.device != x->device || y->device != x->device)
        return rv_error(RV_EINVAL, "batchnorm: x, y and the prepared bn must be on one device");
    return RV_DISPATCH(x->device, rv_batchnorm, x, bn, y);
}
