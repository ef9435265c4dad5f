/* test_int8_a0.c - RepVGG-A0 and its QARepVGG twin as lesson 10 and the
 * bench's INT8 experiment build them (rv_quant_nets_build), held to what the
 * lesson's numbers rest on:
 *   - every kernel that either form of either network quantizes, with one
 *     grid per kernel or one per output channel, sits on its INT8 grid: each
 *     weight an integer number of steps s in [-128, 127], at most s/2 from
 *     its float32 value (rv_block_fake_quant against the BN-folded kernels);
 *   - every block's deploy-time form computes what its train-time form does,
 *     alone on a seeded input in [0, 1) (a ReLU's output), to float32's
 *     bound: the fold is exact in real arithmetic;
 *   - rv_kernel_taps, which sorts the folded kernels' weights for the lesson
 *     and the chart int8_weights, on a kernel whose every weight says where
 *     it is, and its counts of each kind on A0's folded kernels;
 *   - what the lesson prints from them, on numbers worked out by hand:
 *     rv_kernel_tap_stats and rv_magnitude_range on a kernel with one weight
 *     of each kind, rv_median, and rv_quant_nets_median_db on A0's blocks.
 * A0 on one 3x32x32 image, one calibration image, the lesson's seed.
 */
#include <math.h>
#include <stdlib.h>

#include "rv_quant_net.h"
#include "rv_test.h"
#include "rv_timing.h"

enum { NETS = 2, FORMS = 2, GRAINS = 2 };
static const char *const net_name[NETS] = {"RepVGG", "QARepVGG"};
static const char *const form_name[FORMS] = {"train-time", "deploy-time"};
static const rv_quant_grain grains[GRAINS] = {RV_QUANT_PER_TENSOR, RV_QUANT_PER_CHANNEL};

/* 1 when wq is w rounded onto w's INT8 grid (one step for w, or one per
 * output channel): every wq / s an integer in [-128, 127] up to float
 * rounding, and |wq - w| <= s / 2. Host tensors of one shape. */
static int on_grid(const rv_tensor *wq, const rv_tensor *w, int per_channel)
{
    const int64_t O = w->dim[0], inner = rv_tensor_numel(w) / O;
    double amax = 0.0, ch = 0.0;
    for (int64_t j = 0; j < O * inner; j++) amax = fmax(amax, fabs(w->data[j]));
    for (int64_t o = 0; o < O; o++) {
        for (int64_t j = 0; j < inner && per_channel; j++)
            ch = fmax(j ? ch : 0.0, fabs(w->data[o * inner + j]));
        double s = rv_quant_scale((float)(per_channel ? ch : amax));
        for (int64_t j = o * inner; j < (o + 1) * inner; j++) {
            double q = wq->data[j] / s;
            if (fabs(q - nearbyint(q)) > 1e-3 || q < RV_QINT8_MIN - 1e-3 ||
                q > RV_QINT8_MAX + 1e-3 || fabs(wq->data[j] - w->data[j]) > 0.5 * s * (1 + 1e-4))
                return 0;
        }
    }
    return 1;
}

/* Every conv branch of every block, both forms, both networks, both grains. */
static void test_grids(const rv_quant_nets *q)
{
    int kernels = 0;
    for (int n = 0; n < NETS; n++)
        for (int f = 0; f < FORMS; f++)
            for (int g = 0; g < GRAINS; g++)
                for (int i = 0; i < q->n_blocks; i++) {
                    const rv_block *b = &q->net[n][f].blocks[i];
                    rv_block fq = {0};
                    CHECK_OK(rv_block_fake_quant(b, grains[g], &fq));
                    for (int j = 0; j < b->spec.n_branches && fq.spec.n_branches; j++) {
                        if (b->spec.branch[j].kind != RV_BRANCH_CONV) continue;
                        rv_tensor w = {0}, bias = {0}, wq = {0};
                        CHECK_OK(rv_branch_kernel_fused(b, j, &w, &bias));
                        CHECK_OK(rv_tensor_clone(&wq, &fq.branch[j].w, RV_CPU, "quantized"));
                        CHECK(w.data && wq.data && on_grid(&wq, &w, g == 1),
                              "%s %s, block %d, branch %d, %s: a weight is off its grid",
                              net_name[n], form_name[f], i, j, g ? "per channel" : "per tensor");
                        kernels++;
                        rv_tensor *all[3] = {&w, &bias, &wq};
                        for (int k = 0; k < 3; k++) rv_tensor_free(all[k]);
                    }
                    rv_block_free(&fq);
                }
    printf("%d quantized kernels checked against their INT8 grid\n", kernels);
    CHECK(kernels > 4 * q->n_blocks, "only %d kernels for %d blocks", kernels, q->n_blocks);
}

/* Block k of a network's two forms on one seeded 1 x C x 9 x 9 input. */
static void test_block_alone(const rv_net *net, int k, int n, rv_device dev)
{
    const rv_block *b = &net[RV_FORM_TRAIN].blocks[k];
    rv_tensor x = {0}, y = {0}, yf = {0}, t = {0};
    rv_rng rng = rv_rng_seed(100 + (uint64_t)k);
    int64_t out[4];
    CHECK_OK(rv_tensor_random(&x, dev, 4, (const int64_t[]){1, b->spec.in_ch, 9, 9}, &rng, 0.0f,
                              1.0f, "block input"));
    CHECK_OK(rv_block_out_shape(&b->spec, &x, out));
    rv_tensor *o[3] = {&y, &yf, &t};
    for (int i = 0; i < 3; i++) CHECK_OK(rv_tensor_alloc(o[i], dev, 4, out, "output"));
    CHECK_OK(rv_block_forward(b, &x, &t, &y));
    CHECK_OK(rv_block_forward(&net[RV_FORM_DEPLOY].blocks[k], &x, NULL, &yf));
    char what[96];
    snprintf(what, sizeof what, "%s, block %d alone on a 1x%lldx9x9 input", net_name[n], k,
             (long long)b->spec.in_ch);
    CHECK_CLOSE(what, &yf, &y, RV_TOL_FP32);
    rv_tensor *all[4] = {&x, &y, &yf, &t};
    for (int i = 0; i < 4; i++) rv_tensor_free(all[i]);
}

/* What the visitor saw: a copy of each tap, in order. */
typedef struct {
    rv_tap taps[64];
    int n;
    int64_t count[RV_TAP_KINDS];
} tap_log;

static void log_tap(void *ctx, const rv_tap *t)
{
    tap_log *l = ctx;
    if (l->n < 64) l->taps[l->n] = *t;
    l->n++;
    l->count[t->kind]++;
}

/* A (2, 2, 3, 3) kernel whose weight at (o, c, r, k) is +-(1 + its index):
 * every tap of the right kind, in memory order, with its channel's and the
 * kernel's largest |w|. */
static void test_taps_by_hand(void)
{
    rv_tensor w = {0};
    CHECK_OK(rv_tensor_alloc4(&w, RV_CPU, 2, 2, 3, 3, "kernel"));
    for (int64_t j = 0; j < 36; j++) w.data[j] = (float)((j % 2 ? -1 : 1) * (1 + j));
    tap_log l = {.n = 0};
    CHECK_OK(rv_kernel_taps(&w, log_tap, &l));
    int right = l.n == 36;
    for (int64_t j = 0; j < 36 && right; j++) {
        const rv_tap *t = &l.taps[j];
        int64_t o = j / 18, c = j / 9 % 2, pos = j % 9;
        rv_tap_kind kind = pos != 4 ? RV_TAP_OUTER : c == o ? RV_TAP_IDENTITY : RV_TAP_CENTRE;
        right = t->o == o && t->j == j % 18 && t->kind == kind && t->a == (double)(1 + j) &&
                t->ch_max == (double)(18 * (o + 1)) && t->max == 36.0;
    }
    CHECK(right, "rv_kernel_taps on a 2x2x3x3 kernel: a tap out of place, of the wrong kind "
                 "or with the wrong magnitudes");
    CHECK(l.count[RV_TAP_IDENTITY] == 2 && l.count[RV_TAP_CENTRE] == 2 &&
              l.count[RV_TAP_OUTER] == 32,
          "2x2x3x3: %lld identity, %lld centre, %lld outer taps (expected 2, 2, 32)",
          (long long)l.count[RV_TAP_IDENTITY], (long long)l.count[RV_TAP_CENTRE],
          (long long)l.count[RV_TAP_OUTER]);
    rv_tensor_free(&w);
}

static int near(double a, double b) { return fabs(a - b) <= 1e-6 * fmax(1.0, fabs(b)); }

/* A (2, 2, 3, 3) kernel, zero but for: channel 0's identity tap 127.5 (so
 * the kernel's grid has step 1); channel 1's identity tap 0.5, its other
 * centre tap 12.75 (its own grid: step 0.1) and one outer tap 0.375, which
 * rounds to 0 on the kernel's grid (< 1/2) but not on its channel's. */
static void test_tap_stats_by_hand(void)
{
    rv_tensor w = {0};
    CHECK_OK(rv_tensor_alloc4(&w, RV_CPU, 2, 2, 3, 3, "kernel"));
    for (int64_t j = 0; j < 36; j++) w.data[j] = 0.0f;
    w.data[4] = 127.5f;        /* (0, 0, 1, 1) */
    w.data[18 + 9 + 4] = 0.5f; /* (1, 1, 1, 1) */
    w.data[18 + 4] = -12.75f;  /* (1, 0, 1, 1) */
    w.data[18] = 0.375f;       /* (1, 0, 0, 0) */
    rv_tap_stats t;
    CHECK_OK(rv_kernel_tap_stats(&w, &t));
    CHECK(near(t.step, 1.0), "tap stats: step %g (expected 1)", t.step);
    CHECK(near(t.max[RV_TAP_IDENTITY], 127.5) && near(t.max[RV_TAP_CENTRE], 12.75) &&
              near(t.max[RV_TAP_OUTER], 0.375),
          "tap stats: largest |w| %g, %g, %g by kind (expected 127.5, 12.75, 0.375)",
          t.max[RV_TAP_IDENTITY], t.max[RV_TAP_CENTRE], t.max[RV_TAP_OUTER]);
    CHECK(near(t.rms[RV_TAP_IDENTITY], sqrt((127.5 * 127.5 + 0.25) / 2)) &&
              near(t.rms[RV_TAP_CENTRE], 12.75 / sqrt(2.0)) &&
              near(t.rms[RV_TAP_OUTER], 0.375 / sqrt(32.0)),
          "tap stats: rms %g, %g, %g by kind", t.rms[RV_TAP_IDENTITY], t.rms[RV_TAP_CENTRE],
          t.rms[RV_TAP_OUTER]);
    CHECK(near(t.zero[0], 1.0) && near(t.zero[1], 31.0 / 32),
          "tap stats: %g and %g of the outer taps round to 0 (expected 1 per kernel, 31/32 per "
          "channel)",
          t.zero[0], t.zero[1]);
    CHECK(near(t.ch_min, 0.1) && near(t.ch_med, 0.55),
          "tap stats: channels' max over the kernel's: smallest %g, median %g (expected 0.1, "
          "0.55)",
          t.ch_min, t.ch_med);
    double hi, lo;
    rv_magnitude_range(&w, &hi, &lo);
    CHECK(hi == 127.5 && lo == 0.375, "magnitude range %g .. %g (expected 0.375 .. 127.5)", lo, hi);
    rv_tensor_free(&w);
    double odd[3] = {3, 1, 2}, even[4] = {4, 1, 3, 2};
    CHECK(rv_median(odd, 3) == 2.0 && rv_median(even, 4) == 2.5 && isnan(rv_median(odd, 0)),
          "rv_median: of 3 1 2, of 4 1 3 2, of nothing (expected 2, 2.5, NAN)");
}

/* A0's blocks with an identity branch (stride 1) are 2, 4-6 and 8-20: with
 * block i's SQNR set to i (weights) and -i (output alone), and 1000 at the
 * others, the medians are 12 and -12. Run last: it overwrites q's errors. */
static void test_median_db(rv_quant_nets *q)
{
    for (int i = 0; i < q->n_blocks; i++) {
        int id = rv_block_find_branch(&q->net[0][0].blocks[i].spec, RV_BRANCH_IDENTITY) >= 0;
        q->err[1][1][1][i].weights.sqnr_db = id ? i : 1000;
        q->err[1][1][1][i].alone.sqnr_db = id ? -i : 1000;
    }
    double w = rv_quant_nets_median_db(q, 1, 1, RV_QUANT_PER_CHANNEL, 0),
           a = rv_quant_nets_median_db(q, 1, 1, RV_QUANT_PER_CHANNEL, 1);
    CHECK(w == 12.0 && a == -12.0,
          "rv_quant_nets_median_db over A0's identity blocks: %g and %g (expected 12, -12)", w, a);
}

/* On each deploy-time kernel of A0: O identity taps, O (I - 1) other centre
 * taps, O I (KH KW - 1) outer ones. */
static void test_taps_counts(const rv_quant_nets *q)
{
    int wrong = 0;
    for (int i = 0; i < q->n_blocks; i++) {
        rv_tensor w = {0};
        tap_log l = {.n = 0};
        CHECK_OK(rv_tensor_clone(&w, &q->net[0][RV_FORM_DEPLOY].blocks[i].branch[0].w, RV_CPU,
                                 "folded kernel"));
        CHECK_OK(rv_kernel_taps(&w, log_tap, &l));
        const int64_t O = w.dim[0], I = w.dim[1], K = w.dim[2] * w.dim[3];
        wrong += l.count[RV_TAP_IDENTITY] != O || l.count[RV_TAP_CENTRE] != O * (I - 1) ||
                 l.count[RV_TAP_OUTER] != O * I * (K - 1);
        rv_tensor_free(&w);
    }
    CHECK(!wrong, "%d of A0's folded kernels with the wrong count of a kind of tap", wrong);
}

int main(int argc, char **argv)
{
    rv_device dev;
    int rc = rv_test_init(argc, argv,
                          "test_int8_a0 --device cpu|cuda: RepVGG-A0 and QARepVGG-A0 in INT8, "
                          "as lesson 10 builds them",
                          &dev);
    if (rc >= 0) return rc;
    test_taps_by_hand();
    test_tap_stats_by_hand();
    rv_arch arch;
    rv_block_spec specs[RV_MAX_BLOCKS];
    int n = 0;
    rv_quant_nets *q = calloc(1, sizeof *q);
    CHECK(q != NULL, "out of memory");
    CHECK_OK(rv_arch_preset("A0", &arch));
    CHECK_OK(rv_arch_specs(&arch, 3, specs, &n));
    if (q && rv_quant_nets_build(q, specs, n, dev, 1, 32, 1, RV_QUANT_SEED) == RV_OK) {
        test_grids(q);
        for (int m = 0; m < NETS; m++)
            for (int k = 0; k < q->n_blocks; k++) test_block_alone(q->net[m], k, m, dev);
        test_taps_counts(q);
        test_median_db(q);
        rv_quant_nets_free(q);
    } else {
        CHECK(0, "rv_quant_nets_build: %s", rv_last_error());
    }
    free(q);
    return rv_test_finish("test_int8_a0");
}
