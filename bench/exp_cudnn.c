/* exp_cudnn.c - cudnn.tsv (CUDA, built with cuDNN): the deploy-time layer
 * (3x3 conv C -> C, bias, ReLU) through our CUDA conv and through cuDNN's
 * fastest FP32 algorithm (cudnnFind, FMA math, no TF32), batch 1 and 32, on
 * the shapes of block.tsv. Built only where CMake finds cuDNN, with
 * bench/cudnn_conv.cu.
 *
 * FLOPs: 2 x multiply-adds, N*C*C*P*Q*3*3 of them.
 */
#include <math.h>
#include <stdio.h>

#include "bench.h"
#include "cudnn_conv.h"
#include "rv_check.h"
#include "rv_ops.h"

typedef struct {
    const rv_tensor *x, *w, *b;
    rv_conv_params p;
    rv_tensor *y;
} conv_ctx;

static rv_status conv_forward(void *ctx)
{
    conv_ctx *c = ctx;
    return rv_conv2d(c->x, c->w, c->b, c->p, c->y);
}

/* The deploy-time layer both ways on one shape. cuDNN's output is checked
 * against ours: its FFT and Winograd algorithms round differently from a
 * direct sum, so with RV_TOL_NET. */
static rv_status cudnn_shape(const bench_run *run, bench_table *t, int sweep, int batch, int c,
                             int s)
{
    rv_rng rng = rv_rng_seed(10);
    rv_tensor x = {0}, w = {0}, b = {0}, y = {0}, yd = {0};
    rv_conv_params p = {.stride = 1, .pad_h = 1, .pad_w = 1, .groups = 1, .relu = 1};
    int repeat = run->quick ? 3 : 20;
    rv_cudnn_conv *cd = NULL;
    char algo[32] = "";
    size_t ws = 0;
    rv_form_result r[2];
    const int64_t xd[4] = {batch, c, s, s}, wd[4] = {c, c, 3, 3}, bd[1] = {c};
    float bound = 1.0f / sqrtf(9.0f * c); /* PyTorch's conv init */
    rv_status st = rv_tensor_random(&x, RV_CUDA, 4, xd, &rng, -1.0f, 1.0f, "input");
    if (st == RV_OK) st = rv_tensor_random(&w, RV_CUDA, 4, wd, &rng, -bound, bound, "weight");
    if (st == RV_OK) st = rv_tensor_random(&b, RV_CUDA, 1, bd, &rng, -0.1f, 0.1f, "bias");
    if (st == RV_OK) st = rv_tensor_alloc4(&y, RV_CUDA, batch, c, s, s, "output (ours)");
    if (st == RV_OK) st = rv_tensor_alloc4(&yd, RV_CUDA, batch, c, s, s, "output (cuDNN)");
    conv_ctx ours = {&x, &w, &b, p, &y};
    if (st == RV_OK) st = rv_cudnn_conv_create(&x, &w, &b, p, &yd, &cd, algo, sizeof algo, &ws);
    if (st == RV_OK)
        st = bench_measure_pair(conv_forward, &ours, rv_cudnn_conv_forward, cd, RV_CUDA, repeat, r);
    if (st == RV_OK && !rv_expect_close(stderr, "\ncuDNN against ours", &yd, &y, RV_TOL_NET))
        st = rv_error(RV_EDEVICE, "cuDNN's conv and ours disagree on %dx%dx%dx%d", batch, c, s, s);
    double macs = (double)batch * c * c * 9 * s * s;
    for (int f = 0; f < 2 && st == RV_OK; f++) {
        bench_row(t, "%s\t%d\t%d\t%d\t%s\t%s\t", sweep ? "resolution" : "channels", batch, c, s,
                  f ? "cudnn" : "ours", f ? algo : "im2col_sgemm");
        /* workspace: ours is the im2col buffer the forward grows (its peak) */
        bench_row(t, "%.5f\t%.5f\t%.5f\t%.3f\t%zu\n", r[f].time.median_ms, r[f].time.min_ms,
                  r[f].time.max_ms, 2 * macs / (r[f].time.median_ms * 1e6),
                  f ? ws : r[0].peak_bytes);
    }
    rv_cudnn_conv_destroy(cd);
    rv_tensor_free(&x);
    rv_tensor_free(&w);
    rv_tensor_free(&b);
    rv_tensor_free(&y);
    rv_tensor_free(&yd);
    return st;
}

static rv_status run_cudnn(bench_run *run, bench_output out[BENCH_MAX_FILES])
{
    static const int batches[] = {1, 32};
    rv_status st = RV_OK;
    int c, s;
    for (int bi = 0; bi < (run->quick ? 1 : 2) && st == RV_OK; bi++)
        for (int sweep = 0; sweep < 2 && st == RV_OK; sweep++)
            for (int k = 0; bench_block_shape(run, sweep, k, &c, &s) && st == RV_OK; k++) {
                bench_progress(run, "conv vs cuDNN: batch %d, %d channels, %dx%d", batches[bi], c,
                               s, s);
                st = cudnn_shape(run, &out[0].rows, sweep, batches[bi], c, s);
            }
    return st;
}

const bench_experiment bench_exp_cudnn = {
    .title = "our conv against cuDNN's",
    .files = {{.name = "cudnn.tsv",
               .what = "the deploy-time layer (3x3 conv C -> C, bias, "
                       "ReLU) through our CUDA conv and through cuDNN's fastest FP32 "
                       "algorithm (cudnnFind, FMA math, no TF32), batch 1 and 32",
               .columns = "sweep\tbatch\tchannels\tsize\timpl\talgo\tmedian_ms\tmin_ms\t"
                          "max_ms\tgflops\tworkspace_bytes"}},
    .where = BENCH_CUDA_ONLY,
    .run = run_cudnn,
};
