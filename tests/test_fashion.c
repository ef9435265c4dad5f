/* test_fashion.c - the gzip-compressed IDX reader and the Fashion-MNIST loader.
 *
 *   test_fashion               tiny IDX files that the test writes itself
 *                              (gzip via zlib): a round trip, then every
 *                              malformed case refused with its message
 *   test_fashion --data DIR    the real files in DIR (Debian's
 *                              dataset-fashion-mnist): 60,000 and 10,000
 *                              images, 6,000 and 1,000 of each class, the
 *                              training set's mean and standard deviation
 *                              printed, the normalised set at mean 0, std 1
 * Exit: 0 pass, 1 fail, 77 skipped (--data and the files are not there).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "rv_fashion.h"
#include "rv_idx.h"
#include "rv_test.h"

/* A gzip file in memory: malloc'd, *len bytes. */
static unsigned char *gzip_bytes(const unsigned char *d, size_t n, size_t *len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) return NULL;
    size_t cap = deflateBound(&z, (uLong)n) + 32;
    unsigned char *out = malloc(cap);
    z.next_in = (unsigned char *)d;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    int zr = deflate(&z, Z_FINISH);
    *len = cap - z.avail_out;
    deflateEnd(&z);
    if (zr != Z_STREAM_END) {
        free(out);
        return NULL;
    }
    return out;
}

/* The raw IDX bytes: magic 0x000008<ndim>, big-endian dims, items; *n bytes, malloc'd. */
static unsigned char *idx_bytes(int ndim, const uint32_t *dim, const unsigned char *items,
                                size_t nitems, size_t *n)
{
    *n = 4 + 4 * (size_t)ndim + nitems;
    unsigned char *d = malloc(*n);
    d[0] = d[1] = 0, d[2] = 0x08, d[3] = (unsigned char)ndim;
    for (int i = 0; i < ndim; i++)
        for (int b = 0; b < 4; b++) d[4 + 4 * i + b] = (unsigned char)(dim[i] >> (24 - 8 * b));
    memcpy(d + 4 + 4 * ndim, items, nitems);
    return d;
}

static unsigned char *gz_idx(int ndim, const uint32_t *dim, const unsigned char *items,
                             size_t nitems, size_t *len)
{
    size_t n;
    unsigned char *raw = idx_bytes(ndim, dim, items, nitems, &n);
    unsigned char *gz = gzip_bytes(raw, n, len);
    free(raw);
    return gz;
}

static void put_le32(unsigned char *p, uint32_t v)
{
    for (int b = 0; b < 4; b++) p[b] = (unsigned char)(v >> (8 * b));
}

/* parse must fail with st and a message holding `want`. */
static void expect_refused(const char *what, const unsigned char *d, size_t len, rv_status want_st,
                           const char *want)
{
    rv_idx x;
    rv_status st = rv_idx_parse(d, len, "case.gz", &x);
    int ok = st == want_st && strstr(rv_last_error(), want) && !x.data;
    printf("refused %-40s %s: %s -> %s\n", what, rv_status_name(st),
           st == RV_OK ? "(accepted)" : rv_last_error(), ok ? "ok" : "FAIL");
    CHECK(ok, "%s: expected %s with \"%s\"", what, rv_status_name(want_st), want);
    rv_idx_free(&x);
}

static int write_file(const char *path, const unsigned char *d, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    int ok = fwrite(d, 1, n, f) == n;
    return fclose(f) == 0 && ok;
}

enum { NIMG = 5, PX = RV_FASHION_SIZE * RV_FASHION_SIZE };

/* The four files of a tiny data set in dir: NIMG images per split, the
 * labels `labels` (or, for one malformed case, the images' own file). */
static void write_set(const char *dir, const unsigned char *img, const unsigned char *labels,
                      int nlabels, int rows)
{
    const char *names[4] = {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                            "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"};
    for (int k = 0; k < 4; k++) {
        size_t len;
        uint32_t idim[3] = {NIMG, (uint32_t)rows, RV_FASHION_SIZE}, ldim[1] = {(uint32_t)nlabels};
        unsigned char *gz = k % 2
                                ? gz_idx(1, ldim, labels, (size_t)nlabels, &len)
                                : gz_idx(3, idim, img, (size_t)NIMG * rows * RV_FASHION_SIZE, &len);
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[k]);
        CHECK(gz && write_file(path, gz, len), "cannot write %s", path);
        free(gz);
    }
}

static void expect_load_refused(const char *what, const char *dir, const char *want)
{
    rv_fashion d;
    rv_status st = rv_fashion_load(dir, RV_FASHION_TRAIN, &d);
    int ok = st == RV_EFORMAT && strstr(rv_last_error(), want) && !d.images && !d.labels;
    printf("refused %-40s %s -> %s\n", what, st == RV_OK ? "(accepted)" : rv_last_error(),
           ok ? "ok" : "FAIL");
    CHECK(ok, "%s: expected \"%s\"", what, want);
    rv_fashion_free(&d);
}

static void test_files(void)
{
    rv_rng rng = rv_rng_seed(34);
    unsigned char img[NIMG * PX], labels[NIMG + 1] = {3, 0, 9, 9, 1, 4};
    for (int i = 0; i < NIMG * PX; i++) img[i] = (unsigned char)(rv_rng_next(&rng) >> 56);

    /* round trip through files */
    char dir[] = "/tmp/rv-fashion-XXXXXX";
    CHECK(mkdtemp(dir), "mkdtemp");
    write_set(dir, img, labels, NIMG, RV_FASHION_SIZE);
    CHECK_OK(rv_fashion_find(dir));
    rv_fashion d;
    CHECK_OK(rv_fashion_load(dir, RV_FASHION_TEST, &d));
    CHECK(d.count == NIMG && !memcmp(d.images, img, sizeof img) && !memcmp(d.labels, labels, NIMG),
          "round trip: the bytes read differ from those written");
    printf("round trip: %lld images 28x28 and their labels read back byte for byte -> %s\n",
           (long long)d.count,
           d.count == NIMG && !memcmp(d.images, img, sizeof img) ? "ok" : "FAIL");

    /* the statistics and the normalisation, from their definitions */
    double s = 0, s2 = 0, mean, std;
    for (int i = 0; i < NIMG * PX; i++)
        s += img[i] / 255.0, s2 += img[i] / 255.0 * (img[i] / 255.0);
    double want_mean = s / (NIMG * PX), want_std = sqrt(s2 / (NIMG * PX) - want_mean * want_mean);
    rv_fashion_stats(&d, &mean, &std);
    CHECK(fabs(mean - want_mean) < 1e-12 && fabs(std - want_std) < 1e-12,
          "stats: mean %.15g std %.15g, expected %.15g %.15g", mean, std, want_mean, want_std);
    rv_tensor x;
    CHECK_OK(rv_tensor_alloc4(&x, RV_CPU, 2, 1, 28, 28, "x"));
    CHECK_OK(rv_fashion_images(&d, 3, mean, std, &x));
    int bad = 0;
    for (int i = 0; i < 2 * PX; i++)
        bad += fabs(x.data[i] - (img[3 * PX + i] / 255.0 - mean) / std) > 1e-6;
    CHECK(!bad, "normalised images: %d values off", bad);
    CHECK(rv_fashion_images(&d, 4, mean, std, &x) == RV_EINVAL, "images past the end accepted");
    rv_tensor_free(&x);
    rv_fashion_free(&d);

    /* the data set's own checks */
    labels[2] = 10;
    write_set(dir, img, labels, NIMG, RV_FASHION_SIZE);
    expect_load_refused("a label outside 0..9", dir, "label 2 is 10, not a class 0..9");
    labels[2] = 9;
    write_set(dir, img, labels, NIMG - 1, RV_FASHION_SIZE);
    expect_load_refused("fewer labels than images", dir, "4 labels for the 5 images");
    write_set(dir, img, labels, NIMG, RV_FASHION_SIZE - 1);
    expect_load_refused("images of 27 x 28 pixels", dir, "expected images (count, 28, 28)");

    char path[4096];
    snprintf(path, sizeof path, "%s/t10k-labels-idx1-ubyte.gz", dir);
    unlink(path);
    rv_status st = rv_fashion_find(dir);
    CHECK(st == RV_EIO && strstr(rv_last_error(), "apt-get install dataset-fashion-mnist"),
          "missing data: %s", rv_last_error());
    printf("missing file: %s -> %s\n", rv_last_error(), st == RV_EIO ? "ok" : "FAIL");
    const char *names[3] = {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                            "t10k-images-idx3-ubyte.gz"};
    for (int k = 0; k < 3; k++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[k]);
        unlink(path);
    }
    rmdir(dir);
}

static void test_malformed(void)
{
    unsigned char items[6] = {1, 2, 3, 4, 5, 6};
    const uint32_t five[1] = {5};
    size_t raw_len, len;
    unsigned char *raw = idx_bytes(1, five, items, 5, &raw_len);
    unsigned char *good = gz_idx(1, five, items, 5, &len);
    rv_idx x;
    CHECK_OK(rv_idx_parse(good, len, "good.gz", &x));
    CHECK(x.ndim == 1 && x.dim[0] == 5 && !memcmp(x.data, items, 5), "labels read back wrong");
    rv_idx_free(&x);

    unsigned char *b = malloc(len + 8);
    expect_refused("an uncompressed IDX file", raw, raw_len, RV_EFORMAT,
                   "an uncompressed IDX file");
    expect_refused("a text file", (const unsigned char *)"0,1,2\n", 6, RV_EFORMAT,
                   "not a gzip-compressed IDX file: it is a text file");
    expect_refused("10 bytes of gzip", good, 10, RV_EFORMAT, "truncated: 10 bytes");
    expect_refused("the gzip cut in half", good, len / 2 + 2, RV_EFORMAT, "truncated");
    memcpy(b, good, len);
    b[len - 8] ^= 0x01; /* the CRC-32 of the trailer */
    expect_refused("a wrong CRC-32", b, len, RV_EFORMAT,
                   "corrupt gzip data (incorrect data check)");
    memcpy(b, good, len);
    memcpy(b + len, b + len - 8, 8); /* a second copy of the trailer after the first */
    expect_refused("bytes after the gzip data", b, len + 8, RV_EFORMAT,
                   "8 bytes follow the end of the gzip data");
    /* headers that promise what the data do not hold; isize, where not 0, is
     * written over the trailer's, so that the header passes and the data fail */
    static const struct {
        const char *what;
        int ndim;
        uint32_t dim[3];
        size_t nitems;
        uint32_t isize;
        const char *want;
    } forged[] = {
        {.what = "fewer items than the header says",
         .ndim = 1,
         .dim = {6},
         .nitems = 5,
         .isize = 4 + 4 + 6,
         .want = "corrupt gzip data (incorrect length check)"},
        {.what = "more items than the header says",
         .ndim = 1,
         .dim = {4},
         .nitems = 5,
         .isize = 4 + 4 + 4,
         .want = "the data go on past the 12 bytes"},
        {.what = "a header the trailer contradicts",
         .ndim = 1,
         .dim = {6},
         .nitems = 5,
         .want = "the IDX header promises 14 bytes, the gzip trailer records 13"},
        {.what = "100,000 labels in 33 bytes",
         .ndim = 1,
         .dim = {100000},
         .nitems = 5,
         .want = "100008 bytes, more than 33 compressed bytes can hold"},
        /* 2^31 images of 28x28: 1.7 TB promised, refused before any allocation */
        {.what = "a header promising 1.7 TB",
         .ndim = 3,
         .dim = {1u << 31, 28, 28},
         .nitems = 5,
         .want = "more than 1073741824 bytes of items"},
        {.what = "a count of 0", .ndim = 1, .dim = {0}, .want = "IDX dimension 0 is 0"},
    };
    for (size_t i = 0; i < sizeof forged / sizeof forged[0]; i++) {
        unsigned char *g = gz_idx(forged[i].ndim, forged[i].dim, items, forged[i].nitems, &len);
        if (forged[i].isize) put_le32(g + len - 4, forged[i].isize);
        expect_refused(forged[i].what, g, len, RV_EFORMAT, forged[i].want);
        free(g);
    }
    unsigned char *g = gzip_bytes(raw, 2, &len);
    expect_refused("a file that ends inside the magic", g, len, RV_EFORMAT,
                   "the IDX data end after 2 bytes, the header promises 4");
    free(g);
    raw[3] = 2; /* rank 2 */
    g = gzip_bytes(raw, raw_len, &len);
    expect_refused("magic 0x00000802", g, len, RV_EFORMAT, "IDX magic 0x00000802");
    free(g);
    raw[3] = 1, raw[2] = 0x0d; /* float items */
    g = gzip_bytes(raw, raw_len, &len);
    expect_refused("magic 0x00000d01 (float items)", g, len, RV_EFORMAT, "IDX magic 0x00000d01");
    free(g);
    free(b);
    free(raw);
    free(good);
}

/* The real files: counts, classes, statistics. */
static int test_real(const char *dir)
{
    if (rv_fashion_find(dir) != RV_OK) {
        printf("skipped: %s\n", rv_last_error());
        return 77;
    }
    rv_fashion tr, te;
    CHECK_OK(rv_fashion_load(dir, RV_FASHION_TRAIN, &tr));
    CHECK_OK(rv_fashion_load(dir, RV_FASHION_TEST, &te));
    if (rv_test_failures) return rv_test_finish("test_fashion --data");
    const rv_fashion *sets[2] = {&tr, &te};
    const int64_t want[2] = {60000, 10000};
    for (int s = 0; s < 2; s++) {
        int64_t hist[RV_FASHION_CLASSES] = {0};
        for (int64_t i = 0; i < sets[s]->count; i++) hist[sets[s]->labels[i]]++;
        int even = 1;
        for (int c = 0; c < RV_FASHION_CLASSES; c++) even &= hist[c] == want[s] / 10;
        printf("%s: %lld images, %lld to %lld of each class -> %s\n", s ? "test" : "train",
               (long long)sets[s]->count, (long long)hist[0], (long long)hist[9],
               sets[s]->count == want[s] && even ? "ok" : "FAIL");
        CHECK(sets[s]->count == want[s] && even, "split %d: counts", s);
    }
    double mean, std;
    rv_fashion_stats(&tr, &mean, &std);
    printf("training set: pixel / 255 has mean %.6f, standard deviation %.6f\n", mean, std);
    /* the whole training set normalised, 1,000 images at a time: mean 0, std 1 */
    rv_tensor x;
    CHECK_OK(rv_tensor_alloc4(&x, RV_CPU, 1000, 1, 28, 28, "x"));
    double s = 0, s2 = 0;
    for (int64_t first = 0; first < tr.count && x.data; first += 1000) {
        CHECK_OK(rv_fashion_images(&tr, first, mean, std, &x));
        for (int64_t i = 0; i < 1000 * PX; i++) s += x.data[i], s2 += (double)x.data[i] * x.data[i];
    }
    double n = (double)tr.count * PX, m = s / n, sd = sqrt(s2 / n - m * m);
    printf("normalised training set: mean %.2e, standard deviation %.6f -> %s\n", m, sd,
           fabs(m) < 1e-5 && fabs(sd - 1) < 1e-5 ? "ok" : "FAIL");
    CHECK(fabs(m) < 1e-5 && fabs(sd - 1) < 1e-5, "normalised: mean %g std %g", m, sd);
    rv_tensor_free(&x);
    rv_fashion_free(&tr);
    rv_fashion_free(&te);
    return rv_test_finish("test_fashion --data");
}

int main(int argc, char **argv)
{
    const char *dir = NULL;
    rv_opt opts[] = {{"data", RV_OPT_STR, &dir, "read the real Fashion-MNIST files in DIR"}};
    int rc = rv_parse_args(
        argc, argv, "test_fashion [--data DIR]: the IDX reader and Fashion-MNIST loader", opts, 1);
    if (rc >= 0) return rc;
    if (dir) return test_real(dir);
    test_files();
    test_malformed();
    return rv_test_finish("test_fashion");
}
