/* exp_int8.c - int8.tsv and int8_weights.tsv (lesson 10): RepVGG-A0 and its
 * QARepVGG twin simulated in INT8, measured, not timed.
 *
 *   int8.tsv          both forms, weights per tensor and per channel: SQNR
 *                     per block and end to end, over five seeds (one with
 *                     --quick)
 *   int8_weights.tsv  where the deploy-time kernels' weights fall on their
 *                     INT8 grid, as histograms (the lesson's seed)
 */
#include <math.h>
#include <stdlib.h>

#include "bench.h"
#include "rv_arch.h"
#include "rv_quant.h"
#include "rv_quant_net.h"
#include "rv_taps.h"

#define INT8_SEEDS 5
/* Histogram bins of |w| / s: bin 0 is [0, 2^-6), bin k >= 1 is [2^((k - 13) / 2),
 * 2^((k - 12) / 2)), half an octave each, up to 2^7 > 127.5 = max |w| / s. */
#define INT8_BINS 27

static int int8_bin(double v)
{
    int k = v < 0x1p-6 ? 0 : (int)floor(2.0 * log2(v)) + 13;
    return k < 0 ? 0 : k >= INT8_BINS ? INT8_BINS - 1 : k;
}

/* One row per block for every network, form and weight grain. */
static void int8_rows(bench_table *t, const rv_quant_nets *q, rv_device dev, int size,
                      uint64_t seed)
{
    static const char *const net[2] = {"RepVGG", "QARepVGG"}, *const form[2] = {"train", "deploy"},
                             *const grain[2] = {"per_tensor", "per_channel"};
    for (int n = 0; n < 2; n++)
        for (int f = 0; f < 2; f++)
            for (int g = 0; g < 2; g++)
                for (int i = 0; i < q->n_blocks; i++) {
                    const rv_block_spec *s = &q->net[0][0].blocks[i].spec;
                    const rv_quant_block_err *e = &q->err[n][f][g][i];
                    bench_row(
                        t,
                        "%s\t%d\t%llu\t%s\t%s\t%s\t%d\t%lld\t%lld\t%d\t%d\t%.3f\t%.3f\t%.5f\t%.3f\t"
                        "%.5f\t%.4f\n",
                        rv_device_name(dev), size, (unsigned long long)seed, net[n], form[f],
                        grain[g], i, (long long)s->in_ch, (long long)s->out_ch, s->stride,
                        rv_block_find_branch(s, RV_BRANCH_IDENTITY) >= 0, e->weights.sqnr_db,
                        e->alone.sqnr_db, e->alone.rel_l2, e->chain.sqnr_db, e->chain.rel_l2,
                        q->scales[n][i] * RV_QINT8_HALF_RANGE);
                }
}

/* int8_weight_rows's counts: [rv_tap_kind or 3 for the channels' maxima][bin] */
typedef struct {
    int64_t count[4][INT8_BINS], total[4];
    float scale; /* the kernel's per-tensor grid step */
} tap_bins;

static void bin_tap(void *ctx, const rv_tap *p)
{
    tap_bins *b = ctx;
    b->count[p->kind][int8_bin(p->a / b->scale)]++;
    b->total[p->kind]++;
    if (p->j > 0) return;
    b->count[3][int8_bin(p->ch_max / b->scale)]++;
    b->total[3]++;
}

/* The deploy-time kernels of the blocks with an identity branch, weight by
 * weight in steps of their per-tensor grid (|w| / s), by where a tap sits:
 * the identity's (centre, input channel o % (I/g)), the other centre taps,
 * the outer ones; and each output channel's max |W_o| / s. */
static rv_status int8_weight_rows(bench_table *t, const rv_quant_nets *q)
{
    static const char *const net[2] = {"RepVGG", "QARepVGG"};
    /* rv_tap_kind's, then the channels' */
    static const char *const kind[4] = {"identity_tap", "centre_tap", "outer_tap", "channel_max"};
    rv_status st = RV_OK;
    for (int n = 0; n < 2 && st == RV_OK; n++) {
        tap_bins bins = {.scale = 0.0f};
        for (int i = 0; i < q->n_blocks && st == RV_OK; i++) {
            const rv_block *b = &q->net[n][RV_FORM_DEPLOY].blocks[i];
            if (rv_block_find_branch(&q->net[n][RV_FORM_TRAIN].blocks[i].spec, RV_BRANCH_IDENTITY) <
                0)
                continue;
            rv_tensor w = {0};
            st = rv_tensor_clone(&w, &b->branch[0].w, RV_CPU, "folded kernel");
            if (st == RV_OK) st = rv_quant_tensor_scale(&w, &bins.scale);
            if (st == RV_OK) st = rv_kernel_taps(&w, bin_tap, &bins);
            rv_tensor_free(&w);
        }
        for (int c = 0; c < 4 && st == RV_OK; c++)
            for (int k = 0; k < INT8_BINS; k++)
                bench_row(t, "%s\t%s\t%.6g\t%.6g\t%lld\t%.6f\n", net[n], kind[c],
                          k ? exp2((k - 13) / 2.0) : 0.0, exp2((k - 12) / 2.0),
                          (long long)bins.count[c][k],
                          bins.total[c] ? (double)bins.count[c][k] / (double)bins.total[c] : 0.0);
    }
    return st;
}

static rv_status run_int8(bench_run *run, bench_output out[BENCH_MAX_FILES])
{
    rv_device dev = run->here.dev[0];
    rv_arch arch;
    rv_block_spec specs[RV_MAX_BLOCKS];
    int n = 0, seeds = run->quick ? 1 : INT8_SEEDS;
    const int size = run->quick ? 32 : 224, n_calib = 2; /* the lesson's default */
    bench_row(&out[0].what,
              "lesson 10: RepVGG-A0 and its QARepVGG twin (the same 3x3 and 1x1 "
              "kernels) simulated in INT8, measured, not timed: random seeded weights with "
              "calibrated BN statistics, one %dx%d noise image, %d calibration images, seeds %d "
              "to %d (%d is the lesson's default; 10_int8_quantization --seed S measures the "
              "same); form train = each conv branch with its BN folded in quantized alone, "
              "deploy = the folded kernel; weights per_tensor or per_channel; every block's input "
              "per tensor at its calibrated scale; weight_sqnr_db = the folded kernel the form "
              "computes with against float32's, alone = the block's output on the float32 "
              "network's input, chain = the network's output after this block; input_amax = "
              "the largest block input the calibration saw",
              size, size, n_calib, RV_QUANT_SEED, RV_QUANT_SEED + seeds - 1, RV_QUANT_SEED);
    rv_quant_nets *q = malloc(sizeof *q);
    if (!q) return rv_error(RV_ENOMEM, "no memory for the INT8 experiment");
    rv_status st = rv_arch_preset("A0", &arch);
    if (st == RV_OK) st = rv_arch_specs(&arch, 3, specs, &n);
    for (int k = 0; k < seeds && st == RV_OK; k++) {
        uint64_t seed = RV_QUANT_SEED + (uint64_t)k;
        bench_progress(run, "INT8 on %s: RepVGG-A0 and QARepVGG-A0, %dx%d, seed %llu",
                       rv_device_name(dev), size, size, (unsigned long long)seed);
        st = rv_quant_nets_build(q, specs, n, dev, 1, size, n_calib, seed);
        if (st != RV_OK) break;
        int8_rows(&out[0].rows, q, dev, size, seed);
        if (k == 0) st = int8_weight_rows(&out[1].rows, q);
        rv_quant_nets_free(q);
    }
    free(q);
    return st;
}

const bench_experiment bench_exp_int8 = {
    .title = "INT8, RepVGG against QARepVGG",
    .files = {{.name = "int8.tsv",
               .what = NULL, /* its sizes and seeds: run_int8 */
               .columns = "device\tsize\tseed\tnet\tform\tweights\tblock\tin_ch\tout_ch\tstride\t"
                          "identity\tweight_sqnr_db\talone_sqnr_db\talone_rel_l2\tchain_sqnr_db\t"
                          "chain_rel_l2\tinput_amax"},
              {.name = "int8_weights.tsv",
               .what = "lesson 10: the deploy-time kernels of RepVGG-A0 and its "
                       "QARepVGG twin (the lesson's seed), blocks with an identity branch: every "
                       "weight in steps of its kernel's per-tensor INT8 grid, |w| / s with s = "
                       "max |W| / 127.5, counted in half-octave bins [bin_lo, bin_hi) (the first "
                       "bin holds all below 2^-6) by where the tap sits (identity_tap: centre, "
                       "input channel o; centre_tap: the other centre taps; outer_tap: the 8 "
                       "others), and channel_max: each output channel's max |W_o| / s; "
                       "fraction = count / all of that kind; not timed",
               .columns = "net\tkind\tbin_lo\tbin_hi\tcount\tfraction"}},
    .where = BENCH_LAST_DEVICE,
    .run = run_int8,
};
