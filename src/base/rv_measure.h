/* rv_measure.h - measuring a form of a computation: latency and peak bytes.
 *
 * A "form" is one way of computing a result (two branches, or the fused conv)
 * as a function over preallocated buffers. rv_measure_form reports its
 * honest latency (rv_time) and the peak bytes it allocates while running
 * (workspace included: the workspace is released first, so every form pays
 * for its own; its size is reported apart too). Printing the results is the
 * course layer's (rv_report.h).
 */
#ifndef RV_MEASURE_H
#define RV_MEASURE_H

#include <stddef.h>

#include "rv_tensor.h"
#include "rv_timing.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    rv_timing time;
    size_t peak_bytes;      /* above what was live before the call */
    size_t workspace_bytes; /* the workspace the call grew (within peak_bytes) */
    size_t held_bytes; /* the form's own activation buffers, kept between calls (0: not shown) */
} rv_form_result;

/* Allocates the activation buffers of a pair of forms, all of shape dim on
 * dev: o[0 .. n_train-1] the train-time form's, then o[n_train .. n-1] the
 * deploy-time form's, and records in held[0] and held[1] the bytes each
 * group took, as the tracking allocator counted them. */
rv_status rv_alloc_form_buffers(rv_tensor *const *o, int n, int n_train, rv_device dev,
                                const int64_t dim[4], size_t held[2]);

/* The first half of rv_measure_form: releases the workspace, runs fn once
 * and returns the bytes it allocated (a CUDA Graph captures that call's
 * buffers, so its replays are timed with rv_time alone). */
rv_status rv_measure_peak(rv_fn fn, void *ctx, rv_device dev, size_t *peak_bytes);
rv_status rv_measure_form(rv_fn fn, void *ctx, rv_device dev, int warmup, int repeat,
                          rv_form_result *out);
/* The same for n forms: each one's peak alone, then their times interleaved
 * (rv_time_forms). */
rv_status rv_measure_forms(int n, const rv_fn *fns, void *const *ctxs, rv_device dev, int warmup,
                           int repeat, rv_form_result *out);
/* Two forms side by side, as the lessons and the bench compare them (a: the
 * multi-branch or reference form, b: the fused one): rv_measure_forms. */
rv_status rv_measure_pair(rv_fn fa, void *a, rv_fn fb, void *b, rv_device dev, int warmup,
                          int repeat, rv_form_result *ra, rv_form_result *rb);

#ifdef __cplusplus
}
#endif
#endif
