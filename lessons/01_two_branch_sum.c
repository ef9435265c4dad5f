/* Lesson 01 - two-branch sum fusion (the notebook's TwoBranches cell).
 *
 * Two 3x3 convs that read the same input and are summed equal one 3x3 conv
 * whose weights and biases are the sums, because convolution is linear in
 * its kernel:
 *
 *     conv(x, W1) + b1 + conv(x, W2) + b2 = conv(x, W1 + W2) + (b1 + b2)
 *
 * The identity is exact in real arithmetic. In float32 the two sides round
 * differently, so random data agree within RV_TOL_FP32 (src/rv_check.h); on
 * small integers every sum is exact and the outputs must be bit-identical.
 *
 * Run:   build/bin/01_two_branch_sum [--device auto|cpu|cuda] [--batch N]
 *                                    [--channels C] [--size S] [--repeat R]
 * Defaults are the notebook's: 8 -> 8 channels, 1x8x7x7 input, no padding.
 * Exit:  0 PASS (both checks agree), 1 FAIL, 2 bad usage or no such device.
 *
 * The notebook timed the first call of each form with no warm-up and no
 * synchronisation and printed 0.182160 s vs 0.000163 s. This lesson prints
 * that measurement beside an honest one; lesson 07 takes it apart.
 */
#include <stdio.h>

#include "rv_check.h"
#include "rv_cli.h"
#include "rv_ops.h"
#include "rv_report.h"

typedef struct {
    rv_tensor x, w1, b1, w2, b2, wf, bf; /* x: (N, C, S, S), w*: (C, C, 3, 3), b*: (C) */
    rv_tensor y1, y2, y, yf;             /* outputs: (N, C, S-2, S-2) */
} lesson;

static const rv_conv_params P = {.stride = 1, .pad = 0, .groups = 1, .relu = 0};

static rv_status two_branches(void *ctx)
{
    lesson *l = ctx;
    rv_status st = rv_conv2d(&l->x, &l->w1, &l->b1, P, &l->y1);
    if (st == RV_OK) st = rv_conv2d(&l->x, &l->w2, &l->b2, P, &l->y2);
    if (st == RV_OK) st = rv_add(&l->y1, &l->y2, &l->y);
    return st;
}

static rv_status fused(void *ctx)
{
    lesson *l = ctx;
    return rv_conv2d(&l->x, &l->wf, &l->bf, P, &l->yf);
}

/* Builds both forms on `dev` from seeded data: small integers or floats. */
static rv_status build(lesson *l, rv_device dev, int n, int c, int s, int integers)
{
    rv_rng rng = rv_rng_seed(integers ? 2 : 1);
    rv_tensor host[5];
    int64_t shape[5][4] = {{n, c, s, s}, {c, c, 3, 3}, {c}, {c, c, 3, 3}, {c}};
    int rank[5] = {4, 4, 1, 4, 1};
    rv_tensor *dst[5] = {&l->x, &l->w1, &l->b1, &l->w2, &l->b2};
    rv_status st = RV_OK;
    for (int i = 0; i < 5 && st == RV_OK; i++) {
        st = rv_tensor_alloc(&host[i], RV_CPU, rank[i], shape[i], "lesson input");
        if (st != RV_OK) break;
        if (integers)
            rv_tensor_fill_int(&host[i], &rng, -3, 3);
        else
            rv_tensor_fill_uniform(&host[i], &rng, i == 0 ? -1.0f : -0.5f, i == 0 ? 1.0f : 0.5f);
        st = rv_tensor_clone(dst[i], &host[i], dev, "lesson input");
        rv_tensor_free(&host[i]);
    }
    /* The fusion itself: sum the weights, sum the biases. */
    if (st == RV_OK) st = rv_tensor_alloc(&l->wf, dev, 4, shape[1], "fused weight");
    if (st == RV_OK) st = rv_tensor_alloc(&l->bf, dev, 1, shape[2], "fused bias");
    if (st == RV_OK) st = rv_add(&l->w1, &l->w2, &l->wf);
    if (st == RV_OK) st = rv_add(&l->b1, &l->b2, &l->bf);
    rv_tensor *out[4] = {&l->y1, &l->y2, &l->y, &l->yf};
    for (int i = 0; i < 4 && st == RV_OK; i++)
        st = rv_tensor_alloc4(out[i], dev, n, c, s - 2, s - 2, "lesson output");
    return st;
}

static void destroy(lesson *l)
{
    rv_tensor *all[11] = {&l->x,  &l->w1, &l->b1, &l->w2, &l->b2, &l->wf,
                          &l->bf, &l->y1, &l->y2, &l->y,  &l->yf};
    for (int i = 0; i < 11; i++) rv_tensor_free(all[i]);
}

/* Builds, runs both forms and compares them; 1 when they agree. */
static int check(rv_device dev, int n, int c, int s, int integers)
{
    lesson l = {0};
    int ok = build(&l, dev, n, c, s, integers) == RV_OK && two_branches(&l) == RV_OK &&
             fused(&l) == RV_OK;
    if (!ok) printf("error: %s\n", rv_last_error());
    ok = ok &&
         rv_expect_close(stdout,
                         integers ? "  small integers, bit-exact" : "  random floats, RV_TOL_FP32",
                         &l.yf, &l.y, integers ? RV_TOL_EXACT : RV_TOL_FP32);
    destroy(&l);
    return ok;
}

int main(int argc, char **argv)
{
    int batch = 1, channels = 8, size = 7, repeat = 100;
    rv_device dev;
    int rc = rv_lesson_options(argc, argv,
                               "01_two_branch_sum: conv(x,W1)+b1 + conv(x,W2)+b2 == "
                               "conv(x,W1+W2)+(b1+b2)",
                               &batch, &channels, &size, &repeat, NULL, 0, &dev);
    if (rc >= 0) return rc;
    if (size < 3) {
        fprintf(stderr, "%s: --size: must be >= 3 for a 3x3 conv without padding, got %d\n",
                argv[0], size);
        return 2;
    }

    printf("Lesson 01: two-branch sum fusion, %dx%dx%dx%d input, %d -> %d channels, 3x3, no "
           "padding\n",
           batch, channels, size, size, channels, channels);
    rv_print_device(dev);

    lesson l = {0};
    if (build(&l, dev, batch, channels, size, 0) != RV_OK) {
        fprintf(stderr, "%s: %s\n", argv[0], rv_last_error());
        destroy(&l);
        return 1;
    }
    /* The notebook's measurement: the very first call of each form, in its
     * order, host clock, no warm-up, no synchronisation. */
    double naive_two, naive_fused;
    rv_status st = rv_time_naive(two_branches, &l, &naive_two);
    if (st == RV_OK) st = rv_time_naive(fused, &l, &naive_fused);
    if (st == RV_OK) st = rv_device_sync(dev);

    printf("\nDo the forms agree?\n");
    int pass =
        st == RV_OK && check(dev, batch, channels, size, 0) && check(dev, batch, channels, size, 1);

    printf("\nThe notebook's measurement (first call, no warm-up, no sync):\n");
    printf("  two branches %.6f s, fused %.6f s (the notebook printed 0.182160 s vs 0.000163 s)\n",
           naive_two / 1e3, naive_fused / 1e3);
    printf("  The first call pays one-time set-up (page faults, thread pools; on a GPU the "
           "context,\n  cuBLAS handle and module loading), so it says nothing about the forms.\n");

    rv_form_result r_two, r_fused;
    if (st == RV_OK) st = rv_measure_form(two_branches, &l, dev, 10, repeat, &r_two);
    if (st == RV_OK) st = rv_measure_form(fused, &l, dev, 10, repeat, &r_fused);
    if (st == RV_OK) {
        printf("\nHonest measurement (10 warm-up runs, synchronised, median of %d):\n", repeat);
        rv_print_form("two branches (2 conv + add)", &r_two);
        rv_print_form("fused (1 conv)", &r_fused);
        printf("  fused is %.2fx the speed of two branches (median / median)\n",
               r_two.time.median_ms / r_fused.time.median_ms);
    } else {
        fprintf(stderr, "%s: %s\n", argv[0], rv_last_error());
        pass = 0;
    }
    destroy(&l);
    printf("\n%s: fused conv %s the two-branch sum on %s\n", pass ? "PASS" : "FAIL",
           pass ? "matches" : "does NOT match", rv_device_name(dev));
    return pass ? 0 : 1;
}
