/* exp_pairs.c - pairs.tsv: each lesson's pair of forms over a sweep of sizes,
 * batch 1, channels C -> C at stride 1: two convs summed (lesson 01), conv +
 * BN (02), then the blocks of RepVGG (05), ACNet and DBB (08) and MobileOne
 * (09). Each pair's medians at the reference size go on to speedup.tsv.
 */
#include "bench.h"
#include "rv_block.h"
#include "rv_conv_bn_pair.h"
#include "rv_mobileone.h"
#include "rv_two_branch.h"

enum { N_PAIRS = 6, N_BLOCK_PAIRS = 3 };
/* MobileOne's block in the pairs: k = 4, MobileOne-S0's (lesson 09) */
#define BENCH_MOBILEONE_K 4
#define STR_(x) #x
#define STR(x) STR_(x)

/* Both forms of every pair on one shape, r[pair][form]. */
static rv_status measure_pairs(rv_device dev, int c, int s, int repeat,
                               rv_form_result r[N_PAIRS][2])
{
    rv_two_branch tb;
    rv_conv_bn_pair cb;
    rv_block_pair bp;
    rv_mobileone_pair mp;
    rv_mobileone mo = {.in_ch = c, .out_ch = c, .stride = 1, .k = BENCH_MOBILEONE_K};
    rv_block_spec spec[N_BLOCK_PAIRS];
    rv_status st = rv_repvgg_block_spec(c, c, 1, 1, &spec[0]);
    if (st != RV_OK) return st;
    spec[1] = rv_acnet_block_spec(c, c, 1, 1);
    spec[2] = rv_dbb_block_spec(c, c, 1, 1);
    if ((st = rv_two_branch_build(&tb, dev, 1, c, s, 0, 1)) == RV_OK) {
        st = bench_measure_pair(rv_two_branch_forward, &tb, rv_two_branch_fused, &tb, dev, repeat,
                                r[0]);
        rv_two_branch_free(&tb);
    }
    if (st == RV_OK && (st = rv_conv_bn_build(&cb, dev, 1, c, s, 0, 2)) == RV_OK) {
        st = bench_measure_pair(rv_conv_bn_forward, &cb, rv_conv_bn_fused, &cb, dev, repeat, r[1]);
        rv_conv_bn_free(&cb);
    }
    for (int b = 0; b < N_BLOCK_PAIRS && st == RV_OK; b++)
        if ((st = rv_block_pair_build(&bp, spec[b], dev, 1, s, 3)) == RV_OK) {
            st = bench_measure_pair(rv_block_pair_train, &bp, rv_block_pair_fast, &bp, dev, repeat,
                                    r[2 + b]);
            rv_block_pair_free(&bp);
        }
    if (st == RV_OK && (st = rv_mobileone_pair_build(&mp, mo, dev, 1, s, 5)) == RV_OK) {
        st = bench_measure_pair(rv_mobileone_pair_train, &mp, rv_mobileone_pair_fast, &mp, dev,
                                repeat, r[5]);
        rv_mobileone_pair_free(&mp);
    }
    return st;
}

static rv_status run_pairs(bench_run *run, bench_output out[BENCH_MAX_FILES])
{
    static const int full[][2] = {{16, 56}, {32, 56}, {64, 56}, {128, 28}, {256, 14}};
    static const int quick[][2] = {{8, 7}, {16, 14}};
    /* the column pair's values, and the names speedup.tsv gives them */
    static const char *const pair[N_PAIRS] = {"two_branch", "conv_bn", "block",
                                              "acnet",      "dbb",     "mobileone"};
    static const char *const step[N_PAIRS] = {
        "two-branch sum", "conv+BN",   "RepVGG block",
        "ACNet block",    "DBB block", "MobileOne block k=" STR(BENCH_MOBILEONE_K)};
    static const char *const form[2] = {"train", "deploy"};
    int n = run->quick ? 2 : 5, ref = run->quick ? 1 : 2, repeat = run->quick ? 3 : 30;
    rv_status st = RV_OK;
    for (int d = 0; d < run->here.n && st == RV_OK; d++)
        for (int k = 0; k < n && st == RV_OK; k++) {
            rv_device dev = run->here.dev[d];
            int c = (run->quick ? quick : full)[k][0], s = (run->quick ? quick : full)[k][1];
            rv_form_result r[N_PAIRS][2];
            bench_progress(run, "pairs on %s: %d channels, %dx%d", rv_device_name(dev), c, s, s);
            st = measure_pairs(dev, c, s, repeat, r);
            for (int p = 0; p < N_PAIRS && st == RV_OK; p++) {
                for (int f = 0; f < 2; f++) {
                    bench_row(&out[0].rows, "%s\t%s\t%d\t%d\t%d\t%s\t", pair[p],
                              rv_device_name(dev), 1, c, s, form[f]);
                    bench_time_row(&out[0].rows, &r[p][f]);
                    bench_row(&out[0].rows, "\n");
                }
                if (k == ref)
                    st = bench_record_speedup(run, step[p], dev, r[p][0].time.median_ms,
                                              r[p][1].time.median_ms);
            }
        }
    return st;
}

const bench_experiment bench_exp_pairs = {
    .title = "each lesson's pair of forms",
    .files = {{.name = "pairs.tsv",
               .what = "each lesson's pair of forms, batch 1; channels C -> C, stride 1; "
                       "MobileOne's block (pair mobileone) with k = " STR(
                           BENCH_MOBILEONE_K) " conv branches per part",
               .columns = "pair\tdevice\tbatch\tchannels\tsize\tform\tmedian_ms\tmin_ms\tmax_ms\t"
                          "peak_bytes"}},
    .where = BENCH_EACH_DEVICE,
    .run = run_pairs,
};
