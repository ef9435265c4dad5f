/* rv_quant.h - simulated INT8 quantization: quantize, then dequantize, in float32.
 *
 * What it measures. A network run in INT8 sees every weight and activation
 * moved to the nearest point of a grid of 256 values. Fake quantization does
 * that round trip in float32, y = dequantize(quantize(x)), so the float ops
 * that follow see exactly the values an INT8 network would hold, and y - x is
 * the quantization error alone. rv_quant_error reports it as SQNR in dB.
 *
 * The grid: symmetric signed 8-bit, zero point 0, scale s > 0:
 *     q = clamp(round_half_even(x * (1/s)), -128, 127),   y = q * s
 * The reciprocal is taken in float32 first and x multiplied by it, not x / s:
 * that is how PyTorch's torch.fake_quantize_per_tensor_affine and
 * ..._per_channel_affine compute it (both sides round to the same float only
 * with the same expression), and round half to even is their std::nearbyint.
 * So our results equal theirs bit for bit (tests/torch/check_quant.py).
 * Beyond the grid a value clamps to -128 s or 127 s (infinities too); a NaN
 * stays NaN, so a broken input shows in the error instead of hiding in the
 * grid. An integer has no -0: a value that rounds to zero comes back +0.
 *
 * The scale, from the largest magnitude the grid must cover, amax = max |x|:
 *     s = max(amax / 127.5, FLT_EPSILON)
 * PyTorch's rule for symmetric qint8 observers (MinMaxObserver with
 * per_tensor_symmetric, PerChannelMinMaxObserver with per_channel_symmetric:
 * quant_min -128, quant_max 127, s = amax / ((quant_max - quant_min) / 2),
 * never below float32's eps), so the scales agree with PyTorch's too. What
 * it implies: +-amax land at about +-127.5, so the negative end is on the
 * grid (-128) and the largest positive values clamp to 127, up to half a step
 * off. An all-zero channel gets
 * s = FLT_EPSILON (2^-23), never 0: no division by zero, and its zeros stay 0.
 * (TensorRT's weights use the narrow grid [-127, 127] with s = amax / 127
 * instead; we keep one convention, the one the PyTorch check compares.)
 *
 * Per tensor: one s for the whole tensor. Per output channel: a weight
 * (O, C, KH, KW), or any (O, ...), gets one s per slice o, so a channel of
 * small weights is not rounded on the grid of the largest channel.
 * Activations: one s per tensor, calibrated (rv_calib) as the running max |x|
 * over a few calibration batches; a later input beyond it clamps.
 *
 * The error of a result a against its float reference r, over all elements:
 *     SQNR = 10 log10(sum r^2 / sum (a - r)^2) dB,
 *     rel L2 = sqrt(sum (a - r)^2 / sum r^2)      (so SQNR = -20 log10 rel L2)
 * the relative L2 of the project's tolerance model (rv_check.h).
 *
 * The reductions (amax, scales, calibration, error) run on the host: a CUDA
 * tensor is copied there first (calibration and measurement are never on a
 * timed path). The fake-quantize ops run on the tensors' device.
 */
#ifndef RV_QUANT_H
#define RV_QUANT_H

#include "rv_tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The INT8 grid's ends, and the divisor that maps amax to the grid's half width. */
#define RV_QINT8_MIN (-128)
#define RV_QINT8_MAX 127
#define RV_QINT8_HALF_RANGE 127.5f /* (RV_QINT8_MAX - RV_QINT8_MIN) / 2 */

/* s = max(amax / 127.5, FLT_EPSILON), for amax >= 0. */
float rv_quant_scale(float amax);

/* *scale = rv_quant_scale(max |x|): the per-tensor scale of a weight. Error
 * when x is empty or holds a NaN or an infinity (no grid covers it). */
rv_status rv_quant_tensor_scale(const rv_tensor *x, float *scale);

/* scales (O) = rv_quant_scale(max |w[o, ...]|) for each output channel o of
 * w (O, ...), rank >= 2; scales on w's device. */
rv_status rv_quant_channel_scales(const rv_tensor *w, rv_tensor *scales);

/* y = fake_quant(x, scale), elementwise; scale positive and finite; y may be x. */
rv_status rv_fake_quant_tensor(const rv_tensor *x, float scale, rv_tensor *y);
rv_status rv_fake_quant_tensor_cpu(const rv_tensor *x, float scale, rv_tensor *y);
rv_status rv_fake_quant_tensor_cuda(const rv_tensor *x, float scale, rv_tensor *y);

/* y[o, ...] = fake_quant(w[o, ...], scales[o]): w (O, ...) rank >= 2,
 * scales (O) positive and finite (rv_quant_channel_scales), all on one
 * device; y may be w. */
rv_status rv_fake_quant_channel(const rv_tensor *w, const rv_tensor *scales, rv_tensor *y);
rv_status rv_fake_quant_channel_cpu(const rv_tensor *w, const rv_tensor *scales, rv_tensor *y);
rv_status rv_fake_quant_channel_cuda(const rv_tensor *w, const rv_tensor *scales, rv_tensor *y);

/* Activation calibration: start from (rv_calib){0}, observe a few batches,
 * then take the scale of the largest magnitude seen. */
typedef struct {
    float amax;  /* running max |x| over the batches observed */
    int batches; /* how many */
} rv_calib;

/* c->amax = max(c->amax, max |x|). Error (c unchanged) when x is empty or
 * holds a NaN or an infinity. */
rv_status rv_calib_observe(rv_calib *c, const rv_tensor *x);
/* *scale = rv_quant_scale(c->amax); an error before any batch was observed. */
rv_status rv_calib_scale(const rv_calib *c, float *scale);

/* The error of a (quantized) against ref (its float original). */
typedef struct {
    double sqnr_db; /* +INFINITY when a == ref; -INFINITY when ref is all zeros and a is not */
    double rel_l2;  /* 0 when a == ref; INFINITY when ref is all zeros and a is not */
} rv_quant_err;

rv_status rv_quant_error(const rv_tensor *a, const rv_tensor *ref, rv_quant_err *out);

#ifdef __cplusplus
}
#endif
#endif
