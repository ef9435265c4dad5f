/* tensor.c - tensor allocation, views, copies between devices, seeded fills. */
#include "rv_tensor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rv_alloc.h"
#ifdef RV_HAVE_CUDA
#include "rv_cuda.h"
#endif

rv_status rv_tensor_alloc(rv_tensor *t, rv_device dev, int ndim, const int64_t *dim,
                          const char *what)
{
    memset(t, 0, sizeof *t);
    if (ndim < 1 || ndim > RV_MAX_DIMS)
        return rv_error(RV_EINVAL, "%s: rank %d is not in 1..%d", what, ndim, RV_MAX_DIMS);
    int64_t numel = 1;
    for (int i = 0; i < ndim; i++) {
        if (dim[i] <= 0)
            return rv_error(RV_EINVAL, "%s: dimension %d is %lld, must be positive", what, i,
                            (long long)dim[i]);
        if (numel > INT64_MAX / 4 / dim[i]) return rv_error(RV_EINVAL, "%s: shape too large", what);
        numel *= dim[i];
        t->dim[i] = dim[i];
    }
    if ((uint64_t)numel > SIZE_MAX / sizeof(float))
        return rv_error(RV_EINVAL, "%s: shape too large for this machine", what);
    t->ndim = ndim;
    t->device = dev;
    t->data = rv_alloc(dev, (size_t)numel * sizeof(float), what);
    if (!t->data) {
        memset(t, 0, sizeof *t);
        return RV_ENOMEM;
    }
    return RV_OK;
}

rv_status rv_tensor_alloc4(rv_tensor *t, rv_device dev, int64_t n, int64_t c, int64_t h, int64_t w,
                           const char *what)
{
    int64_t dim[4] = {n, c, h, w};
    return rv_tensor_alloc(t, dev, 4, dim, what);
}

rv_status rv_tensor_alloc1(rv_tensor *t, rv_device dev, int64_t n, const char *what)
{
    return rv_tensor_alloc(t, dev, 1, &n, what);
}

void rv_tensor_free(rv_tensor *t)
{
    if (t->data) rv_free(t->device, t->data, rv_tensor_bytes(t));
    memset(t, 0, sizeof *t);
}

void rv_named_free(rv_named *ts, int n)
{
    if (!ts) return;
    for (int i = 0; i < n; i++) rv_tensor_free(&ts[i].t);
    free(ts);
}

int64_t rv_tensor_numel(const rv_tensor *t)
{
    if (t->ndim == 0) return 0;
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++) n *= t->dim[i];
    return n;
}

size_t rv_tensor_bytes(const rv_tensor *t) { return (size_t)rv_tensor_numel(t) * sizeof(float); }

int rv_tensor_same_shape(const rv_tensor *a, const rv_tensor *b)
{
    if (a->ndim != b->ndim) return 0;
    for (int i = 0; i < a->ndim; i++)
        if (a->dim[i] != b->dim[i]) return 0;
    return 1;
}

const char *rv_tensor_shape_str(const rv_tensor *t, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < t->ndim && used < len; i++)
        used +=
            (size_t)snprintf(buf + used, len - used, i ? "x%lld" : "%lld", (long long)t->dim[i]);
    return buf;
}

rv_status rv_tensor_copy(rv_tensor *dst, const rv_tensor *src)
{
    if (!rv_tensor_same_shape(dst, src)) {
        char a[64], b[64];
        return rv_error(RV_EINVAL, "copy: shapes differ (%s <- %s)",
                        rv_tensor_shape_str(dst, a, sizeof a),
                        rv_tensor_shape_str(src, b, sizeof b));
    }
    size_t bytes = rv_tensor_bytes(src);
    if (dst->device == RV_CPU && src->device == RV_CPU) {
        memcpy(dst->data, src->data, bytes);
        return RV_OK;
    }
#ifdef RV_HAVE_CUDA
    return rv_cuda_memcpy(dst->data, dst->device == RV_CUDA, src->data, src->device == RV_CUDA,
                          bytes);
#else
    return rv_error(RV_EDEVICE, "copy: this build has no CUDA backend");
#endif
}

rv_status rv_tensor_clone(rv_tensor *dst, const rv_tensor *src, rv_device dev, const char *what)
{
    rv_status st = rv_tensor_alloc(dst, dev, src->ndim, src->dim, what);
    if (st != RV_OK) return st;
    st = rv_tensor_copy(dst, src);
    if (st != RV_OK) rv_tensor_free(dst);
    return st;
}

static rv_status require_host(const rv_tensor *t)
{
    if (t->device != RV_CPU) return rv_error(RV_EINVAL, "fill: tensor must be on the CPU");
    return RV_OK;
}

rv_status rv_tensor_fill(rv_tensor *t, float value)
{
    rv_status st = require_host(t);
    if (st != RV_OK) return st;
    int64_t n = rv_tensor_numel(t);
    for (int64_t i = 0; i < n; i++) t->data[i] = value;
    return RV_OK;
}

rv_status rv_tensor_fill_uniform(rv_tensor *t, rv_rng *r, float lo, float hi)
{
    rv_status st = require_host(t);
    if (st != RV_OK) return st;
    int64_t n = rv_tensor_numel(t);
    for (int64_t i = 0; i < n; i++) t->data[i] = rv_rng_uniform(r, lo, hi);
    return RV_OK;
}

rv_status rv_tensor_fill_int(rv_tensor *t, rv_rng *r, int lo, int hi)
{
    rv_status st = require_host(t);
    if (st != RV_OK) return st;
    int64_t n = rv_tensor_numel(t);
    for (int64_t i = 0; i < n; i++) t->data[i] = rv_rng_int(r, lo, hi);
    return RV_OK;
}

rv_status rv_tensor_random(rv_tensor *t, rv_device dev, int ndim, const int64_t *dim, rv_rng *r,
                           float lo, float hi, const char *what)
{
    rv_tensor h = {0};
    *t = (rv_tensor){0};
    rv_status st = rv_tensor_alloc(&h, RV_CPU, ndim, dim, what);
    if (st == RV_OK) st = rv_tensor_fill_uniform(&h, r, lo, hi);
    if (st == RV_OK && dev == RV_CPU) {
        *t = h; /* already where it belongs */
        return RV_OK;
    }
    if (st == RV_OK) st = rv_tensor_clone(t, &h, dev, what);
    rv_tensor_free(&h);
    return st;
}

rv_tensor rv_tensor_view(float *data, rv_device dev, int ndim, const int64_t *dim)
{
    rv_tensor v = {.data = data, .ndim = ndim, .device = dev};
    for (int i = 0; i < ndim && i < RV_MAX_DIMS; i++) v.dim[i] = dim[i];
    return v;
}
