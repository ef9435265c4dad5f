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

rv_status rv_time(rv_fn fn, void *ctx, rv_device dev, int warmup, int repeat, rv_timing *out)
{
    if (repeat < 1) return rv_error(RV_EINVAL, "timing: repeat must be >= 1, got %d", repeat);
    rv_status st;
    for (int i = 0; i < warmup; i++)
        if ((st = fn(ctx)) != RV_OK) return st;
    if ((st = rv_device_sync(dev)) != RV_OK) return st;
    /* Samples are the harness's bookkeeping, not model memory: plain malloc
     * keeps them out of the tracking allocator's counts. */
    double *t = malloc((size_t)repeat * sizeof *t);
    if (!t) return rv_error(RV_ENOMEM, "timing: cannot hold %d samples", repeat);
    double sum = 0.0;
    for (int i = 0; i < repeat; i++) {
        double t0 = rv_now_ms();
        st = fn(ctx);
        if (st == RV_OK) st = rv_device_sync(dev);
        if (st != RV_OK) {
            free(t);
            return st;
        }
        t[i] = rv_now_ms() - t0;
        sum += t[i];
    }
    qsort(t, (size_t)repeat, sizeof *t, cmp_double);
    out->median_ms = repeat % 2 ? t[repeat / 2] : 0.5 * (t[repeat / 2 - 1] + t[repeat / 2]);
    out->min_ms = t[0];
    out->max_ms = t[repeat - 1];
    out->mean_ms = sum / repeat;
    out->repeat = repeat;
    free(t);
    return RV_OK;
}

rv_status rv_time_naive(rv_fn fn, void *ctx, double *ms)
{
    double t0 = rv_now_ms();
    rv_status st = fn(ctx);
    *ms = rv_now_ms() - t0;
    return st;
}
