/* timing.c - warm-up, sync, repetitions, median, quartiles, min, max, and a
 * look at how busy the machine was; and the naive version. */
#include <math.h>
#include <stdlib.h>
#include <time.h>

#include "rv_timing.h"

double rv_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

/* The p-quantile of n sorted samples, linear between neighbours (p = 0.5: the
 * median, the mean of the middle two when n is even). */
static double quantile(const double *s, int n, double p)
{
    double at = p * (n - 1);
    int i = (int)at;
    return i + 1 < n ? s[i] + (at - i) * (s[i + 1] - s[i]) : s[n - 1];
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double rv_median(double *v, int n)
{
    if (n < 1) return NAN;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return quantile(v, n, 0.5);
}

void rv_timing_stats(double *s, int n, rv_timing *out)
{
    double sum = 0.0;
    for (int i = 0; i < n; i++) sum += s[i];
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    *out = (rv_timing){.median_ms = quantile(s, n, 0.5),
                       .q1_ms = quantile(s, n, 0.25),
                       .q3_ms = quantile(s, n, 0.75),
                       .min_ms = s[0],
                       .max_ms = s[n - 1],
                       .mean_ms = sum / n,
                       .repeat = n,
                       .busy = {.waited = -1.0, .others = -1.0}};
    if (out->median_ms > 0) out->busy.spread = (out->q3_ms - out->q1_ms) / out->median_ms;
}

rv_status rv_time_forms(int n, const rv_fn *fns, void *const *ctxs, rv_device dev, int warmup,
                        int repeat, rv_timing *out)
{
    if (repeat < 1) return rv_error(RV_EINVAL, "timing: repeat must be >= 1, got %d", repeat);
    rv_status st = RV_OK;
    for (int i = 0; i < warmup; i++)
        for (int f = 0; f < n; f++)
            if ((st = fns[f](ctxs[f])) != RV_OK) return st;
    if ((st = rv_device_sync(dev)) != RV_OK) return st;
    /* Samples are the harness's bookkeeping, not model memory: plain malloc
     * keeps them out of the tracking allocator's counts. */
    double *t = malloc((size_t)n * (size_t)repeat * sizeof *t);
    if (!t) return rv_error(RV_ENOMEM, "timing: cannot hold %d samples", n * repeat);
    rv_busy_probe probe;
    rv_busy busy;
    rv_busy_begin(&probe);
    for (int i = 0; i < repeat && st == RV_OK; i++)
        for (int k = 0; k < n && st == RV_OK; k++) {
            int f = (i + k) % n;
            double t0 = rv_now_ms();
            st = fns[f](ctxs[f]);
            if (st == RV_OK) st = rv_device_sync(dev);
            t[f * repeat + i] = rv_now_ms() - t0;
        }
    rv_busy_end(&probe, &busy);
    busy.spread = 0.0;
    for (int f = 0; f < n && st == RV_OK; f++) {
        rv_timing_stats(t + f * repeat, repeat, &out[f]);
        if (out[f].busy.spread > busy.spread) busy.spread = out[f].busy.spread;
    }
    for (int f = 0; f < n && st == RV_OK; f++) out[f].busy = busy;
    free(t);
    return st;
}

rv_status rv_time(rv_fn fn, void *ctx, rv_device dev, int warmup, int repeat, rv_timing *out)
{
    return rv_time_forms(1, &fn, &ctx, dev, warmup, repeat, out);
}

rv_status rv_time_naive(rv_fn fn, void *ctx, double *ms)
{
    double t0 = rv_now_ms();
    rv_status st = fn(ctx);
    *ms = rv_now_ms() - t0;
    return st;
}
