/* batch.c - the shuffle and the batch assembler of rv_batch.h. */
#include "rv_batch.h"

/* Uniform in [0, bound]: 64-bit draws below the largest multiple of
 * bound + 1 are kept, the rest (at most 1 in 2^48 for 60,000 images)
 * drawn again, so no index is favoured. */
static int64_t uniform_upto(rv_rng *r, uint64_t bound)
{
    uint64_t span = bound + 1, limit = UINT64_MAX - UINT64_MAX % span, v;
    do v = rv_rng_next(r);
    while (v >= limit);
    return (int64_t)(v % span);
}

rv_status rv_shuffle(rv_rng *r, int64_t n, int64_t *perm)
{
    if (n < 0 || (n > 0 && !perm)) return rv_error(RV_EINVAL, "shuffle: %lld items", (long long)n);
    for (int64_t i = 0; i < n; i++) perm[i] = i;
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = uniform_upto(r, (uint64_t)i), t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    return RV_OK;
}

rv_status rv_batch_fill(const rv_fashion *d, const int64_t *idx, double mean, double std,
                        rv_tensor *x, int32_t *labels)
{
    if (x->ndim != 4 || x->dim[1] != 1 || x->dim[2] != RV_FASHION_SIZE ||
        x->dim[3] != RV_FASHION_SIZE || x->device != RV_CPU || !x->data)
        return rv_error(RV_EINVAL, "batch: need images x (count, 1, 28, 28) on the CPU");
    const int64_t count = x->dim[0], px = RV_FASHION_SIZE * RV_FASHION_SIZE;
    if (count > 0 && (!idx || !labels))
        return rv_error(RV_EINVAL, "batch: no indices or no labels for %lld images",
                        (long long)count);
    for (int64_t i = 0; i < count; i++)
        if (idx[i] < 0 || idx[i] >= d->count)
            return rv_error(RV_EINVAL, "batch: image %lld's index %lld is outside 0..%lld",
                            (long long)i, (long long)idx[i], (long long)d->count - 1);
    for (int64_t i = 0; i < count; i++) {
        /* one image at a time through the loader's own conversion: one formula */
        rv_tensor one = rv_tensor_view(x->data + i * px, RV_CPU, 4,
                                       (const int64_t[]){1, 1, RV_FASHION_SIZE, RV_FASHION_SIZE});
        rv_status st = rv_fashion_images(d, idx[i], mean, std, &one);
        if (st != RV_OK) return st;
        labels[i] = d->labels[idx[i]];
    }
    return RV_OK;
}
