/* Lesson 01 - two-branch sum fusion (the notebook's TwoBranches cell).
 *
 * Two 3x3 convs that read the same input and are summed equal one 3x3 conv
 * whose weights and biases are the sums, because convolution is linear in
 * its kernel:
 *
 *     conv(x, W1) + b1 + conv(x, W2) + b2 = conv(x, W1 + W2) + (b1 + b2)
 *
 * The identity is exact in real arithmetic. In float32 the two sides round
 * differently, so random data agree within RV_TOL_FP32 (src/base/rv_check.h); on
 * small integers every sum is exact and the outputs must be bit-identical.
 *
 * Run:   build/bin/01_two_branch_sum [--device auto|cpu|cuda] [--batch N]
 *                                    [--channels C] [--size S] [--repeat R]
 * Defaults are the notebook's timing cell (In [5]): 4x8x7x7 input, 8 -> 8
 * channels, no padding (its check, In [4], used one image: --batch 1).
 * Exit:  0 PASS (both checks agree), 1 FAIL, 2 bad usage or no such device.
 *
 * The notebook timed the first call of each form with no warm-up and no
 * synchronisation and printed 0.182160 s vs 0.000163 s. This lesson repeats
 * that measurement beside an honest one; lesson 07 takes it apart.
 */
#include <stdio.h>

#include "rv_check.h"
#include "rv_cli.h"
#include "rv_lesson.h"
#include "rv_notebook.h"
#include "rv_two_branch.h" /* the two forms: rv_two_branch_forward, rv_two_branch_fused */

/* Builds both forms, runs them and compares; 1 when they agree. */
static int check(rv_device dev, int n, int c, int s, int integers)
{
    rv_two_branch t;
    int ok = rv_two_branch_build(&t, dev, n, c, s, integers, integers ? 2 : 1) == RV_OK &&
             rv_two_branch_forward(&t) == RV_OK && rv_two_branch_fused(&t) == RV_OK;
    if (!ok) printf("  error: %s\n", rv_lesson_keep_error());
    ok = ok &&
         rv_expect_close(stdout,
                         integers ? "  small integers, bit-exact (every sum is exact in float32)"
                                  : "  random floats",
                         &t.yf, &t.y, integers ? RV_TOL_EXACT : RV_TOL_FP32);
    rv_two_branch_free(&t);
    return ok;
}

int main(int argc, char **argv)
{
    int batch = 4, channels = 8, size = 7, repeat = 100, warmup = 10;
    const char *device;
    rv_device dev;
    int rc = rv_lesson_options(argc, argv,
                               "01_two_branch_sum: two 3x3 convs of one input, summed, are one "
                               "conv: conv(x,W1)+b1 + conv(x,W2)+b2 == conv(x,W1+W2)+(b1+b2)",
                               &batch, &channels, &size, &repeat, NULL, 0, &device);
    if (rc >= 0) return rc;
    if ((rc = rv_cli_at_least(argv[0], "size", size, 3, "for a 3x3 conv without padding")) >= 0 ||
        (rc = rv_cli_device(argv[0], device, &dev)) >= 0)
        return rc;

    char algebra[640];
    snprintf(algebra, sizeof algebra,
             "conv(x, W1) + b1 + conv(x, W2) + b2 = conv(x, W1 + W2) + (b1 + b2)\n"
             "\n"
             "x: the input, %dx%dx%dx%d (images, channels, height, width); W1, W2: two 3x3\n"
             "kernels, %d -> %d channels, no padding; b1, b2: their biases, one number per\n"
             "output channel. Each output of a conv is a sum of kernel taps times input\n"
             "pixels, so it is linear in the kernel: adding the kernels adds the outputs.\n"
             "Exact in real arithmetic; in float32 the two sides round differently.",
             batch, channels, size, size, channels, channels);
    rv_lesson_begin("Lesson 01: two branches summed are one conv (the notebook's TwoBranches)",
                    algebra, dev);

    rv_two_branch l;
    if (rv_two_branch_build(&l, dev, batch, channels, size, 0, 1) != RV_OK) {
        rv_lesson_keep_error();
        return rv_lesson_end(0, dev, "", "");
    }
    /* The notebook's measurement: the very first call of each form, in its
     * order, host clock, no warm-up, no synchronisation. */
    double naive_two = 0, naive_fused = 0;
    rv_status st = rv_time_naive(rv_two_branch_forward, &l, &naive_two);
    if (st == RV_OK) st = rv_time_naive(rv_two_branch_fused, &l, &naive_fused);
    if (st == RV_OK) st = rv_device_sync(dev);
    if (st != RV_OK) rv_lesson_keep_error();

    rv_lesson_agree_heading("the fused conv's", "the two branches' sum");
    int pass =
        st == RV_OK && check(dev, batch, channels, size, 0) && check(dev, batch, channels, size, 1);

    rv_lesson_form forms[2] = {
        {.name = "two branches (2 convs + add)",
         .fn = rv_two_branch_forward,
         .ctx = &l,
         .activations = l.held[0]},
        {.name = "fused (1 conv)", .fn = rv_two_branch_fused, .ctx = &l, .activations = l.held[1]},
    };
    rv_form_result r[2];
    if (st == RV_OK) {
        printf("\nThe notebook's measurement: the first call of each form, no warm-up, no sync\n");
        printf("  two branches %.6f s, fused %.6f s here; the notebook printed %.6f s and\n"
               "  %.6f s on its GPU\n",
               naive_two / 1e3, naive_fused / 1e3, RV_NOTEBOOK_TWO_BRANCH_S, RV_NOTEBOOK_FUSED_S);
        char what[64];
        snprintf(what, sizeof what, "%dx%dx%dx%d input", batch, channels, size, size);
        st = rv_lesson_compare(dev, what, forms, warmup, repeat, NULL, r);
    }
    if (st == RV_OK)
        printf("  The first calls above took %.1fx (two branches) and %.1fx (fused) these\n"
               "  medians: one first call says little; lesson 07 takes first calls apart.\n",
               naive_two / r[0].time.median_ms, naive_fused / r[1].time.median_ms);
    rv_two_branch_free(&l);
    return rv_lesson_end(pass, dev, "the fused conv matches the two-branch sum",
                         "the fused conv does NOT match the two-branch sum");
}
