/* fashion.c - Fashion-MNIST from its four IDX files (see rv_fashion.h).
 *
 * The IDX reader checks the file format; this file checks the data set:
 * the shapes Fashion-MNIST has, labels that name one of its 10 classes,
 * one label per image.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "rv_fashion.h"
#include "rv_idx.h"

static const char *const files[2][2] = {
    [RV_FASHION_TRAIN] = {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"},
    [RV_FASHION_TEST] = {"t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"},
};

rv_status rv_fashion_find(const char *dir)
{
    for (int s = 0; s < 2; s++)
        for (int k = 0; k < 2; k++) {
            char path[4096];
            struct stat sb;
            snprintf(path, sizeof path, "%s/%s", dir, files[s][k]);
            if (stat(path, &sb) != 0)
                return rv_error(RV_EIO,
                                "%s: %s: the Fashion-MNIST data are missing: install Debian's "
                                "package %s (apt-get install %s), or name the folder that holds "
                                "the four files",
                                path, strerror(errno), RV_FASHION_PACKAGE, RV_FASHION_PACKAGE);
        }
    return RV_OK;
}

rv_status rv_fashion_load(const char *dir, rv_fashion_split split, rv_fashion *out)
{
    memset(out, 0, sizeof *out);
    char ip[4096], lp[4096];
    snprintf(ip, sizeof ip, "%s/%s", dir, files[split][0]);
    snprintf(lp, sizeof lp, "%s/%s", dir, files[split][1]);
    rv_idx im = {0}, lb = {0};
    rv_status st = rv_idx_read(ip, &im);
    if (st == RV_OK) st = rv_idx_read(lp, &lb);
    if (st == RV_OK &&
        (im.ndim != 3 || im.dim[1] != RV_FASHION_SIZE || im.dim[2] != RV_FASHION_SIZE))
        st = rv_error(
            RV_EFORMAT, "%s: expected images (count, %d, %d), found rank %d (%lld x %lld)", ip,
            RV_FASHION_SIZE, RV_FASHION_SIZE, im.ndim, (long long)im.dim[1], (long long)im.dim[2]);
    if (st == RV_OK && lb.ndim != 1)
        st = rv_error(RV_EFORMAT, "%s: expected labels (rank 1), found rank %d", lp, lb.ndim);
    if (st == RV_OK && im.dim[0] != lb.dim[0])
        st = rv_error(RV_EFORMAT, "%s: %lld labels for the %lld images of %s", lp,
                      (long long)lb.dim[0], (long long)im.dim[0], ip);
    for (int64_t i = 0; st == RV_OK && i < lb.dim[0]; i++)
        if (lb.data[i] >= RV_FASHION_CLASSES)
            st = rv_error(RV_EFORMAT, "%s: label %lld is %d, not a class 0..%d", lp, (long long)i,
                          lb.data[i], RV_FASHION_CLASSES - 1);
    if (st != RV_OK) {
        rv_idx_free(&im);
        rv_idx_free(&lb);
        return st;
    }
    *out = (rv_fashion){.count = im.dim[0], .images = im.data, .labels = lb.data};
    return RV_OK;
}

void rv_fashion_free(rv_fashion *d)
{
    free(d->images); /* the rv_idx allocations the split took over */
    free(d->labels);
    memset(d, 0, sizeof *d);
}

void rv_fashion_stats(const rv_fashion *d, double *mean, double *std)
{
    /* exact integer sums: 47 million pixels of at most 255^2 fit in 64 bits */
    uint64_t s = 0, s2 = 0, n = (uint64_t)d->count * RV_FASHION_SIZE * RV_FASHION_SIZE;
    for (uint64_t i = 0; i < n; i++) {
        s += d->images[i];
        s2 += (uint64_t)d->images[i] * d->images[i];
    }
    double m = n ? (double)s / (double)n : 0.0;
    double var = n ? (double)s2 / (double)n - m * m : 0.0;
    *mean = m / 255.0;
    *std = sqrt(var > 0.0 ? var : 0.0) / 255.0;
}

rv_status rv_fashion_images(const rv_fashion *d, int64_t first, double mean, double std,
                            rv_tensor *x)
{
    int64_t count = x->ndim == 4 ? x->dim[0] : -1, px = RV_FASHION_SIZE * RV_FASHION_SIZE;
    if (count < 0 || x->dim[1] != 1 || x->dim[2] != RV_FASHION_SIZE ||
        x->dim[3] != RV_FASHION_SIZE || x->device != RV_CPU)
        return rv_error(RV_EINVAL, "Fashion-MNIST images: need x (count, 1, 28, 28) on the CPU");
    if (first < 0 || first > d->count || count > d->count - first)
        return rv_error(RV_EINVAL, "Fashion-MNIST images %lld to %lld: the split has %lld",
                        (long long)first, (long long)(first + count), (long long)d->count);
    if (!(std > 0.0))
        return rv_error(RV_EINVAL, "Fashion-MNIST images: std %g is not positive", std);
    const unsigned char *p = d->images + first * px;
    for (int64_t i = 0; i < count * px; i++) x->data[i] = (float)((p[i] / 255.0 - mean) / std);
    return RV_OK;
}
