/* rv_timing.h - honest timing, and the notebook's naive timing beside it.
 *
 * Honest: `warmup` untimed calls, then `repeat` timed calls, each followed by
 * a device sync before the clock is read (a CUDA launch returns before the
 * GPU has done the work); median, quartiles, min, max and mean of the
 * samples, and whether the machine was quiet meanwhile (rv_busy.h).
 * Naive (the notebook's cell): the host clock around one call, no warm-up, no
 * sync; on a GPU it measures the launch, and the first call also pays for
 * context, handle and module set-up.
 */
#ifndef RV_TIMING_H
#define RV_TIMING_H

#include "rv_busy.h"
#include "rv_device.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef rv_status (*rv_fn)(void *ctx);

typedef struct {
    double median_ms, q1_ms, q3_ms, min_ms, max_ms, mean_ms; /* q1, q3: the quartiles */
    int repeat;
    rv_busy busy; /* the same for all the forms timed together (spread: their largest) */
} rv_timing;

double rv_now_ms(void); /* monotonic clock */

/* The statistics of n >= 1 samples (ms; sorted in place) into *out: busy
 * holds only the spread, (q3 - q1) / median, the other signs unknown (-1). */
void rv_timing_stats(double *samples, int n, rv_timing *out);

/* Sorts v (n of them, ascending) and returns their median (the mean of the
 * middle two when n is even); NAN when n is 0. */
double rv_median(double *v, int n);

rv_status rv_time(rv_fn fn, void *ctx, rv_device dev, int warmup, int repeat, rv_timing *out);
/* n forms timed interleaved: each round runs every form once, starting with
 * a different one each round, so a slow phase of a shared machine falls on
 * all of them and their ratio stays honest; out[i] for fns[i](ctxs[i]). */
rv_status rv_time_forms(int n, const rv_fn *fns, void *const *ctxs, rv_device dev, int warmup,
                        int repeat, rv_timing *out);
rv_status rv_time_naive(rv_fn fn, void *ctx, double *ms);

#ifdef __cplusplus
}
#endif
#endif
