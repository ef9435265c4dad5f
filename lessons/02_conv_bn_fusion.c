/* Lesson 02 - fusing a conv and its batch norm (the notebook's
 * get_fused_bn_to_conv_state_dict, In [6] and In [7]).
 *
 * In inference mode BN is a fixed affine map per channel of the conv output,
 *
 *     bn(z) = (z - mean) / sqrt(var + eps) * gamma + beta = s*z + t,
 *     s = gamma / sqrt(var + eps),   t = beta - mean*s          (src/ops/rv_bn.h)
 *
 * and scaling output channel o of a conv by s[o] is scaling its kernel:
 *
 *     bn(conv(x, W) + b) = conv(x, s*W) + (t + s*b)             (rv_fuse_conv_bn)
 *
 * b = 0 for the notebook's conv (bias=False). Exact in real arithmetic; in
 * float32 the two sides round differently and agree within RV_TOL_FP32.
 *
 * The fold needs mean and var to be constants: the running statistics, BN in
 * eval mode (the notebook: "be sure to switch to eval mode!!"). In training
 * mode BN normalises with the mean and (biased) variance of the batch it is
 * given, numbers that change with every batch, so no fixed conv computes it:
 * the lesson shows the fused conv missing training-mode BN by far, and that
 * a conv folded from this batch's statistics matches it on this batch.
 *
 * Run:   build/bin/02_conv_bn_fusion [--device auto|cpu|cuda] [--batch N]
 *                                    [--channels C] [--size S] [--repeat R]
 * Defaults are the notebook's check: 1x8x7x7 input, 8 -> 8 channels, 3x3, no
 * padding; BN statistics random (rv_bn_randomize), never 1/0.
 * Exit:  0 PASS (fused == conv + BN, with and without the conv's bias, and
 *        training-mode BN far from the fused conv), 1 FAIL, 2 bad usage or no
 *        such device.
 */
#include <stdio.h>
#include <stdlib.h>

#include "rv_check.h"
#include "rv_cli.h"
#include "rv_conv_bn_pair.h" /* the two forms: rv_conv_bn_forward, rv_conv_bn_fused */
#include "rv_lesson.h"

/* "Far": a relative L2 error 1000x what RV_TOL_FP32 allows. The fold's own
 * rounding stays below the tolerance; a wrong statistic is a different
 * function, with errors of the order of the output itself. */
#define FAR_REL_L2 (1000 * RV_TOL_FP32.max_rel_l2)

static const rv_conv_params P = {.stride = 1, .pad_h = 0, .pad_w = 0, .groups = 1, .relu = 0};

/* Builds, runs both forms and compares them; 1 when they agree. l stays built. */
static int check(rv_conv_bn_pair *l, rv_device dev, int n, int c, int s, int with_bias)
{
    int ok = rv_conv_bn_build(l, dev, n, c, s, with_bias, with_bias ? 22 : 21) == RV_OK &&
             rv_conv_bn_forward(l) == RV_OK && rv_conv_bn_fused(l) == RV_OK;
    if (!ok) printf("  error: %s\n", rv_lesson_keep_error());
    return ok &&
           rv_expect_close(stdout,
                           with_bias ? "  conv with bias" : "  conv without bias (the notebook's)",
                           &l->yf, &l->y, RV_TOL_FP32);
}

/* BN in training mode: a copy of `running` whose mean and var are the
 * statistics of z, this batch's conv output (rv_channel_stats: per channel,
 * over N, H and W, the variance biased, as BatchNorm2d normalises). */
static rv_status batch_bn(const rv_tensor *z, const rv_bn *running, rv_bn *out)
{
    int64_t C = running->channels;
    double *stats = malloc(2 * (size_t)C * sizeof *stats); /* bookkeeping, not a tensor */
    if (!stats) return rv_error(RV_ENOMEM, "batch_bn: no memory for %lld channels", (long long)C);
    rv_status st = rv_channel_stats(z, stats, stats + C);
    if (st == RV_OK) st = rv_bn_alloc(out, C);
    if (st == RV_OK) st = rv_tensor_copy(&out->gamma, &running->gamma);
    if (st == RV_OK) st = rv_tensor_copy(&out->beta, &running->beta);
    for (int64_t c = 0; c < C && st == RV_OK; c++) {
        out->mean.data[c] = (float)stats[c];
        out->var.data[c] = (float)stats[C + c];
    }
    free(stats);
    return st == RV_OK ? rv_bn_prepare(out, z->device) : st;
}

/* Prints how far a is from ref; 1 when the relative L2 error is >= FAR_REL_L2. */
static int expect_far(const char *what, const rv_tensor *a, const rv_tensor *ref)
{
    rv_tensor ha = {0}, hr = {0};
    int far = 0;
    if (rv_tensor_clone(&ha, a, RV_CPU, "copy") == RV_OK &&
        rv_tensor_clone(&hr, ref, RV_CPU, "copy") == RV_OK) {
        rv_cmp c = rv_compare(ha.data, hr.data, rv_tensor_numel(a), RV_TOL_FP32);
        far = c.rel_l2 >= FAR_REL_L2;
        printf("%s: %lld of %lld values outside the tolerance, relative L2 %.2g (far: at least "
               "%g), worst at i = %lld: a = %.6g, r = %.6g -> %s\n",
               what, (long long)c.failures, (long long)c.n, c.rel_l2, FAR_REL_L2,
               (long long)c.worst, ha.data[c.worst], hr.data[c.worst],
               far ? "far, as expected" : "FAIL: too close");
    } else {
        printf("%s: %s -> FAIL\n", what, rv_lesson_keep_error());
    }
    rv_tensor_free(&ha);
    rv_tensor_free(&hr);
    return far;
}

/* Training mode on l's conv output l->z (l without bias, after rv_conv_bn_forward). */
static int training_mode(rv_conv_bn_pair *l, rv_device dev)
{
    rv_bn bt = {0};
    rv_tensor yt = {0}, wt = {0}, bt_b = {0}, yt_f = {0};
    rv_status st = batch_bn(&l->z, &l->bn, &bt);
    if (st == RV_OK) st = rv_tensor_alloc(&yt, dev, 4, l->z.dim, "training-mode output");
    if (st == RV_OK) st = rv_batchnorm(&l->z, &bt, &yt);
    if (st == RV_OK) st = rv_conv_bn_fold(l, &bt, dev, &wt, &bt_b);
    if (st == RV_OK) st = rv_tensor_alloc(&yt_f, dev, 4, l->z.dim, "output");
    if (st == RV_OK) st = rv_conv2d(&l->x, &wt, &bt_b, P, &yt_f);
    int ok = st == RV_OK;
    if (ok) {
        printf("  channel 0: batch mean %.4f, var %.4f; running mean %.4f, var %.4f\n",
               bt.mean.data[0], bt.var.data[0], l->bn.mean.data[0], l->bn.var.data[0]);
        ok = expect_far("  fused conv vs training-mode BN", &l->yf, &yt);
        ok &= rv_expect_close(stdout, "  this batch's statistics folded, on this batch", &yt_f, &yt,
                              RV_TOL_FP32);
    } else {
        printf("  error: %s\n", rv_lesson_keep_error());
    }
    rv_tensor *all[4] = {&yt, &wt, &bt_b, &yt_f};
    for (int i = 0; i < 4; i++) rv_tensor_free(all[i]);
    rv_bn_free(&bt);
    return ok;
}

int main(int argc, char **argv)
{
    int batch = 1, channels = 8, size = 7, repeat = 100, warmup = 10;
    const char *device;
    rv_device dev;
    int rc =
        rv_lesson_options(argc, argv,
                          "02_conv_bn_fusion: a conv then a BN in eval mode is one conv:\n"
                          "  bn(conv(x, W) + b) == conv(x, s*W) + (t + s*b), where for each "
                          "output channel\n  s = gamma / sqrt(var + eps) and t = beta - mean*s "
                          "(the BN's learned scale gamma,\n  shift beta, running mean and "
                          "variance, eps = 1e-5)",
                          &batch, &channels, &size, &repeat, NULL, 0, &device);
    if (rc >= 0) return rc;
    if ((rc = rv_cli_at_least(argv[0], "size", size, 3, "for a 3x3 conv without padding")) >= 0)
        return rc;
    /* One value per channel has variance 0: BN would divide by sqrt(eps).
     * PyTorch refuses it too ("Expected more than 1 value per channel"). */
    if (batch == 1 && size == 3) {
        fprintf(stderr,
                "%s: --batch 1 with --size 3 leaves one value per channel for "
                "training-mode BN; use a larger batch or size\n",
                argv[0]);
        return 2;
    }
    if ((rc = rv_cli_device(argv[0], device, &dev)) >= 0) return rc;

    char algebra[1024];
    snprintf(algebra, sizeof algebra,
             "bn(conv(x, W) + b) = conv(x, s*W) + (t + s*b)\n"
             "s = gamma / sqrt(var + eps),   t = beta - mean * s\n"
             "\n"
             "x: the input, %dx%dx%dx%d (images, channels, height, width); W: a 3x3 kernel,\n"
             "%d -> %d channels, no padding; b: its bias (the notebook's conv has none: b = 0).\n"
             "The BN, for each output channel o: gamma[o] and beta[o], the scale and shift it\n"
             "learned; mean[o] and var[o], the running mean and variance it kept while\n"
             "training; eps = 1e-5, PyTorch's default, so that it never divides by zero.\n"
             "In eval mode BN is z -> s*z + t, a fixed scale and shift per channel, and\n"
             "scaling output channel o of a conv is scaling its kernel W[o] and its bias.",
             batch, channels, size, size, channels, channels);
    rv_lesson_begin("Lesson 02: a conv and its batch norm are one conv "
                    "(the notebook's get_fused_bn_to_conv_state_dict)",
                    algebra, dev);

    rv_lesson_agree_heading("the fused conv's", "conv then BN in eval mode");
    rv_conv_bn_pair l = {0}, lb = {0};
    int pass = check(&l, dev, batch, channels, size, 0);
    pass &= check(&lb, dev, batch, channels, size, 1);
    rv_conv_bn_free(&lb);

    rv_status st = l.yf.data ? RV_OK : RV_EINVAL; /* built, or already reported */
    if (st == RV_OK) {
        printf("\nTraining mode: BN normalises with this batch's own mean and variance, which\n"
               "change with every batch, so no fixed conv computes it (the notebook: \"be sure\n"
               "to switch to eval mode!!\"):\n");
        pass &= training_mode(&l, dev);
    }

    rv_lesson_form forms[2] = {
        {.name = "conv + BN (2 ops)",
         .fn = rv_conv_bn_forward,
         .ctx = &l,
         .activations = l.held[0]},
        {.name = "fused conv (1 op)", .fn = rv_conv_bn_fused, .ctx = &l, .activations = l.held[1]},
    };
    if (st == RV_OK) {
        char what[64];
        snprintf(what, sizeof what, "%dx%dx%dx%d input", batch, channels, size, size);
        rv_lesson_compare(dev, what, forms, warmup, repeat, NULL, NULL);
    }
    rv_conv_bn_free(&l);
    return rv_lesson_end(pass, dev,
                         "the fused conv matches conv + BN in eval mode, and training-mode BN is "
                         "far from it",
                         "the fused conv does NOT match conv + BN in eval mode, or training mode "
                         "came close");
}
