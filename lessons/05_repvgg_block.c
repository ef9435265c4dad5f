/* Lesson 05 - the whole RepVGG block becomes one 3x3 conv (the notebook's
 * get_fused_conv_state_dict_from_block and RepVGGBlock.to_fast).
 *
 * Train-time block:  y = ReLU( BN3(conv3x3(x)) + BN1(conv1x1(x)) + BNid(x) )
 * Deploy-time block: y = ReLU( conv3x3(x, W) + b ) with
 *     W = W3*s3 + pad(W1*s1) + I*sid,   b = t3 + t1 + tid
 * where s = gamma / sqrt(var + eps), t = beta - mean * s for each BN
 * (lesson 02), pad() grows the 1x1 kernel to 3x3 with zeros (lesson 03) and
 * I is the identity kernel (lesson 04). Every step is linear in the input, so
 * the sum of the fused branches is the fused sum. The identity branch exists
 * only when in == out and stride == 1; at stride 2 (a stage's first block)
 * the block has two branches.
 *
 * Run:   build/bin/05_repvgg_block [--device auto|cpu|cuda] [--batch N]
 *                                  [--channels C] [--size S] [--repeat R]
 * Checks four blocks: C -> C stride 1 (three branches), C -> 2C stride 2
 * and C -> C stride 2 (two branches: the latter is where the notebook's rule,
 * identity whenever in == out, breaks; lesson 06), C -> C stride 1 with
 * groups 2; times the first.
 * Exit:  0 PASS, 1 FAIL, 2 bad usage or no such device.
 */
#include <stdio.h>

#include "rv_block.h"
#include "rv_check.h"
#include "rv_cli.h"
#include "rv_report.h"

/* Builds the block, runs both forms, compares; 1 when they agree. */
static int check(rv_block_pair *l, rv_block_spec spec, rv_device dev, int n, int s)
{
    char what[128];
    snprintf(what, sizeof what, "  %lld -> %lld, stride %d, groups %d, %s", (long long)spec.in_ch,
             (long long)spec.out_ch, spec.stride, spec.groups,
             spec.n_branches == 3 ? "3 branches" : "2 branches (no identity)");
    if (rv_block_pair_build(l, spec, dev, n, s, 5) != RV_OK || rv_block_pair_train(l) != RV_OK ||
        rv_block_pair_fast(l) != RV_OK) {
        printf("%s: error: %s\n", what, rv_lesson_keep_error());
        return 0;
    }
    return rv_expect_close(stdout, what, &l->yf, &l->y, RV_TOL_FP32);
}

int main(int argc, char **argv)
{
    int batch = 1, channels = 8, size = 7, repeat = 100, warmup = 10;
    const char *device;
    rv_device dev;
    int rc = rv_lesson_options(argc, argv,
                               "05_repvgg_block: 3x3 conv-BN + 1x1 conv-BN + identity BN "
                               "== one 3x3 conv with bias, then ReLU",
                               &batch, &channels, &size, &repeat, NULL, 0, &device);
    if (rc >= 0) return rc;
    if (channels % 2) {
        fprintf(stderr, "%s: --channels: must be even (one check uses groups 2), got %d\n", argv[0],
                channels);
        return 2;
    }
    if ((rc = rv_cli_device(argv[0], device, &dev)) >= 0) return rc;

    printf("Lesson 05: the RepVGG block, %dx%dx%dx%d input\n", batch, channels, size, size);
    rv_print_device(dev);
    printf("\nDo the forms agree? (train-time block vs its fused 3x3 conv, RV_TOL_FP32)\n");
    int64_t C = channels;
    rv_block_spec specs[] = {
        rv_repvgg_block_spec(C, C, 1, 1),
        rv_repvgg_block_spec(C, 2 * C, 2, 1),
        rv_repvgg_block_spec(C, C, 2, 1), /* the notebook's bug: lesson 06 */
        rv_repvgg_block_spec(C, C, 1, 2),
    };
    int pass = 1;
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        rv_block_pair t = {0};
        pass &= check(&t, specs[i], dev, batch, size);
        rv_block_pair_free(&t);
    }

    rv_block_pair l = {0};
    rv_form_result r_train = {0}, r_fast = {0};
    rv_status st = rv_block_pair_build(&l, specs[0], dev, batch, size, 5);
    if (st == RV_OK)
        st = rv_measure_pair(rv_block_pair_train, &l, rv_block_pair_fast, &l, dev, warmup, repeat,
                             &r_train, &r_fast);
    r_train.held_bytes = l.held[0]; /* activation buffers, counted as allocated */
    r_fast.held_bytes = l.held[1];
    if (st == RV_OK) {
        printf("\nHonest measurement, %lld -> %lld stride 1 (%d warm-up runs, synchronised, the "
               "two forms by turns, median of %d):\n",
               (long long)C, (long long)C, warmup, repeat);
        rv_print_form("train-time (3 branches)", &r_train);
        rv_print_form("deploy-time (1 conv)", &r_fast);
        printf("  deploy-time is %.2fx the speed of train-time (median / median)\n",
               r_train.time.median_ms / r_fast.time.median_ms);
    } else {
        rv_lesson_keep_error();
    }
    rv_block_pair_free(&l);
    if (rv_lesson_error()[0])
        printf("\nFAIL: %s\n", rv_lesson_error());
    else
        printf("\n%s: every fused block %s its multi-branch block on %s\n", pass ? "PASS" : "FAIL",
               pass ? "matches" : "does NOT match", rv_device_name(dev));
    return pass && !rv_lesson_error()[0] ? 0 : 1;
}
