/* test_batch.c - the data pipeline: shuffling and batches (rv_batch.h),
 * crops and flips (rv_augment.h).
 *
 *   test_batch [--device cpu]    exit 0 pass, 1 fail
 *
 * The shuffle: a permutation, a different one for another seed or the next
 * epoch, the same one for the same seed, and uniform (all 6 orders of 3
 * items equally often: a shuffle that draws j from 0..n-1, or Sattolo's
 * from 0..i-1, is far off). Batches: the loader's own normalisation, bit for
 * bit, in the permutation's order. Augmentation: on images whose every
 * pixel names its own place, each output pixel is the one the offsets say,
 * the border is fill, offset (pad, pad) gives the image back, a flip twice
 * too; the draws cover 0..2 pad and flip half the time; one seed gives the
 * same batches bit for bit, another seed others.
 */
#include <stdlib.h>
#include <string.h>

#include "rv_augment.h"
#include "rv_batch.h"
#include "rv_test.h"

static void test_shuffle(void)
{
    enum { N = 1000 };
    static int64_t a[N], b[N], c[N], e[N];
    static int seen[N];
    rv_rng r1 = rv_rng_seed(1), r1b = rv_rng_seed(1), r2 = rv_rng_seed(2);
    CHECK_OK(rv_shuffle(&r1, N, a));
    CHECK_OK(rv_shuffle(&r1b, N, b));
    CHECK_OK(rv_shuffle(&r2, N, c));
    CHECK_OK(rv_shuffle(&r1, N, e)); /* the next epoch, from the same stream */
    int ok = 1, moved = 0;
    for (int i = 0; i < N; i++) {
        ok &= a[i] >= 0 && a[i] < N && !seen[a[i]];
        if (a[i] >= 0 && a[i] < N) seen[a[i]] = 1;
        moved += a[i] != i;
    }
    printf("shuffle of %d: a permutation %s, %d items moved\n", N, ok ? "yes" : "NO", moved);
    CHECK(ok, "the shuffle is not a permutation");
    CHECK(moved > N / 2, "only %d of %d items moved", moved, N);
    CHECK(memcmp(a, b, sizeof a) == 0, "the same seed gave another order");
    CHECK(memcmp(a, c, sizeof a) != 0, "seeds 1 and 2 gave the same order");
    CHECK(memcmp(a, e, sizeof a) != 0, "two epochs in the same order");

    /* the 6 orders of 3 items, 60,000 shuffles: 10,000 each, sd 91; 400 is
     * 4.4 sd, while the biased shuffles put some order at 8,889 or 0 */
    enum { DRAWS = 60000 };
    int count[3][3][3] = {{{0}}};
    rv_rng r = rv_rng_seed(3);
    for (int k = 0; k < DRAWS; k++) {
        int64_t p[3];
        CHECK_OK(rv_shuffle(&r, 3, p));
        count[p[0]][p[1]][p[2]]++;
    }
    int lo = DRAWS, hi = 0;
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 3; k++)
                if (i != j && j != k && i != k) {
                    lo = count[i][j][k] < lo ? count[i][j][k] : lo;
                    hi = count[i][j][k] > hi ? count[i][j][k] : hi;
                }
    printf("shuffle of 3, %d times: each order %d to %d times (10000 +- 400 allowed) -> %s\n",
           DRAWS, lo, hi, lo >= 9600 && hi <= 10400 ? "ok" : "FAIL");
    CHECK(lo >= 9600 && hi <= 10400, "orders of 3 items from %d to %d times", lo, hi);
    int64_t one = -1;
    CHECK_OK(rv_shuffle(&r, 1, &one));
    CHECK(one == 0, "shuffle of 1 item gave %lld", (long long)one);
    CHECK_OK(rv_shuffle(&r, 0, NULL));
    CHECK(rv_shuffle(&r, -1, a) == RV_EINVAL, "-1 items taken");
}

/* A tiny data set: image i's pixel k is (7 i + 3 k) mod 256, label i mod 10. */
enum { DATA = 5, PX = RV_FASHION_SIZE * RV_FASHION_SIZE };
static unsigned char images[DATA * PX], labels[DATA];
static const rv_fashion data = {.count = DATA, .images = images, .labels = labels};

static void make_data(void)
{
    for (int i = 0; i < DATA; i++) {
        labels[i] = (unsigned char)(i % 10);
        for (int k = 0; k < PX; k++) images[i * PX + k] = (unsigned char)((7 * i + 3 * k) % 256);
    }
}

static void test_batch_fill(void)
{
    const double mean = 0.3, std = 0.35;
    const int64_t idx[3] = {3, 0, 4};
    rv_tensor x, one;
    int32_t lab[3] = {-1, -1, -1};
    CHECK_OK(rv_tensor_alloc4(&x, RV_CPU, 3, 1, 28, 28, "batch"));
    CHECK_OK(rv_tensor_alloc4(&one, RV_CPU, 1, 1, 28, 28, "one image"));
    CHECK_OK(rv_batch_fill(&data, idx, mean, std, &x, lab));
    int same = 1;
    for (int i = 0; i < 3; i++) {
        CHECK_OK(rv_fashion_images(&data, idx[i], mean, std, &one));
        same &= memcmp(x.data + i * PX, one.data, PX * sizeof(float)) == 0;
        CHECK(lab[i] == labels[idx[i]], "label %d: %d, want %d", i, lab[i], labels[idx[i]]);
    }
    printf("batch of images 3, 0, 4: the loader's images bit for bit %s\n", same ? "yes" : "NO");
    CHECK(same, "the batch's images are not the loader's");
    const int64_t outside[3] = {1, 5, 0};
    CHECK_OK(rv_tensor_fill(&x, 7.0f));
    CHECK(rv_batch_fill(&data, outside, mean, std, &x, lab) == RV_EINVAL, "index 5 of 5 taken");
    CHECK(strstr(rv_last_error(), "5") != NULL, "error '%s' names no index", rv_last_error());
    CHECK(x.data[0] == 7.0f && lab[0] == labels[3], "a refused batch changed x or the labels");
    rv_tensor_free(&x);
    rv_tensor_free(&one);
}

/* x[n][c][u][v] = 10000 n + 1000 c + 30 u + v + 1: each pixel says where it is (never 0) */
enum { AN = 4, AC = 2, AH = 7, AW = 6, PAD = 2 };
static float code(int n, int c, int u, int v)
{
    return 10000.f * n + 1000.f * c + 30.f * u + v + 1;
}

static void test_augment_apply(void)
{
    rv_tensor x, y, z;
    CHECK_OK(rv_tensor_alloc4(&x, RV_CPU, AN, AC, AH, AW, "x"));
    CHECK_OK(rv_tensor_alloc4(&y, RV_CPU, AN, AC, AH, AW, "y"));
    CHECK_OK(rv_tensor_alloc4(&z, RV_CPU, AN, AC, AH, AW, "z"));
    for (int n = 0; n < AN; n++)
        for (int c = 0; c < AC; c++)
            for (int u = 0; u < AH; u++)
                for (int v = 0; v < AW; v++)
                    x.data[((n * AC + c) * AH + u) * AW + v] = code(n, c, u, v);
    const rv_augment_params p = {.pad = PAD, .flip = 1, .fill = -0.5f};
    /* image 0 shifted down-right (its top-left corner lands at (2, 1)), 1 up-left, 2 flipped, 3
     * both */
    const rv_augment_draw d[AN] = {{.oy = 0, .ox = 1},
                                   {.oy = 4, .ox = 3},
                                   {.oy = 2, .ox = 2, .flip = 1},
                                   {.oy = 3, .ox = 0, .flip = 1}};
    CHECK_OK(rv_augment_apply(&x, d, &p, &y));
    int wrong = 0, fills = 0, want_fills = 0;
    for (int n = 0; n < AN; n++) {
        int dy = d[n].oy - PAD, dx = d[n].ox - PAD;
        want_fills += AC * (AH * AW - (AH - abs(dy)) * (AW - abs(dx)));
        for (int c = 0; c < AC; c++)
            for (int i = 0; i < AH; i++)
                for (int j = 0; j < AW; j++) {
                    float got = y.data[((n * AC + c) * AH + i) * AW + j];
                    if (got == p.fill) {
                        fills++;
                        continue;
                    }
                    /* decode where the pixel came from */
                    int g = (int)got - 1, sn = g / 10000, sc = g % 10000 / 1000, su = g % 1000 / 30,
                        sv = g % 1000 % 30;
                    int col = d[n].flip ? AW - 1 - j : j; /* the column before the flip */
                    wrong += sn != n || sc != c || su != i + dy || sv != col + dx;
                }
    }
    printf("crop and flip of %d images: %d pixels from the wrong place, %d border pixels (want "
           "%d) -> %s\n",
           AN, wrong, fills, want_fills, !wrong && fills == want_fills ? "ok" : "FAIL");
    CHECK(!wrong && fills == want_fills, "crop: %d wrong, %d of %d border pixels", wrong, fills,
          want_fills);
    /* landmarks, by hand: image 0's top-left pixel moved to (2, 1); image 1's (2, 1) to (0, 0) */
    CHECK(y.data[(0 * AC * AH + 2) * AW + 1] == code(0, 0, 0, 0), "image 0 not shifted by (2, 1)");
    CHECK(y.data[1 * AC * AH * AW] == code(1, 0, 2, 1), "image 1 not shifted by (-2, -1)");
    CHECK(y.data[2 * AC * AH * AW] == code(2, 0, 0, AW - 1), "image 2 not mirrored");

    const rv_augment_draw keep[AN] = {{2, 2, 0}, {2, 2, 0}, {2, 2, 0}, {2, 2, 0}},
                          mirror[AN] = {{2, 2, 1}, {2, 2, 1}, {2, 2, 1}, {2, 2, 1}};
    CHECK_OK(rv_augment_apply(&x, keep, &p, &y));
    CHECK(memcmp(x.data, y.data, rv_tensor_bytes(&x)) == 0, "offset (2, 2) changed the images");
    CHECK_OK(rv_augment_apply(&x, mirror, &p, &y));
    CHECK(memcmp(x.data, y.data, rv_tensor_bytes(&x)) != 0, "a flip changed nothing");
    CHECK_OK(rv_augment_apply(&y, mirror, &p, &z));
    CHECK(memcmp(x.data, z.data, rv_tensor_bytes(&x)) == 0, "a flip twice is not the image");

    const rv_augment_draw far[AN] = {{0, 0, 0}, {5, 0, 0}, {0, 0, 0}, {0, 0, 0}};
    CHECK(rv_augment_apply(&x, far, &p, &y) == RV_EINVAL, "offset 5 with a border of 2 taken");
    CHECK(strstr(rv_last_error(), "image 1") != NULL, "error '%s' names no image", rv_last_error());
    CHECK(rv_augment_apply(&x, keep, &p, &x) == RV_EINVAL, "x and y in the same memory taken");
    rv_tensor_free(&x);
    rv_tensor_free(&y);
    rv_tensor_free(&z);
}

static void test_augment_draws(void)
{
    enum { N = 4000 };
    static rv_augment_draw d[N], e[N];
    const rv_augment_params p = {.pad = PAD, .flip = 1};
    rv_rng r = rv_rng_seed(5), r2 = rv_rng_seed(5);
    CHECK_OK(rv_augment_draws(&r, &p, N, d));
    CHECK_OK(rv_augment_draws(&r2, &p, N, e));
    CHECK(memcmp(d, e, sizeof d) == 0, "the same seed drew other augmentations");
    int hits[2][5] = {{0}}, flips = 0, inside = 1;
    for (int i = 0; i < N; i++) {
        inside &= d[i].oy >= 0 && d[i].oy <= 2 * PAD && d[i].ox >= 0 && d[i].ox <= 2 * PAD;
        if (!inside) break;
        hits[0][d[i].oy]++;
        hits[1][d[i].ox]++;
        flips += d[i].flip;
    }
    int lo = N;
    for (int a = 0; a < 2 && inside; a++)
        for (int o = 0; o < 5; o++) lo = hits[a][o] < lo ? hits[a][o] : lo;
    /* each offset 800 times, sd 25; flips 2000, sd 32 */
    printf("%d draws: offsets within 0..4 %s, each at least %d times (700 allowed), %d flips "
           "(1850..2150 allowed)\n",
           N, inside ? "yes" : "NO", lo, flips);
    CHECK(inside && lo >= 700, "offsets outside 0..4 or some offset rare (%d)", lo);
    CHECK(flips >= 1850 && flips <= 2150, "%d flips of %d", flips, N);
    const rv_augment_params no_flip = {.pad = PAD, .flip = 0};
    CHECK_OK(rv_augment_draws(&r, &no_flip, N, d));
    flips = 0;
    for (int i = 0; i < N; i++) flips += d[i].flip;
    CHECK(flips == 0, "%d flips with flipping off", flips);
    const rv_augment_params neg = {.pad = -1};
    CHECK(rv_augment_draws(&r, &neg, 1, d) == RV_EINVAL, "a border of -1 taken");
}

/* Two batches of 4 from the shuffle, augmented, as a training step sees them. */
static void pipeline(uint64_t seed, float *out /* (2, 4, 1, 28, 28) */, int32_t *lab /* (8) */)
{
    rv_rng order = rv_rng_seed(seed), aug = rv_rng_seed(seed ^ 0x5eed);
    const rv_augment_params p = {.pad = 2, .flip = 1, .fill = 0.0f};
    int64_t perm[DATA];
    rv_augment_draw d[4];
    rv_tensor x, y;
    CHECK_OK(rv_tensor_alloc4(&x, RV_CPU, 4, 1, 28, 28, "batch"));
    CHECK_OK(rv_shuffle(&order, DATA, perm));
    for (int b = 0; b < 2; b++) {
        int64_t idx[4];
        for (int i = 0; i < 4; i++) idx[i] = perm[(4 * b + i) % DATA];
        y = rv_tensor_view(out + b * 4 * PX, RV_CPU, 4, (const int64_t[]){4, 1, 28, 28});
        CHECK_OK(rv_batch_fill(&data, idx, 0.3, 0.35, &x, lab + 4 * b));
        CHECK_OK(rv_augment_draws(&aug, &p, 4, d));
        CHECK_OK(rv_augment_apply(&x, d, &p, &y));
    }
    rv_tensor_free(&x);
}

static void test_reproducible(void)
{
    static float a[8 * PX], b[8 * PX], c[8 * PX];
    int32_t la[8], lb[8], lc[8];
    pipeline(34, a, la);
    pipeline(34, b, lb);
    pipeline(35, c, lc);
    int same = memcmp(a, b, sizeof a) == 0 && memcmp(la, lb, sizeof la) == 0;
    int other = memcmp(a, c, sizeof a) != 0;
    printf("two batches from seed 34, twice: bit for bit the same %s; from seed 35: other %s\n",
           same ? "yes" : "NO", other ? "yes" : "NO");
    CHECK(same, "seed 34 gave two different runs");
    CHECK(other, "seeds 34 and 35 gave the same batches");
}

int main(int argc, char **argv)
{
    rv_device dev;
    int rc = rv_test_init(argc, argv, "test_batch [--device cpu]: shuffling, batches, augmentation",
                          &dev);
    if (rc >= 0) return rc;
    if (dev != RV_CPU) {
        fprintf(stderr, "test_batch: the data pipeline runs on the CPU only\n");
        return 2;
    }
    make_data();
    test_shuffle();
    test_batch_fill();
    test_augment_apply();
    test_augment_draws();
    test_reproducible();
    return rv_test_finish("test_batch");
}
