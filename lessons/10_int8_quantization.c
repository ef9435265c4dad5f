/* Lesson 10 - INT8: why a re-parameterized network quantizes badly, and what
 * fixes it, measured (QARepVGG: Chu, Li and Zhang, "Make RepVGG Greater
 * Again: A Quantization-aware Approach", arXiv:2212.01593).
 *
 * Simulated INT8 (rv_quant.h): every weight and every block input moved to
 * the nearest point of a symmetric 8-bit grid of step s,
 *     q(v) = s * clamp(round(v / s), -128, 127),   s = max |v| / 127.5,
 * then computed with in float32, so the result differs from float32 by the
 * quantization alone. The error of a result a against its float32 value r:
 *     SQNR = 10 log10( sum r^2 / sum (a - r)^2 ) dB,  rel L2 = ||a - r|| / ||r||.
 * RepVGG's block folds to W = s3*W3 + pad(s1*W1) + sid*I (lesson 05): the
 * 1x1 and identity branches, scaled by their BNs' gamma / sqrt(var + eps),
 * land on the centre tap; a few taps set the kernel's range and on one grid
 * the others round coarsely. QARepVGG's block drops the 1x1's and the
 * identity's BN and adds one after the sum:
 *     y = ReLU( BNp( BN3(conv3x3(x)) + conv1x1(x) + x ) ),
 * folded W = sp*(s3*W3 + pad(W1) + I), b = sp*t3 + tp (one more conv-BN fold).
 * What each form quantizes: src/reparam/rv_quant_net.h.
 *
 * The lesson builds RepVGG-A0 and its QARepVGG twin on the same 3x3 and 1x1
 * kernels (random, seeded; every BN calibrated to trained-like statistics),
 * measures the INT8 error of both forms of both networks, with one weight
 * scale per kernel and one per output channel: one block up close, every
 * block, end to end; then times the two deploy-time networks.
 *
 * Run:   build/bin/10_int8_quantization [--device auto|cpu|cuda] [--arch A0|A1|B0|...]
 *            [--batch N] [--channels C] [--size S] [--calib K] [--seed SEED] [--repeat R]
 * Defaults: RepVGG-A0 on one 3x224x224 image (the paper's resolution), 2
 * calibration images of that shape, seed 10: seconds on two idle cores
 * (--size 64 for a quicker look). make bench measures the same at 224 for
 * five seeds and draws the charts int8 (errors per block, end to end) and
 * int8_weights (where the folded kernels' weights fall on the grid);
 * R timed runs per form of the two deploy-time networks.
 * Exit:  0 PASS, 1 FAIL, 2 bad usage or no such device.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "rv_check.h"
#include "rv_cli.h"
#include "rv_lesson.h"
#include "rv_quant_net.h"

enum { NETS = 2, FORMS = 2, GRAINS = 2 };
static const char *const net_name[NETS] = {"RepVGG", "QARepVGG"};
static const char *const form_name[FORMS] = {"train-time", "deploy-time"};
static const char *const grain_name[GRAINS] = {"per tensor", "per channel"};

/* ---- the weights, up close ---------------------------------------------- */

/* One block of both networks, weights first: what each branch puts into
 * the folded kernel, the folded kernel's taps, then the block's errors. */
static rv_status up_close(const rv_quant_nets *q, int k)
{
    const rv_block_spec *s = &q->net[0][RV_FORM_TRAIN].blocks[k].spec;
    printf("\nOne block up close: block %d, %lld -> %lld channels, stride %d, three branches.\n"
           "What each branch puts into the folded kernel W, and the kernel's taps by where they "
           "sit\n(|w|: a weight's magnitude; rms: the root mean square of the |w| of a kind):\n",
           k, (long long)s->in_ch, (long long)s->out_ch, s->stride);
    static const char *const branch_is[NETS][3] = {{"s3*W3", "s1*W1", "sid"},
                                                   {"sp*s3*W3", "sp*W1", "sp"}};
    rv_tap_stats t[NETS];
    rv_status st = RV_OK;
    for (int n = 0; n < NETS && st == RV_OK; n++) {
        const rv_block *b = &q->net[n][RV_FORM_TRAIN].blocks[k];
        double hi[3], lo[3];
        for (int i = 0; i < 3 && st == RV_OK; i++) st = rv_branch_share_range(b, i, &hi[i], &lo[i]);
        rv_tensor wf = {0};
        if (st == RV_OK)
            st = rv_tensor_clone(&wf, &q->net[n][RV_FORM_DEPLOY].blocks[k].branch[0].w, RV_CPU,
                                 "folded kernel");
        if (st == RV_OK) st = rv_kernel_tap_stats(&wf, &t[n]);
        rv_tensor_free(&wf);
        if (st == RV_OK)
            printf("  %-8s  3x3 branch %s: |w| up to %.3f; 1x1 branch %s (centre): up to %.3f;\n"
                   "            identity %s (centre, c = o): from %.3f to %.3f across channels\n",
                   net_name[n], branch_is[n][0], hi[0], branch_is[n][1], hi[1], branch_is[n][2],
                   lo[2], hi[2]);
    }
    if (st != RV_OK) return st;
    printf("  where s = gamma / sqrt(var + eps) of a branch's BN (sp: the BN after the sum), c "
           "the input\n  channel and o the output channel.\n\n");
    printf("  the folded kernel W       identity taps      other centre taps  outer taps (8 of "
           "9)\n");
    printf("                            largest      rms   largest      rms   largest      rms\n");
    for (int n = 0; n < NETS; n++)
        printf("  %-24s %8.3f %8.3f  %8.3f %8.3f  %8.3f %8.3f\n", net_name[n],
               t[n].max[RV_TAP_IDENTITY], t[n].rms[RV_TAP_IDENTITY], t[n].max[RV_TAP_CENTRE],
               t[n].rms[RV_TAP_CENTRE], t[n].max[RV_TAP_OUTER], t[n].rms[RV_TAP_OUTER]);
    for (int n = 0; n < NETS; n++)
        printf("  %s: one grid for W has a step s = max |W| / 127.5 = %.4f, so the outer taps' "
               "rms is\n    %.1f steps and %.1f%% of them round to 0 (|w| < s/2); one grid per "
               "output channel: %.1f%%.\n    A channel's max |W_o| is %.2f of the kernel's at "
               "the smallest, %.2f at the median.\n",
               net_name[n], t[n].step, t[n].rms[RV_TAP_OUTER] / t[n].step, 100 * t[n].zero[0],
               100 * t[n].zero[1], t[n].ch_min, t[n].ch_med);
    printf("\n  SQNR in dB (higher: closer to float32)  RepVGG              QARepVGG\n"
           "  form         weight scales             weights  output      weights  output\n");
    for (int f = 0; f < FORMS; f++)
        for (int g = 0; g < GRAINS; g++) {
            printf("  %-12s %-24s", form_name[f], grain_name[g]);
            for (int n = 0; n < NETS; n++)
                printf("%s %8.1f %7.1f", n ? "    " : "", q->err[n][f][g][k].weights.sqnr_db,
                       q->err[n][f][g][k].alone.sqnr_db);
            printf("\n");
        }
    printf("  weights: the kernel each form computes with (the train-time form's branches, each\n"
           "  quantized alone, then folded) against the float32 folded kernel; output: the "
           "block's,\n  on the float32 network's input to it, quantized at its calibrated "
           "scale.\n");
    return RV_OK;
}

/* ---- every block, end to end ---------------------------------------------- */

/* The median over the blocks with an identity branch of the weights' (part
 * 0) or the output's alone (part 1) SQNR in dB (rv_quant_nets_median_db). */
static double median_db(const rv_quant_nets *q, int n, int f, int g, int part)
{
    return rv_quant_nets_median_db(q, n, f, (rv_quant_grain)(g + 1), part);
}

static void per_block(const rv_quant_nets *q)
{
    printf("\nEvery block: SQNR in dB of the weights (as above) and of the block's output alone "
           "(on the\nfloat32 network's input to it); T: one weight scale per tensor, C: one per "
           "output channel;\nmax |x|: the largest input the calibration saw, which sets the "
           "input's grid.\n");
    printf("                   weights, dB                     output alone, dB              "
           "      max |x|\n"
           "                   RepVGG          QARepVGG        RepVGG          QARepVGG\n"
           "                   train   deploy  train   deploy  train   deploy  train   deploy  "
           "RepVGG QARepVGG\n"
           "  block in->out   s   T   C   T   C   T   C   T   C   T   C   T   C   T   C   T   "
           "C\n");
    for (int i = 0; i < q->n_blocks; i++) {
        const rv_block_spec *s = &q->net[0][0].blocks[i].spec;
        char io[16];
        snprintf(io, sizeof io, "%lld->%lld", (long long)s->in_ch, (long long)s->out_ch);
        printf("  %5d %-9s %d", i, io, s->stride);
        for (int part = 0; part < 2; part++)
            for (int n = 0; n < NETS; n++)
                for (int f = 0; f < FORMS; f++)
                    for (int g = 0; g < GRAINS; g++) {
                        const rv_quant_block_err *e = &q->err[n][f][g][i];
                        printf(" %3.0f", part ? e->alone.sqnr_db : e->weights.sqnr_db);
                    }
        printf(" %6.1f %8.1f\n", q->scales[0][i] * RV_QINT8_HALF_RANGE,
               q->scales[1][i] * RV_QINT8_HALF_RANGE);
    }
    printf("  median, stride 1  ");
    for (int part = 0; part < 2; part++)
        for (int n = 0; n < NETS; n++)
            for (int f = 0; f < FORMS; f++)
                for (int g = 0; g < GRAINS; g++) printf(" %3.0f", median_db(q, n, f, g, part));
    printf("\n  (median: over the blocks with an identity branch, those at stride 1)\n");
}

static double end_db(const rv_quant_nets *q, int n, int f, int g)
{
    return q->err[n][f][g][q->n_blocks - 1].chain.sqnr_db;
}

static void end_to_end(const rv_quant_nets *q)
{
    printf("\nEnd to end: the network's output simulated in INT8 against float32, every block's "
           "error\npassed on through every later block:\n");
    printf("  network   form         weight scales   SQNR dB   rel L2\n");
    for (int n = 0; n < NETS; n++)
        for (int f = 0; f < FORMS; f++)
            for (int g = 0; g < GRAINS; g++)
                printf("  %-9s %-12s %-14s %8.2f %8.3f\n", net_name[n], form_name[f], grain_name[g],
                       end_db(q, n, f, g), q->err[n][f][g][q->n_blocks - 1].chain.rel_l2);
    double worst = INFINITY;
    for (int i = 0; i < q->n_blocks; i++) worst = fmin(worst, q->err[0][0][0][i].alone.sqnr_db);
    printf("  Every RepVGG block alone stays above %.1f dB (train-time, per tensor), yet the chain "
           "ends\n  at %.1f dB: these random networks pass an error on and grow it, and the "
           "end-to-end\n  figures depend on that gain as much as on the quantization. Compare "
           "the rows.\n",
           worst, end_db(q, 0, 0, 0));

    /* the remedies against RepVGG's deploy-time form with one scale per tensor */
    static const int remedy[4][3] = {{0, 1, 1}, {1, 1, 0}, {1, 1, 1}, {0, 0, 0}};
    static const char *const remedy_is[4] = {"one weight scale per output channel",
                                             "QARepVGG's block", "both",
                                             "RepVGG's branches quantized apart"};
    printf("\nWhat each remedy recovers against RepVGG's deploy-time form with one scale per "
           "tensor\n(per block: the median over the blocks with an identity branch, output "
           "alone):\n");
    printf("                                        per block   end to end\n");
    printf("  RepVGG deploy-time, per tensor        %7.1f dB   %7.1f dB\n",
           median_db(q, 0, 1, 0, 1), end_db(q, 0, 1, 0));
    for (int r = 0; r < 4; r++) {
        const int *x = remedy[r];
        printf("  %-36s %+7.1f dB   %+7.1f dB\n", remedy_is[r],
               median_db(q, x[0], x[1], x[2], 1) - median_db(q, 0, 1, 0, 1),
               end_db(q, x[0], x[1], x[2]) - end_db(q, 0, 1, 0));
    }
    printf("  (the last is the train-time form, per tensor: not what a deploy-time network "
           "runs)\n");
}

/* ---- what random weights can show ------------------------------------------- */

static void honesty(const rv_quant_nets *q, uint64_t seed)
{
    double fold = median_db(q, 0, 0, 0, 0) - median_db(q, 0, 1, 0, 0);
    double chan = median_db(q, 0, 1, 1, 1) - median_db(q, 0, 1, 0, 1);
    double qa = median_db(q, 1, 1, 0, 1) - median_db(q, 0, 1, 0, 1);
    float amax[NETS] = {0};
    for (int n = 0; n < NETS; n++)
        for (int i = 0; i < q->n_blocks; i++)
            amax[n] = fmaxf(amax[n], q->scales[n][i] * RV_QINT8_HALF_RANGE);
    printf("\nWhat random weights can show, and what they cannot.\n"
           "  These weights are random (seed %llu), not trained on ImageNet, and the images are "
           "noise;\n  the BN statistics are made trained-like by calibrating them on such "
           "images. A trained\n  RepVGG's INT8 trouble comes from what training leaves in its "
           "weights and BN statistics;\n  random ones may or may not reproduce it. Measured "
           "here (medians over the blocks with an\n  identity branch):\n",
           (unsigned long long)seed);
    printf("  - folding the branches %s the weights' SQNR by %.1f dB (one scale per tensor): the "
           "weight\n    side of the problem %s;\n",
           fold >= 0 ? "lowers" : "raises", fabs(fold),
           fold >= 6.0 ? "is reproduced" : "is NOT reproduced (under 6 dB, one bit)");
    printf("  - one scale per output channel recovers %+.1f dB of a block's output;\n", chan);
    const char *qa_is =
        qa >= 3.0    ? "a gain that random weights reproduce"
        : qa <= -3.0 ? "a loss (3 dB or more, half a bit).\n    On random weights shared with "
                       "RepVGG's kernels the structure alone does not show the\n    paper's "
                       "gain, which it measured on networks trained with the block"
                     : "hardly at all (under 3 dB, half a bit). On random\n    weights shared "
                       "with RepVGG's kernels the structure alone does not show the paper's\n"
                       "    gain, which it measured on networks trained with the block";
    printf("  - QARepVGG's block changes it by %+.1f dB: %s;\n", qa, qa_is);
    printf("  - the largest block input the calibration saw: RepVGG %.1f, QARepVGG %.1f%s;\n",
           amax[0], amax[1],
           amax[1] < amax[0] ? "\n    (QARepVGG's BN after the sum normalizes what the next "
                               "block receives)"
                             : "");
    printf("  - one seeded network: end-to-end differences of a few dB change with --seed; the "
           "per-block\n    medians move less (make bench measures five seeds: chart int8).\n");
    printf("  What they cannot show: accuracy. SQNR says how far the INT8 output is from the "
           "float32\n  one, not how many images a classifier still gets right (no dataset runs "
           "here); nor what\n  training with QARepVGG's block does to the weights.\n"
           "  The papers' figures, quoted, not measured here (ImageNet, trained weights):\n"
           "  - QARepVGG's abstract (arXiv:2212.01593v2, https://arxiv.org/html/2212.01593v2): "
           "RepVGG's\n    \"quantization performance is usually too poor to deploy (more than "
           "20%% top-1 accuracy\n    drop on ImageNet) when INT8 inference is desired\"; with "
           "QARepVGG \"the top-1 accuracy drop\n    on ImageNet is reduced within 2%% by "
           "standard post-training quantization\".\n"
           "  - RepVGG's README (github.com/DingXiaoH/RepVGG, section Quantization): \"RepVGG "
           "works fine\n    with FP16 but the accuracy may decrease when directly quantized to "
           "INT8.\"\n");
}

/* ---- the checks -------------------------------------------------------------- */

static int checks(const rv_quant_nets *q)
{
    printf("\nChecks.\n");
    rv_lesson_agree_heading("the deploy-time form's", "the train-time form's, on the same input");
    int pass = 1;
    for (int n = 0; n < NETS; n++) {
        char what[96];
        snprintf(what, sizeof what, "  %s, whole network (held to %g)", net_name[n],
                 RV_TOL_NET.max_rel_l2);
        pass &= rv_lesson_check_nets(what, &q->net[n][RV_FORM_DEPLOY], &q->net[n][RV_FORM_TRAIN],
                                     &q->x);
    }
    int better = 1, finite = 1;
    for (int n = 0; n < NETS; n++)
        for (int i = 0; i < q->n_blocks; i++) {
            better &= q->err[n][1][1][i].weights.sqnr_db >= q->err[n][1][0][i].weights.sqnr_db;
            for (int f = 0; f < FORMS; f++)
                for (int g = 0; g < GRAINS; g++) {
                    const rv_quant_block_err *e = &q->err[n][f][g][i];
                    const rv_quant_err *all[3] = {&e->weights, &e->alone, &e->chain};
                    for (int j = 0; j < 3; j++)
                        finite &= isfinite(all[j]->sqnr_db) && isfinite(all[j]->rel_l2);
                }
        }
    printf("One scale per output channel never loses to one per kernel on a folded kernel: %s\n"
           "Every SQNR and relative L2 error above is a finite number (INT8 changed every "
           "result): %s\n",
           better ? "ok" : "FAIL", finite ? "ok" : "FAIL");
    return pass && better && finite;
}

/* ---- timing: the remedy at inference ---------------------------------------- */

static void timing(const rv_quant_nets *q, rv_device dev, const char *arch, int warmup, int repeat)
{
    const rv_net *const nets[NETS] = {&q->net[0][RV_FORM_DEPLOY], &q->net[1][RV_FORM_DEPLOY]};
    static const char *const names[NETS] = {"RepVGG deploy-time", "QARepVGG deploy-time"};
    char what[128];
    snprintf(what, sizeof what, "RepVGG-%s and QARepVGG-%s in float32, %lldx%lldx%lldx%lld input",
             arch, arch, (long long)q->x.dim[0], (long long)q->x.dim[1], (long long)q->x.dim[2],
             (long long)q->x.dim[3]);
    rv_lesson_time_nets(what, nets, names, &q->x, dev, warmup, repeat,
                        "\nWhat the remedy costs at inference: QARepVGG changes the block during "
                        "training; both\ndeploy-time networks are the same stack of 3x3 convs "
                        "with bias and ReLU, of the same shapes.\n",
                        "memory = activations (the buffers planned for the blocks' outputs, "
                        "two that take turns)\n"
                        "       + scratch (on the CPU the 3x3 weights transformed for "
                        "Winograd, and the conv\n"
                        "         workspace); the input, the output and the weights are not "
                        "counted.");
}

int main(int argc, char **argv)
{
    int batch = 1, channels = 3, size = 224, repeat = 5, warmup = 2, n_calib = 2,
        seed = RV_QUANT_SEED;
    const char *arch_name = "A0";
    rv_opt extra[] = {{"arch", RV_OPT_STR, &arch_name, "RepVGG preset"},
                      {"calib", RV_OPT_INT, &n_calib, "calibration batches (at most 16)"},
                      {"seed", RV_OPT_COUNT, &seed, "seed of the weights and images"}};
    const char *device;
    rv_device dev;
    int rc = rv_lesson_options(argc, argv,
                               "10_int8_quantization: RepVGG and QARepVGG simulated in INT8, "
                               "both forms,\n  one weight scale per tensor or per channel: "
                               "the error in dB per block and end to end",
                               &batch, &channels, &size, &repeat, extra, 3, &device);
    if (rc >= 0) return rc;
    if ((rc = rv_cli_at_least(argv[0], "size", size, 32,
                              "(five stride-2 stages halve it five times)")) >= 0)
        return rc;
    if (n_calib > RV_QUANT_MAX_CALIB) {
        fprintf(stderr, "%s: --calib: at most %d batches, got %d\n", argv[0], RV_QUANT_MAX_CALIB,
                n_calib);
        return 2;
    }
    char inputs[160]; /* what rv_quant_nets_build allocates per input channel, float32 */
    snprintf(inputs, sizeof inputs,
             "%d input image(s) of %dx%d, %d calibration batch(es) of as many and 2 BN "
             "calibration images of 128x128",
             batch, size, size, n_calib);
    if ((rc = rv_cli_channels_fit(argv[0], channels,
                                  4.0 * (2 * 128 * 128 + (n_calib + 1.0) * batch * size * size),
                                  inputs)) >= 0)
        return rc;
    rv_arch arch;
    rv_block_spec specs[RV_MAX_BLOCKS];
    int n = 0;
    rv_quant_nets *q = calloc(1, sizeof *q);
    if (!q) {
        fprintf(stderr, "%s: out of memory\n", argv[0]);
        return 1;
    }
    if (rv_arch_preset(arch_name, &arch) != RV_OK ||
        rv_arch_specs(&arch, channels, specs, &n) != RV_OK) {
        fprintf(stderr, "%s: %s\n", argv[0], rv_last_error());
        free(q);
        return 2;
    }
    if ((rc = rv_cli_device(argv[0], device, &dev)) >= 0) {
        free(q);
        return rc;
    }
    int k = -1; /* the block up close: the first with an identity branch */
    for (int i = 0; i < n && k < 0; i++)
        if (rv_block_find_branch(&specs[i], RV_BRANCH_IDENTITY) >= 0) k = i;

    char algebra[3000];
    snprintf(
        algebra, sizeof algebra,
        "q(v) = s * clamp(round(v / s), -128, 127),   s = max |v| / 127.5\n"
        "SQNR = 10 log10( sum r^2 / sum (a - r)^2 ) dB,   rel L2 = ||a - r|| / ||r||\n"
        "\n"
        "INT8, simulated: v, a value to quantize, moves to the nearest of 256 points of step "
        "s (the\nscale; round: to the nearest integer, ties to even) and is computed with in "
        "float32. The max\nruns over a whole kernel (one scale per tensor) or over one output "
        "channel of it (per\nchannel); for a block's input x, over what the calibration images "
        "gave there (per tensor).\na: a result computed from quantized values, r: the same in "
        "float32, sums over all its\nelements. Each 6 dB of SQNR is one more bit of agreement; "
        "rel L2 = 10^(-SQNR/20).\n"
        "\n"
        "RepVGG's block folds to W = s3*W3 + pad(s1*W1) + sid*I (lesson 05), each s = gamma /\n"
        "sqrt(var + eps) of a branch's BN: the centre tap of output channel o gets s1[o]*W1[o, "
        "c]\nfor every input channel c and, where c = o, sid[o]. A small var makes sid large, "
        "a few\ntaps set the grid's range, and the rest of the kernel rounds coarsely.\n"
        "QARepVGG's block: y = ReLU( BNp( BN3(conv3x3(x)) + conv1x1(x) + x ) ), its 1x1 and\n"
        "identity without a BN and BNp (scale sp, shift tp) after the sum; it folds the same "
        "way to\nW = sp*(s3*W3 + pad(W1) + I), b = sp*t3 + tp.\n"
        "\n"
        "Quantized, train-time form: each conv branch with its own BN folded in (s3*W3, s1*W1;\n"
        "QARepVGG: s3*W3 and W1), each kernel on its own grid; an identity's BN and BNp stay "
        "float32.\nDeploy-time form: the folded W on one grid. Both: every block's input on a "
        "calibrated grid;\nbiases, sums and ReLU in float32 (an engine's int32 accumulator).\n"
        "%s-%s: %d blocks; its QARepVGG twin has the same 3x3 and 1x1 kernels; weights "
        "random,\nseeded, BN statistics calibrated (lesson 06). Input %dx%dx%dx%d, %d "
        "calibration batch(es)\nof that shape (224x224: the paper's resolution), seed %d.",
        "RepVGG", arch.name, n, batch, channels, size, size, n_calib, seed);
    char title[128];
    snprintf(title, sizeof title,
             "Lesson 10: INT8 and re-parameterization, RepVGG-%s against QARepVGG-%s", arch.name,
             arch.name);
    rv_lesson_begin(title, algebra, dev);

    int pass = 0;
    rv_status st = rv_quant_nets_build(q, specs, n, dev, batch, size, n_calib, (uint64_t)seed);
    if (st == RV_OK && k >= 0) st = up_close(q, k);
    if (st == RV_OK) {
        per_block(q);
        end_to_end(q);
        honesty(q, (uint64_t)seed);
        pass = checks(q);
        timing(q, dev, arch.name, warmup, repeat);
    } else {
        rv_lesson_keep_error();
    }
    rv_quant_nets_free(q);
    free(q);
    return rv_lesson_end(pass, dev, "the float32 forms agree and every INT8 check above holds",
                         "a check above failed");
}
