/* Lesson 09 - MobileOne's block becomes one depthwise 3x3 conv and one 1x1
 * conv ("MobileOne: An Improved One millisecond Mobile Backbone", Vasu,
 * Gabriel, Zhu, Tuzel and Ranjan, CVPR 2023; arXiv 2022).
 *
 * The block is two parts, each ReLU(sum of linear branches), each folded by
 * lesson 05's rule on its own list (rv_mobileone.h):
 *   depthwise part, C -> C in C groups (output channel c sees only input
 *   channel c), padding 1, stride 1 or 2:
 *     y1 = ReLU( sum_i BN_i(dw3x3_i(x)) + BNs(dw1x1(x)) + BNid(x) )
 *        = ReLU( dw3x3(x, Wd) + bd ),  Wd = sum_i s_i W_i + pad(ss Ws) + sid I
 *   pointwise part, C -> O, one group:
 *     y = ReLU( sum_i BN_i(conv1x1_i(y1)) + BNid(y1) )
 *       = ReLU( conv1x1(y1, Wp) + bp ),  Wp = sum_i s_i W_i + sid I
 * with i = 1..k (the paper's over-parameterization factor), s, t each BN's
 * scale and shift (b = sum of the t's), pad lesson 03's, I lesson 04's
 * identity kernel: with groups = C it is a 1 at the centre of each channel's
 * own 3x3. The identity branches exist only where in == out and stride 1.
 * The ReLU between the parts stays: two convs, not one.
 *
 * Run:   build/bin/09_mobileone_block [--device auto|cpu|cuda] [--batch N]
 *            [--channels C] [--size S] [--repeat R] [--k K]
 * Defaults: one 64 x 28 x 28 input, k = 4 (MobileOne-S0's). Checks four
 * blocks (C -> C stride 1 with k and with k = 1, C -> 2C stride 2 without
 * identities, C -> C stride 2 with the pointwise identity only), part by
 * part and whole; times the first; then what the fold buys at 32, 64 and 128
 * channels and k = 1, 2, 4 on S x S inputs, and where the deploy-time block
 * spends its time.
 * Exit:  0 PASS, 1 FAIL, 2 bad usage or no such device.
 */
#include <stdio.h>

#include "rv_check.h"
#include "rv_cli.h"
#include "rv_lesson.h"
#include "rv_mobileone.h"
#include "rv_report.h"

/* Builds the block, runs both forms, compares part by part; 1 when they agree. */
static int check(rv_mobileone m, rv_device dev, int n, int s)
{
    rv_mobileone_pair p;
    char what[160];
    snprintf(what, sizeof what, "  %lld -> %lld channels, stride %d, k = %d", (long long)m.in_ch,
             (long long)m.out_ch, m.stride, m.k);
    if (rv_mobileone_pair_build(&p, m, dev, n, s, 9) != RV_OK ||
        rv_mobileone_pair_train(&p) != RV_OK || rv_mobileone_pair_fast(&p) != RV_OK) {
        printf("%s: error: %s\n", what, rv_lesson_keep_error());
        return 0;
    }
    printf("%s: the depthwise part has %d branches, the pointwise part %d\n", what,
           p.train[0].spec.n_branches, p.train[1].spec.n_branches);
    int ok = rv_expect_close(stdout, "    depthwise part, folded vs multi-branch", &p.midf, &p.mid,
                             RV_TOL_FP32);
    ok &= rv_expect_close(stdout, "    whole block, folded vs multi-branch", &p.yf, &p.y,
                          RV_TOL_FP32);
    rv_mobileone_pair_free(&p);
    return ok;
}

/* The deploy-time block's two convs, one at a time (ctx: rv_mobileone_pair *) */
static rv_status depthwise_conv(void *ctx)
{
    rv_mobileone_pair *p = ctx;
    return rv_block_forward(&p->fast[0], &p->x, NULL, &p->midf);
}

static rv_status pointwise_conv(void *ctx)
{
    rv_mobileone_pair *p = ctx;
    return rv_block_forward(&p->fast[1], &p->midf, NULL, &p->yf);
}

/* Both forms of the C -> C stride-1 block at each width and k, timed by
 * turns: one row each. */
static rv_status sweep(rv_device dev, int n, int s, int warmup, int repeat)
{
    static const int widths[3] = {32, 64, 128}, ks[3] = {1, 2, 4};
    printf("\nWhat the fold buys: C -> C channels, stride 1, on a %dxCx%dx%d input (%d warm-up "
           "runs,\nthen %d runs of each form by turns; speed-up: the train-time median over the\n"
           "deploy-time median; memory as in the table above):\n",
           n, s, s, warmup, repeat);
    printf("  %8s %3s %14s %15s %9s %14s %15s\n", "channels", "k", "train-time ms",
           "deploy-time ms", "speed-up", "train memory", "deploy memory");
    rv_status st = RV_OK;
    rv_busy seen = {.waited = -1.0, .others = -1.0};
    for (int w = 0; w < 3 && st == RV_OK; w++)
        for (int i = 0; i < 3 && st == RV_OK; i++) {
            rv_mobileone m = {.in_ch = widths[w], .out_ch = widths[w], .stride = 1, .k = ks[i]};
            rv_mobileone_pair p;
            rv_form_result r[2];
            if ((st = rv_mobileone_pair_build(&p, m, dev, n, s, 9)) != RV_OK) break;
            st = rv_measure_pair(rv_mobileone_pair_train, &p, rv_mobileone_pair_fast, &p, dev,
                                 warmup, repeat, &r[0], &r[1]);
            if (st == RV_OK) {
                char a[32], b[32];
                printf("  %8d %3d %14.4f %15.4f %8.2fx %14s %15s\n", widths[w], ks[i],
                       r[0].time.median_ms, r[1].time.median_ms,
                       r[0].time.median_ms / r[1].time.median_ms,
                       rv_bytes_str(p.held[0] + r[0].peak_bytes, a, sizeof a),
                       rv_bytes_str(p.held[1] + r[1].peak_bytes, b, sizeof b));
                rv_busy_worst(&seen, &r[0].time.busy);
            }
            rv_mobileone_pair_free(&p);
        }
    if (st == RV_OK) rv_print_busy(stdout, "  ", &seen);
    if (st != RV_OK) rv_lesson_keep_error();
    return st;
}

/* The deploy-time block's depthwise conv against its 1x1 conv, by turns:
 * time, multiply-adds, and their rate. */
static rv_status where_the_time_goes(rv_mobileone_pair *p, rv_device dev, int n, int s, int warmup,
                                     int repeat)
{
    rv_form_result r[2];
    rv_status st =
        rv_measure_pair(depthwise_conv, p, pointwise_conv, p, dev, warmup, repeat, &r[0], &r[1]);
    if (st != RV_OK) {
        rv_lesson_keep_error();
        return st;
    }
    int64_t P = p->midf.dim[2];
    double macs[2] = {rv_block_macs(&p->fast[0].spec, n, s, s),
                      rv_block_macs(&p->fast[1].spec, n, P, P)};
    static const char *const name[2] = {"depthwise 3x3 conv", "1x1 conv"};
    printf("\nWhere the deploy-time block spends its time (the two convs alone, by turns):\n");
    printf("  %-20s %10s %18s %20s\n", "conv", "median ms", "M multiply-adds",
           "G multiply-adds / s");
    for (int f = 0; f < 2; f++)
        printf("  %-20s %10.4f %18.3f %20.2f\n", name[f], r[f].time.median_ms, macs[f] / 1e6,
               macs[f] / (r[f].time.median_ms * 1e6));
    rv_print_busy(stdout, "  ", &r[0].time.busy);
    printf("  The depthwise conv does 9 multiply-adds per output value, the 1x1 conv does C =\n"
           "  %lld: each value the depthwise conv loads serves at most 9 multiply-adds, so\n"
           "  moving data bounds its rate, where the 1x1 conv is one matrix product that\n"
           "  reuses every value it loads C times.\n",
           (long long)p->m.in_ch);
    if (dev == RV_CUDA)
        printf("  On the GPU this course runs a depthwise conv as im2col and one cuBLAS product\n"
               "  per channel (no kernel of its own yet): C small products.\n");
    else
        printf(
            "  On the CPU it is a direct loop over each channel's plane (src/ops/depthwise.c),\n"
            "  slowest per value on small planes and at stride 2, where output rows are short.\n");
    return RV_OK;
}

int main(int argc, char **argv)
{
    int batch = 1, channels = 64, size = 28, repeat = 20, warmup = 3, k = 4;
    rv_opt k_opt = {"k", RV_OPT_INT, &k, "conv branches per part (1 to 6; the paper's k)"};
    const char *device;
    rv_device dev;
    int rc = rv_lesson_options(argc, argv,
                               "09_mobileone_block: MobileOne's block, k depthwise 3x3 conv-BN + "
                               "a 1x1 conv-BN + identity BN,\n  ReLU, then k 1x1 conv-BN + "
                               "identity BN, ReLU == one depthwise 3x3 conv + one 1x1 conv",
                               &batch, &channels, &size, &repeat, &k_opt, 1, &device);
    if (rc >= 0) return rc;
    if (k > RV_MOBILEONE_MAX_K) {
        fprintf(stderr,
                "%s: --k: must be 1 to %d (a part holds k convs, the scale branch and "
                "the identity), got %d\n",
                argv[0], RV_MOBILEONE_MAX_K, k);
        return 2;
    }
    if ((rc = rv_cli_device(argv[0], device, &dev)) >= 0) return rc;

    char algebra[2400];
    snprintf(
        algebra, sizeof algebra,
        "depthwise part:  ReLU( sum_i BN_i(dw3x3_i(x)) + BNs(dw1x1(x)) + BNid(x) )\n"
        "                   = ReLU( dw3x3(x, Wd) + bd )\n"
        "                 Wd = sum_i s_i*W_i + pad(ss*Ws) + sid*I,   bd = sum_i t_i + ts + tid\n"
        "pointwise part:  ReLU( sum_i BN_i(conv1x1_i(y1)) + BNid(y1) ) = ReLU( conv1x1(y1, Wp) "
        "+ bp )\n"
        "                 Wp = sum_i s_i*W_i + sid*I,   bp = sum_i t_i + tid\n"
        "\n"
        "x: the input, %dx%dx%dx%d (images, channels C, height, width); y1: the depthwise\n"
        "part's output, the pointwise part's input. i = 1..k counts the over-parameterized\n"
        "conv branches of each part (k = %d here; MobileOne-S0 trains with k = 4, the larger\n"
        "MobileOnes with k = 1). dw3x3, dw1x1: depthwise convs, C groups of one channel:\n"
        "output channel c sees only input channel c, through its own 3x3 (padding 1) or\n"
        "1x1 kernel (the \"scale\" branch), at the block's stride; conv1x1: a 1x1 conv, C\n"
        "-> O channels, one group. BN_i, BNs, BNid: each branch's BN, s and t its scale and\n"
        "shift per channel (lesson 02); pad: the 1x1 kernel centred in a 3x3 of zeros\n"
        "(lesson 03); I: the identity kernel (lesson 04): with groups = C it is a 1 at the\n"
        "centre of each channel's own 3x3, for the 1x1 conv the C x C identity matrix.\n"
        "Each part is lesson 05's fold on its own list of branches; the ReLU between the\n"
        "parts stays, so the block becomes two convs, not one. An identity branch exists\n"
        "only where in == out and stride 1: the depthwise part has one at stride 1, the\n"
        "pointwise part where C == O.\n"
        "\n"
        "The block is MobileOne's: Vasu, Gabriel, Zhu, Tuzel and Ranjan, \"MobileOne: An\n"
        "Improved One millisecond Mobile Backbone\", CVPR 2023 (arXiv 2022).",
        batch, channels, size, size, k);
    rv_lesson_begin("Lesson 09: MobileOne's block is one depthwise 3x3 conv and one 1x1 conv",
                    algebra, dev);
    rv_lesson_agree_heading("the folded block's", "the multi-branch block's, on the same input");
    int64_t C = channels;
    const rv_mobileone blocks[4] = {
        {.in_ch = C, .out_ch = C, .stride = 1, .k = k},
        {.in_ch = C, .out_ch = C, .stride = 1, .k = 1},
        {.in_ch = C, .out_ch = 2 * C, .stride = 2, .k = k},
        {.in_ch = C, .out_ch = C, .stride = 2, .k = k},
    };
    int pass = 1;
    for (int i = 0; i < 4; i++) pass &= check(blocks[i], dev, batch, size);

    rv_mobileone_pair l = {0};
    if (!rv_lesson_error()[0] &&
        rv_mobileone_pair_build(&l, blocks[0], dev, batch, size, 9) != RV_OK)
        rv_lesson_keep_error();
    if (!rv_lesson_error()[0]) {
        int64_t P = l.mid.dim[2];
        printf("\nOne forward of the %lld -> %lld block: %.2f M multiply-adds train-time, %.2f M "
               "deploy-time (M = 10^6).\n",
               (long long)C, (long long)C,
               (rv_block_macs(&l.train[0].spec, batch, size, size) +
                rv_block_macs(&l.train[1].spec, batch, P, P)) /
                   1e6,
               (rv_block_macs(&l.fast[0].spec, batch, size, size) +
                rv_block_macs(&l.fast[1].spec, batch, P, P)) /
                   1e6);
        rv_lesson_form forms[2] = {
            {.name = "train-time (multi-branch)",
             .fn = rv_mobileone_pair_train,
             .ctx = &l,
             .activations = l.held[0]},
            {.name = "deploy-time (2 convs)",
             .fn = rv_mobileone_pair_fast,
             .ctx = &l,
             .activations = l.held[1]},
        };
        char what[96];
        snprintf(what, sizeof what, "%lld -> %lld channels, stride 1, k = %d, %dx%dx%dx%d input",
                 (long long)C, (long long)C, k, batch, channels, size, size);
        rv_lesson_compare(
            dev, what, forms, warmup, repeat,
            "memory = activations (train-time: both parts' outputs and a branch buffer of\n"
            "         each shape; deploy-time: both parts' outputs)\n"
            "       + scratch (what one call allocates while it runs: the conv workspace);\n"
            "         the input and the weights are not counted.",
            NULL);
    }
    if (!rv_lesson_error()[0]) where_the_time_goes(&l, dev, batch, size, warmup, repeat);
    rv_mobileone_pair_free(&l);
    if (!rv_lesson_error()[0]) sweep(dev, batch, size, warmup, repeat);
    return rv_lesson_end(pass, dev, "every folded MobileOne block matches its multi-branch block",
                         "a folded MobileOne block does NOT match its multi-branch block");
}
