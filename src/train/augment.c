/* augment.c - the crops and flips of rv_augment.h.
 *
 * Out of place: a window shifted by up to pad pixels in both axes would
 * overwrite, in place, pixels it has yet to read. */
#include "rv_augment.h"

/* A border wider than any image is surely a mistake, and keeps 2 pad + 1 an int. */
#define MAX_PAD 4096

static rv_status check_params(const rv_augment_params *p)
{
    if (p->pad < 0 || p->pad > MAX_PAD)
        return rv_error(RV_EINVAL, "augmentation: border %d is not in 0..%d", p->pad, MAX_PAD);
    return RV_OK;
}

rv_status rv_augment_draws(rv_rng *r, const rv_augment_params *p, int64_t n, rv_augment_draw *d)
{
    rv_status st = check_params(p);
    if (st != RV_OK) return st;
    if (n < 0 || (n > 0 && !d))
        return rv_error(RV_EINVAL, "augmentation: %lld draws", (long long)n);
    const uint64_t span = 2 * (uint64_t)p->pad + 1;
    for (int64_t i = 0; i < n; i++) {
        /* span is at most 8193: the modulo's bias is below 2^-50 */
        d[i].oy = (int)(rv_rng_next(r) % span);
        d[i].ox = (int)(rv_rng_next(r) % span);
        d[i].flip = p->flip ? (int)(rv_rng_next(r) >> 63) : 0;
    }
    return RV_OK;
}

rv_status rv_augment_apply(const rv_tensor *x, const rv_augment_draw *d, const rv_augment_params *p,
                           rv_tensor *y)
{
    if (x->ndim != 4 || !rv_tensor_same_shape(x, y) || x->device != RV_CPU || y->device != RV_CPU ||
        !x->data || !y->data || x->data == y->data)
        return rv_error(RV_EINVAL, "augmentation: need x and y (N, C, H, W) of one shape, on the "
                                   "CPU, in different memory");
    rv_status st = check_params(p);
    if (st != RV_OK) return st;
    const int64_t n = x->dim[0], c = x->dim[1], h = x->dim[2], w = x->dim[3];
    if (n > 0 && !d)
        return rv_error(RV_EINVAL, "augmentation: no draws for %lld images", (long long)n);
    for (int64_t i = 0; i < n; i++)
        if (d[i].oy < 0 || d[i].oy > 2 * p->pad || d[i].ox < 0 || d[i].ox > 2 * p->pad)
            return rv_error(RV_EINVAL,
                            "augmentation: image %lld's offset (%d, %d) is outside "
                            "0..%d",
                            (long long)i, d[i].oy, d[i].ox, 2 * p->pad);
    for (int64_t i = 0; i < n; i++) {
        const int64_t dy = d[i].oy - p->pad, dx = d[i].ox - p->pad;
        for (int64_t ch = 0; ch < c; ch++) {
            const float *src = x->data + (i * c + ch) * h * w; /* (H, W) */
            float *dst = y->data + (i * c + ch) * h * w;       /* (H, W) */
            for (int64_t u = 0; u < h; u++) {
                const int64_t su = u + dy; /* the source row */
                for (int64_t v = 0; v < w; v++) {
                    const int64_t sv = (d[i].flip ? w - 1 - v : v) + dx; /* the source column */
                    dst[u * w + v] =
                        su >= 0 && su < h && sv >= 0 && sv < w ? src[su * w + sv] : p->fill;
                }
            }
        }
    }
    return RV_OK;
}
