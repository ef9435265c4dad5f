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
#include "rv_lesson.h"

/* Builds the block, runs both forms, compares; 1 when they agree. */
static int check(rv_block_pair *l, rv_block_spec spec, rv_device dev, int n, int s)
{
    char what[128];
    snprintf(what, sizeof what, "  %lld -> %lld channels, stride %d, groups %d, %s",
             (long long)spec.in_ch, (long long)spec.out_ch, spec.stride, spec.groups,
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
                               "05_repvgg_block: the RepVGG block, 3x3 conv-BN + 1x1 conv-BN + "
                               "identity BN, summed,\n  then ReLU == one 3x3 conv with bias, "
                               "then ReLU",
                               &batch, &channels, &size, &repeat, NULL, 0, &device);
    if (rc >= 0) return rc;
    if (channels % 2) {
        fprintf(stderr, "%s: --channels: must be even (one check uses groups 2), got %d\n", argv[0],
                channels);
        return 2;
    }
    if ((rc = rv_cli_device(argv[0], device, &dev)) >= 0) return rc;

    char algebra[1400];
    snprintf(algebra, sizeof algebra,
             "ReLU( BN3(conv3x3(x)) + BN1(conv1x1(x)) + BNid(x) ) = ReLU( conv3x3(x, W) + b )\n"
             "W = s3*W3 + pad(s1*W1) + sid*I,   b = t3 + t1 + tid\n"
             "\n"
             "x: the input, %dx%dx%dx%d (images, channels, height, width); W3: the 3x3 kernel\n"
             "(padding 1), W1: the 1x1 kernel (padding 0), both with the block's stride and\n"
             "groups and no bias; BN3, BN1, BNid: each branch's BN, s and t its scale and\n"
             "shift per output channel (lesson 02); pad: the 1x1 kernel centred in a 3x3 of\n"
             "zeros (lesson 03); I: the identity kernel (lesson 04); W, b: the one conv that\n"
             "replaces the three branches. Each branch is linear in x, so their sum is one\n"
             "conv (lesson 01); the ReLU comes after the sum and stays. The identity branch\n"
             "exists only where in == out and stride 1: at stride 2 the other branches\n"
             "halve the height and width, and x, kept whole, cannot be added to them.",
             batch, channels, size, size);
    rv_lesson_begin("Lesson 05: the whole RepVGG block is one 3x3 conv "
                    "(the notebook's RepVGGBlock.to_fast)",
                    algebra, dev);
    rv_lesson_agree_heading("the fused block's", "the three-branch block's");
    int64_t C = channels;
    /* C -> C stride 1, C -> 2C stride 2, C -> C stride 2 (where the notebook
     * keeps the identity: lesson 06), C -> C in two groups */
    const int64_t out[4] = {C, 2 * C, C, C};
    const int stride[4] = {1, 2, 2, 1}, groups[4] = {1, 1, 1, 2};
    rv_block_spec specs[4];
    int pass = 1;
    for (int i = 0; i < 4; i++) {
        rv_block_pair t = {0};
        if (rv_repvgg_block_spec(C, out[i], stride[i], groups[i], &specs[i]) != RV_OK) {
            printf("  error: %s\n", rv_lesson_keep_error());
            pass = 0;
            continue;
        }
        pass &= check(&t, specs[i], dev, batch, size);
        rv_block_pair_free(&t);
    }

    rv_block_pair l = {0};
    if (!rv_lesson_error()[0] && rv_block_pair_build(&l, specs[0], dev, batch, size, 5) != RV_OK)
        rv_lesson_keep_error();
    rv_lesson_form forms[2] = {
        {.name = "train-time (3 branches)",
         .fn = rv_block_pair_train,
         .ctx = &l,
         .activations = l.held[0]},
        {.name = "deploy-time (1 conv)",
         .fn = rv_block_pair_fast,
         .ctx = &l,
         .activations = l.held[1]},
    };
    if (!rv_lesson_error()[0]) {
        char what[96];
        snprintf(what, sizeof what, "%lld -> %lld channels, stride 1, %dx%dx%dx%d input",
                 (long long)C, (long long)C, batch, channels, size, size);
        rv_lesson_compare(dev, what, forms, warmup, repeat, NULL, NULL);
    }
    rv_block_pair_free(&l);
    return rv_lesson_end(pass, dev, "every fused block matches its multi-branch block",
                         "a fused block does NOT match its multi-branch block");
}
