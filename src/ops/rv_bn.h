/* rv_bn.h - batch norm in inference mode: parameters and the one fold formula.
 *
 *   bn(x) = (x - mean) / sqrt(var + eps) * gamma + beta = x * scale + shift
 *   scale = gamma / sqrt(var + eps),   shift = beta - mean * scale
 *
 * rv_bn_coeffs() is the only place this is computed (in double). The BN op
 * applies scale/shift stored in float on the layer's device; conv+BN fusion
 * (rv_reparam.h) uses the double values directly.
 */
#ifndef RV_BN_H
#define RV_BN_H

#include "rv_tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RV_BN_EPS 1e-5 /* PyTorch's BatchNorm2d default */

typedef struct {
    rv_tensor gamma, beta, mean, var; /* (C) each, running statistics, on the CPU */
    rv_tensor scale, shift;           /* (C) each, derived by rv_bn_prepare, on `device` */
    double eps;
    int64_t channels;
} rv_bn;

/* Host parameters gamma = 1, beta = 0, mean = 0, var = 1 (PyTorch's init). */
rv_status rv_bn_alloc(rv_bn *bn, int64_t channels);
/* Non-trivial statistics: gamma in [0.5, 1.5], beta and mean in [-0.5, 0.5],
 * var in [0.01, 1] (the 1/0 defaults hide fusion bugs). */
rv_status rv_bn_randomize(rv_bn *bn, rv_rng *r);
/* Computes scale/shift from the statistics and puts them on `dev`. */
rv_status rv_bn_prepare(rv_bn *bn, rv_device dev);
void rv_bn_free(rv_bn *bn);

/* Per-channel mean and (biased) variance of an NCHW tensor on any device,
 * in double: the statistics BN uses in training mode. mean, var: (C). */
rv_status rv_channel_stats(const rv_tensor *x, double *mean, double *var);

/* Sets the running statistics the way training leaves them: from the batch
 * statistics of the BN's input x, each perturbed (mean + U(-0.2, 0.2) * std,
 * var * U(0.5, 2) + a tenth of the mean E[x^2] over channels) so they are
 * not exactly the batch's; then rv_bn_prepare
 * on x's device. A network with such statistics keeps its activations near
 * unit scale, as a trained one does, where purely random statistics let them
 * grow by ~1.7x per block. */
rv_status rv_bn_calibrate(rv_bn *bn, const rv_tensor *x, rv_rng *r);

/* scale and shift of channel c, in double (see the header comment). */
void rv_bn_coeffs(const rv_bn *bn, int64_t c, double *scale, double *shift);

#ifdef __cplusplus
}
#endif
#endif
