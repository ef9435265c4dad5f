/* quant.c - simulated INT8 quantization on the CPU: scales, calibration,
 * fake quantization per tensor and per output channel, and its error (the
 * algebra and the conventions are in rv_quant.h; the per-element body,
 * shared with the CUDA kernels, in rv_elem.h). */
#include <float.h>
#include <math.h>
#include <stdio.h>

#include "rv_check.h"
#include "rv_dispatch.h"
#include "rv_elem.h"
#include "rv_quant.h"

float rv_quant_scale(float amax)
{
    float s = amax / RV_QINT8_HALF_RANGE;
    return s > FLT_EPSILON ? s : FLT_EPSILON;
}

/* *data points at t's values on the host: t's own, or a copy in *tmp (the
 * caller frees *tmp, a zeroed tensor when t is on the CPU). */
static rv_status host_data(const rv_tensor *t, rv_tensor *tmp, const float **data)
{
    *tmp = (rv_tensor){0};
    *data = t->data;
    if (t->device == RV_CPU) return RV_OK;
    rv_status st = rv_tensor_clone(tmp, t, RV_CPU, "host copy of a tensor to quantize");
    *data = tmp->data;
    return st;
}

/* max |x| over n values, or an error naming `what` (and the element) when a
 * value is a NaN or an infinity. */
static rv_status amax_of(const float *x, int64_t n, const char *what, float *amax)
{
    float m = 0.0f;
    for (int64_t i = 0; i < n; i++) {
        float a = fabsf(x[i]);
        if (!(a <= FLT_MAX))
            return rv_error(RV_EINVAL, "quant: %s holds %g at element %lld: no INT8 grid covers it",
                            what, x[i], (long long)i);
        if (a > m) m = a;
    }
    *amax = m;
    return RV_OK;
}

static rv_status check_nonempty(const char *op, const char *what, const rv_tensor *t)
{
    return rv_tensor_numel(t) > 0 && t->data
               ? RV_OK
               : rv_error(RV_EINVAL, "%s: %s is an empty tensor", op, what);
}

static rv_status tensor_amax(const rv_tensor *x, const char *what, float *amax)
{
    rv_tensor tmp = {0};
    const float *d;
    rv_status st = check_nonempty("quant", what, x);
    if (st == RV_OK) st = host_data(x, &tmp, &d);
    if (st == RV_OK) st = amax_of(d, rv_tensor_numel(x), what, amax);
    rv_tensor_free(&tmp);
    return st;
}

rv_status rv_quant_tensor_scale(const rv_tensor *x, float *scale)
{
    float amax = 0.0f;
    rv_status st = tensor_amax(x, "x", &amax);
    if (st == RV_OK) *scale = rv_quant_scale(amax);
    return st;
}

/* w (O, ...) and a vector of O per-channel values v (scales), one device. */
static rv_status check_channels(const char *op, const rv_tensor *w, const rv_tensor *v)
{
    char ws[64], vs[64];
    rv_status st = check_nonempty(op, "w", w);
    if (st != RV_OK) return st;
    if (w->ndim < 2 || v->ndim != 1 || v->dim[0] != w->dim[0])
        return rv_error(RV_EINVAL,
                        "%s: scales (%s) must hold one value per output channel of w (%s), "
                        "w of rank 2 or more",
                        op, rv_tensor_shape_str(v, vs, sizeof vs),
                        rv_tensor_shape_str(w, ws, sizeof ws));
    if (w->device != v->device)
        return rv_error(RV_EINVAL, "%s: w and scales on different devices", op);
    return RV_OK;
}

rv_status rv_quant_channel_scales(const rv_tensor *w, rv_tensor *scales)
{
    rv_status st = check_channels("quant_channel_scales", w, scales);
    if (st != RV_OK) return st;
    int64_t O = w->dim[0], inner = rv_tensor_numel(w) / O;
    rv_tensor tmp = {0}, hs = {0};
    const float *d;
    st = host_data(w, &tmp, &d);
    if (st == RV_OK) st = rv_tensor_alloc1(&hs, RV_CPU, O, "per-channel scales");
    for (int64_t o = 0; o < O && st == RV_OK; o++) {
        float amax = 0.0f;
        char what[48];
        snprintf(what, sizeof what, "channel %lld of w", (long long)o);
        st = amax_of(d + o * inner, inner, what, &amax);
        if (st == RV_OK) hs.data[o] = rv_quant_scale(amax);
    }
    if (st == RV_OK) st = rv_tensor_copy(scales, &hs);
    rv_tensor_free(&tmp);
    rv_tensor_free(&hs);
    return st;
}

static rv_status check_scale(const char *op, const char *what, float s)
{
    return s > 0.0f && s <= FLT_MAX
               ? RV_OK
               : rv_error(RV_EINVAL, "%s: %s must be a positive finite number, got %g", op, what,
                          s);
}

static rv_status check_pair(const char *op, const char *what, const rv_tensor *x,
                            const rv_tensor *y)
{
    rv_status st = check_nonempty(op, what, x);
    if (st != RV_OK) return st;
    if (!rv_tensor_same_shape(x, y))
        return rv_error(RV_EINVAL, "%s: input and output shapes differ", op);
    if (x->device != y->device) return rv_error(RV_EINVAL, "%s: tensors on different devices", op);
    return RV_OK;
}

rv_status rv_fake_quant_tensor_cpu(const rv_tensor *x, float scale, rv_tensor *y)
{
    int64_t n = rv_tensor_numel(x);
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++) y->data[i] = rv_fake_quant(x->data[i], scale);
    return RV_OK;
}

rv_status rv_fake_quant_tensor(const rv_tensor *x, float scale, rv_tensor *y)
{
    rv_status st = check_pair("fake_quant_tensor", "x", x, y);
    if (st == RV_OK) st = check_scale("fake_quant_tensor", "the scale of x", scale);
    return st != RV_OK ? st : RV_DISPATCH(x->device, rv_fake_quant_tensor, x, scale, y);
}

rv_status rv_fake_quant_channel_cpu(const rv_tensor *w, const rv_tensor *scales, rv_tensor *y)
{
    int64_t n = rv_tensor_numel(w), inner = n / w->dim[0];
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++)
        y->data[i] = rv_fake_quant_channel_elem(w->data, scales->data, inner, i);
    return RV_OK;
}

rv_status rv_fake_quant_channel(const rv_tensor *w, const rv_tensor *scales, rv_tensor *y)
{
    const char *op = "fake_quant_channel";
    rv_status st = check_pair(op, "w", w, y);
    if (st == RV_OK) st = check_channels(op, w, scales);
    if (st != RV_OK) return st;
    rv_tensor tmp = {0};
    const float *s;
    st = host_data(scales, &tmp, &s);
    for (int64_t o = 0; o < scales->dim[0] && st == RV_OK; o++) {
        char what[48];
        snprintf(what, sizeof what, "scale %lld of w", (long long)o);
        st = check_scale(op, what, s[o]);
    }
    rv_tensor_free(&tmp);
    return st != RV_OK ? st : RV_DISPATCH(w->device, rv_fake_quant_channel, w, scales, y);
}

rv_status rv_calib_observe(rv_calib *c, const rv_tensor *x)
{
    float amax = 0.0f;
    rv_status st = tensor_amax(x, "calibration batch", &amax);
    if (st != RV_OK) return st;
    if (amax > c->amax) c->amax = amax;
    c->batches++;
    return RV_OK;
}

rv_status rv_calib_scale(const rv_calib *c, float *scale)
{
    if (c->batches < 1)
        return rv_error(RV_EINVAL, "calib_scale: no calibration batch was observed");
    *scale = rv_quant_scale(c->amax);
    return RV_OK;
}

rv_status rv_quant_error(const rv_tensor *a, const rv_tensor *ref, rv_quant_err *out)
{
    rv_status st = check_pair("quant_error", "ref", ref, a);
    if (st != RV_OK) return st;
    rv_tensor ta = {0}, tr = {0};
    const float *da, *dr;
    st = host_data(a, &ta, &da);
    if (st == RV_OK) st = host_data(ref, &tr, &dr);
    if (st == RV_OK) {
        /* the tolerance model's relative L2 (sums in double), whatever the tolerance */
        rv_cmp c = rv_compare(da, dr, rv_tensor_numel(a), RV_TOL_EXACT);
        *out = (rv_quant_err){.rel_l2 = c.rel_l2, .sqnr_db = 20.0 * log10(1.0 / c.rel_l2)};
    }
    rv_tensor_free(&ta);
    rv_tensor_free(&tr);
    return st;
}
