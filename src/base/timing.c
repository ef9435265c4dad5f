/* timing.c - warm-up, sync, repetitions, median/min/max; and the naive version. */
#include <stdlib.h>
#include <time.h>

#include "rv_timing.h"

double rv_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
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
    for (int i = 0; i < repeat && st == RV_OK; i++)
        for (int k = 0; k < n && st == RV_OK; k++) {
            int f = (i + k) % n;
            double t0 = rv_now_ms();
            st = fns[f](ctxs[f]);
            if (st == RV_OK) st = rv_device_sync(dev);
            t[f * repeat + i] = rv_now_ms() - t0;
        }
    for (int f = 0; f < n && st == RV_OK; f++) {
        double *s = t + f * repeat, sum = 0.0;
        for (int i = 0; i < repeat; i++) sum += s[i];
        qsort(s, (size_t)repeat, sizeof *s, cmp_double);
        out[f].median_ms = repeat % 2 ? s[repeat / 2] : 0.5 * (s[repeat / 2 - 1] + s[repeat / 2]);
        out[f].min_ms = s[0];
        out[f].max_ms = s[repeat - 1];
        out[f].mean_ms = sum / repeat;
        out[f].repeat = repeat;
    }
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
