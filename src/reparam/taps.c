/* taps.c - a folded kernel's weights by where they sit (rv_taps.h). */
#include "rv_taps.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rv_quant.h"
#include "rv_timing.h"

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

void rv_magnitude_range(const rv_tensor *w, double *largest, double *smallest)
{
    *largest = 0.0;
    *smallest = INFINITY;
    for (int64_t j = 0; j < rv_tensor_numel(w); j++) {
        double a = fabs(w->data[j]);
        if (a > *largest) *largest = a;
        if (a > 0.0 && a < *smallest) *smallest = a;
    }
}

/* What rv_kernel_tap_stats adds up, weight by weight */
typedef struct {
    rv_tap_stats *t;
    double sq[RV_TAP_KINDS], outer, *ch; /* ch (O): each channel's max |W_o| / max |W| */
    int64_t count[RV_TAP_KINDS], zero[2];
} tap_sums;

static void add_tap(void *ctx, const rv_tap *p)
{
    tap_sums *s = ctx;
    if (p->j == 0) s->ch[p->o] = p->ch_max / (p->max > 0 ? p->max : 1.0);
    if (p->j == 0 && p->o == 0) s->t->step = rv_quant_scale((float)p->max);
    s->t->max[p->kind] = fmax(s->t->max[p->kind], p->a);
    s->sq[p->kind] += p->a * p->a;
    s->count[p->kind]++;
    if (p->kind != RV_TAP_OUTER) return;
    s->outer++;
    s->zero[0] += p->a < s->t->step / 2;
    s->zero[1] += p->a < rv_quant_scale((float)p->ch_max) / 2;
}

rv_status rv_kernel_tap_stats(const rv_tensor *w, rv_tap_stats *t)
{
    memset(t, 0, sizeof *t);
    if (w->ndim != 4 || w->dim[0] < 1)
        return rv_error(RV_EINVAL, "kernel_tap_stats: want a kernel (O, I/g, KH, KW)");
    const int64_t O = w->dim[0];
    tap_sums s = {.t = t, .ch = malloc((size_t)O * sizeof *s.ch)};
    if (!s.ch) return rv_error(RV_ENOMEM, "no memory for %lld channels", (long long)O);
    rv_status st = rv_kernel_taps(w, add_tap, &s);
    for (int c = 0; c < RV_TAP_KINDS; c++)
        t->rms[c] = s.count[c] ? sqrt(s.sq[c] / s.count[c]) : 0.0;
    for (int g = 0; g < 2; g++) t->zero[g] = s.outer > 0 ? s.zero[g] / s.outer : 0.0;
    if (st == RV_OK) {
        t->ch_med = rv_median(s.ch, (int)O);
        t->ch_min = s.ch[0]; /* rv_median sorted them */
    }
    free(s.ch);
    return st;
}
