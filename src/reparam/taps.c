/* taps.c - a folded kernel's weights by where they sit (rv_taps.h). */
#include "rv_taps.h"

#include <math.h>

rv_tap_kind rv_tap_kind_of(const rv_tensor *w, int64_t o, int64_t c, int64_t r, int64_t k)
{
    if (r != w->dim[2] / 2 || k != w->dim[3] / 2) return RV_TAP_OUTER;
    return c == o % w->dim[1] ? RV_TAP_IDENTITY : RV_TAP_CENTRE;
}

/* max |w| over n floats at p */
static double abs_max(const float *p, int64_t n)
{
    double m = 0.0;
    for (int64_t j = 0; j < n; j++) m = fmax(m, fabs(p[j]));
    return m;
}

rv_status rv_kernel_taps(const rv_tensor *w, void (*visit)(void *ctx, const rv_tap *tap), void *ctx)
{
    if (w->device != RV_CPU || w->ndim != 4)
        return rv_error(RV_EINVAL, "kernel_taps: want a kernel (O, I/g, KH, KW) on the CPU");
    const int64_t O = w->dim[0], KH = w->dim[2], KW = w->dim[3], inner = w->dim[1] * KH * KW;
    const double max = abs_max(w->data, O * inner);
    for (int64_t o = 0; o < O; o++) {
        const float *wo = w->data + o * inner;
        rv_tap t = {.o = o, .ch_max = abs_max(wo, inner), .max = max};
        for (t.j = 0; t.j < inner; t.j++) {
            t.kind = rv_tap_kind_of(w, o, t.j / (KH * KW), t.j / KW % KH, t.j % KW);
            t.a = fabs(wo[t.j]);
            visit(ctx, &t);
        }
    }
    return RV_OK;
}
