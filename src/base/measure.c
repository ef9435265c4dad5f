/* measure.c - measure a form: latency and peak bytes (rv_measure.h). */
#include "rv_alloc.h"
#include "rv_measure.h"

rv_status rv_measure_peak(rv_fn fn, void *ctx, rv_device dev, size_t *peak_bytes)
{
    rv_workspace_release(dev);
    rv_mem_reset_peak(dev);
    size_t before = rv_mem(dev).current;
    rv_status st = fn(ctx);
    if (st == RV_OK) st = rv_device_sync(dev);
    if (st == RV_OK) *peak_bytes = rv_mem(dev).peak - before;
    return st;
}

rv_status rv_measure_forms(int n, const rv_fn *fns, void *const *ctxs, rv_device dev, int warmup,
                           int repeat, rv_form_result *out)
{
    rv_status st = RV_OK;
    rv_timing time[8];
    if (n < 1 || n > 8) return rv_error(RV_EINVAL, "measure: %d forms, expected 1 to 8", n);
    for (int f = 0; f < n && st == RV_OK; f++) {
        out[f].held_bytes = 0; /* the caller's to fill: it knows the form's buffers */
        st = rv_measure_peak(fns[f], ctxs[f], dev, &out[f].peak_bytes);
        out[f].workspace_bytes = rv_workspace_bytes(dev); /* released before the call */
    }
    if (st == RV_OK) st = rv_time_forms(n, fns, ctxs, dev, warmup, repeat, time);
    for (int f = 0; f < n && st == RV_OK; f++) out[f].time = time[f];
    return st;
}

rv_status rv_measure_pair(rv_fn fa, void *a, rv_fn fb, void *b, rv_device dev, int warmup,
                          int repeat, rv_form_result *ra, rv_form_result *rb)
{
    const rv_fn fns[2] = {fa, fb};
    void *const ctxs[2] = {a, b};
    rv_form_result r[2];
    rv_status st = rv_measure_forms(2, fns, ctxs, dev, warmup, repeat, r);
    if (st == RV_OK) {
        *ra = r[0];
        *rb = r[1];
    }
    return st;
}

rv_status rv_measure_form(rv_fn fn, void *ctx, rv_device dev, int warmup, int repeat,
                          rv_form_result *out)
{
    return rv_measure_forms(1, &fn, &ctx, dev, warmup, repeat, out);
}

rv_status rv_alloc_form_buffers(rv_tensor *const *o, int n, int n_train, rv_device dev,
                                const int64_t dim[4], size_t held[2])
{
    rv_status st = RV_OK;
    size_t mark = rv_mem(dev).current;
    for (int i = 0; i < n && st == RV_OK; i++) {
        st = rv_tensor_alloc(o[i], dev, 4, dim, i < n_train ? "train-time buffer" : "output");
        if (i == n_train - 1 || i == n - 1) {
            held[i >= n_train] = rv_mem(dev).current - mark;
            mark = rv_mem(dev).current;
        }
    }
    return st;
}
