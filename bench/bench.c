/* rv_bench - the course's benchmark harness (`make bench`).
 *
 * Measures the forms the lessons build, with the library's honest timing
 * (warm-up, sync, repetitions, median/min/max) and its tracking allocator,
 * and writes one TSV per experiment into OUT/<machine>/:
 *   kernels.tsv   the kernels lessons 03, 04 and 05 build, for their pictures
 *                 (computed by the library's rewrites, not timed)
 *   pairs.tsv     each lesson's pair of forms over a sweep of sizes (lessons 01,
 *                 02 and 05, and lesson 08's ACNet and DBB blocks)
 *   block.tsv     one RepVGG block, train vs deploy, against channels and resolution
 *   networks.tsv  A0, A1, B0, train vs deploy, against batch size, and the
 *                 memory each form holds: activation buffers, workspace,
 *                 weights planned for the CPU (Winograd-domain or packed)
 *   naive.tsv     the notebook's first-call timing, in both orders, vs honest
 *   speedup.tsv   deploy/train speed-up of each step and network; its header
 *                 holds the run's time
 *   int8.tsv      lesson 10: RepVGG-A0 and its QARepVGG twin simulated in INT8,
 *                 both forms, weights per tensor and per channel: SQNR per
 *                 block and end to end, five seeds (not timed)
 *   int8_weights.tsv  lesson 10: where the folded kernels' weights fall on
 *                 their INT8 grid, as histograms (the lesson's seed)
 *   cudnn.tsv     (CUDA, built with cuDNN) the deploy-time layer: ours vs cuDNN's
 * Each file starts with `#` lines saying what was measured and where, then a
 * line of column names; files are written atomically. Runs on the CPU, and
 * on CUDA too when a device answers. bench/plot.sh draws the charts.
 *
 * FLOPs: 2 x multiply-adds; a conv does N*O*P*Q*(C/groups)*KH*KW of them, and
 * each form is charged what it computes (train: 3x3 and 1x1 convs).
 *
 * Run: rv_bench [--out DIR] [--machine NAME] [--quick] [--device auto|cpu|cuda]
 *      rv_bench --machine-name [--device D]: the folder's name only (rv_machine.h)
 */
#include <errno.h>
#include <math.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rv_alloc.h"
#include "rv_cli.h"
#include "rv_conv_bn_pair.h"
#include "rv_file.h"
#include "rv_machine.h"
#include "rv_mobileone.h"
#include "rv_net.h"
#include "rv_notebook.h"
#include "rv_plan.h"
#include "rv_quant_net.h"
#include "rv_reparam.h"
#include "rv_report.h"
#include "rv_two_branch.h"
#ifdef RV_HAVE_CUDA
#include "rv_cuda.h"
#endif
#ifdef RV_HAVE_CUDNN
#include "cudnn_conv.h"
#include "rv_check.h"
#endif

extern char **environ;

#define CHILD_FLAG "--child-first-call" /* hidden: one process of experiment 4 */

/* ---- a table: rows appended in memory, written atomically at the end ---- */
typedef struct {
    char *buf;
    size_t len, cap;
} table;

static void row(table *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (t->len + (size_t)n + 1 > t->cap) {
        t->cap = (t->len + (size_t)n + 1) * 2;
        char *grown = realloc(t->buf, t->cap);
        if (!grown) {
            fprintf(stderr, "rv_bench: out of memory for results\n");
            exit(1);
        }
        t->buf = grown;
    }
    va_start(ap, fmt);
    vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    t->len += (size_t)n;
}

typedef struct {
    char machine[64], cpu[160], gpu[200], date[32], commit[48], dir[4096], threads[256];
    int cores, quick;
    rv_device devs[2];
    int ndev;
} run_info;

/* The timings of the table being filled, and how many of them ran while the
 * machine was not quiet (rv_busy.h): its metadata says so, and the run's
 * last line on stderr warns when any did. */
static int timings, busy_timings, busy_total;
static rv_busy worst_busy;

static void count_busy(const rv_busy *b)
{
    timings++;
    if (rv_busy_verdict(b)) {
        busy_timings++;
        busy_total++;
        rv_busy_worst(&worst_busy, b);
    }
}

static rv_status write_table(const run_info *ri, const char *name, const char *what,
                             const char *columns, const table *t)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", ri->dir, name);
    table out = {0};
    char quiet[160] = "";
    if (timings > 0)
        snprintf(quiet, sizeof quiet,
                 "# machine quiet: %d of %d timings ran while it was not (docs/busy_machine.md)\n",
                 busy_timings, timings);
    row(&out,
        "# %s\n# machine: %s\n# cpu: %s (%d cores)\n# gpu: %s\n# date: %s\n# commit: %s\n"
        "# build: %s\n# cpu threads: %s\n# mode: %s\n# cuda math: FP32 (TF32 off)\n"
        "# timing: warm-up, synchronised, the two forms of a row pair run by turns, median "
        "with min and max; peak = bytes allocated while one forward runs (tracking "
        "allocator)\n%s%s\n",
        what, ri->machine, ri->cpu, ri->cores, ri->gpu, ri->date, ri->commit, RV_BUILD_TYPE,
        ri->threads,
        ri->quick ? "quick (tiny sizes, few repetitions: for testing the pipeline)" : "full", quiet,
        columns);
    timings = busy_timings = 0;
    rv_atomic_file af;
    rv_status st = rv_atomic_open(&af, path);
    if (st == RV_OK) st = rv_atomic_write(&af, out.buf, out.len);
    if (st == RV_OK) st = rv_atomic_write(&af, t->buf, t->len);
    if (st == RV_OK) st = rv_atomic_commit(&af);
    free(out.buf);
    return st;
}

/* ---- progress ---- */
static int exp_i, exp_n = 5;

static void progress(const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\r[%d/%d] %-70.70s", exp_i, exp_n, msg);
    fflush(stderr);
}

/* Times two forms (a: train-time or ours, b: deploy-time or the reference),
 * interleaved so their ratio is honest on a shared machine; every field of
 * r[0] and r[1] filled, or an error. */
static rv_status measure_pair(rv_fn fa, void *a, rv_fn fb, void *b, rv_device dev, int repeat,
                              rv_form_result r[2])
{
    rv_status st = rv_measure_pair(fa, a, fb, b, dev, repeat > 3 ? 3 : 1, repeat, &r[0], &r[1]);
    if (st == RV_OK) count_busy(&r[0].time.busy);
    return st;
}

static void time_row(table *t, const rv_form_result *r)
{
    row(t, "%.5f\t%.5f\t%.5f\t%zu", r->time.median_ms, r->time.min_ms, r->time.max_ms,
        r->peak_bytes);
}

/* ---- the kernels of lessons 03, 04 and 05, for their pictures ---- */
/* One row per weight (kind "weight": out, in, row, column) of w (O, C/g, K,
 * K) and, when b is given, per bias (kind "bias": out; in, row and column -1). */
static void kernel_rows(table *t, const char *picture, const char *panel, const rv_tensor *w,
                        const rv_tensor *b)
{
    const int64_t O = w->dim[0], C = w->dim[1], K = w->dim[2];
    for (int64_t o = 0; o < O; o++)
        for (int64_t c = 0; c < C; c++)
            for (int64_t r = 0; r < K; r++)
                for (int64_t k = 0; k < K; k++)
                    row(t, "%s\t%s\tweight\t%lld\t%lld\t%lld\t%lld\t%.6g\n", picture, panel,
                        (long long)o, (long long)c, (long long)r, (long long)k,
                        w->data[((o * C + c) * K + r) * K + k]);
    for (int64_t o = 0; b && o < O; o++)
        row(t, "%s\t%s\tbias\t%lld\t-1\t-1\t-1\t%.6g\n", picture, panel, (long long)o, b->data[o]);
}

/* Tensors on the CPU: ndim 4 (O, C, K, K) when k > 0, else a bias (O). */
static rv_status kernel_tensors(rv_tensor *ts, const int *k, int n, int64_t o, int64_t c)
{
    rv_status st = RV_OK;
    for (int i = 0; i < n && st == RV_OK; i++)
        st = k[i] ? rv_tensor_alloc4(&ts[i], RV_CPU, o, c, k[i], k[i], "kernel")
                  : rv_tensor_alloc1(&ts[i], RV_CPU, o, "bias");
    return st;
}

/* Lesson 03: a 1x1 kernel of small integers and the 3x3 it pads into. */
static rv_status pad_picture(table *t, rv_rng *rng)
{
    rv_tensor w[2] = {{0}};
    static const int k[2] = {1, 3};
    rv_status st = kernel_tensors(w, k, 2, 2, 2);
    if (st == RV_OK) st = rv_tensor_fill_int(&w[0], rng, -3, 3);
    if (st == RV_OK) st = rv_pad_kernel(&w[0], &w[1]);
    if (st == RV_OK) {
        kernel_rows(t, "pad", "1x1", &w[0], NULL);
        kernel_rows(t, "pad", "3x3", &w[1], NULL);
    }
    for (int i = 0; i < 2; i++) rv_tensor_free(&w[i]);
    return st;
}

/* Lesson 04: the identity kernel of 4 channels in 1, 2 and 4 groups. */
static rv_status identity_picture(table *t)
{
    static const int groups[3] = {1, 2, 4};
    rv_status st = RV_OK;
    for (int i = 0; i < 3 && st == RV_OK; i++) {
        rv_tensor w = {0};
        char panel[16];
        snprintf(panel, sizeof panel, "groups=%d", groups[i]);
        st = rv_tensor_alloc4(&w, RV_CPU, 4, 4 / groups[i], 3, 3, "identity kernel");
        if (st == RV_OK) st = rv_identity_kernel(groups[i], &w);
        if (st == RV_OK) kernel_rows(t, "identity", panel, &w, NULL);
        rv_tensor_free(&w);
    }
    return st;
}

/* Lesson 05: a block's three branches, each with its BN folded in (the 1x1
 * padded after, the identity as a kernel), on 2 channels of small-integer
 * weights and random BN statistics, and their sum: the fused kernel and bias,
 * by the steps the block's fold takes. */
static rv_status block_picture(table *t, rv_rng *rng)
{
    enum { W3, W1, ID, N };
    rv_block b = {0};
    rv_block_spec spec;
    rv_tensor w[N] = {{0}}, bias[N] = {{0}}, p1 = {0}, sum = {0}, sum_b = {0};
    rv_status st = rv_repvgg_block_spec(2, 2, 1, 1, &spec);
    if (st == RV_OK) st = rv_block_alloc(&b, spec);
    for (int i = 0; i < N && st == RV_OK; i++) st = rv_bn_randomize(&b.branch[i].bn, rng);
    if (st == RV_OK) st = rv_tensor_fill_int(&b.branch[W3].w, rng, -2, 2);
    if (st == RV_OK) st = rv_tensor_fill_int(&b.branch[W1].w, rng, -2, 2);
    for (int i = 0; i < N && st == RV_OK; i++) st = rv_branch_kernel_fused(&b, i, &w[i], &bias[i]);
    if (st == RV_OK) st = rv_tensor_alloc4(&p1, RV_CPU, 2, 2, 3, 3, "padded 1x1");
    if (st == RV_OK) st = rv_pad_kernel(&w[W1], &p1);
    if (st == RV_OK) st = rv_tensor_clone(&sum, &w[W3], RV_CPU, "fused kernel");
    if (st == RV_OK) st = rv_tensor_clone(&sum_b, &bias[W3], RV_CPU, "fused bias");
    if (st == RV_OK) st = rv_sum_convs(&sum, &sum_b, &p1, &bias[W1], &sum, &sum_b);
    if (st == RV_OK) st = rv_sum_convs(&sum, &sum_b, &w[ID], &bias[ID], &sum, &sum_b);
    if (st == RV_OK) {
        kernel_rows(t, "block", "3x3", &w[W3], &bias[W3]);
        kernel_rows(t, "block", "1x1", &p1, &bias[W1]);
        kernel_rows(t, "block", "identity", &w[ID], &bias[ID]);
        kernel_rows(t, "block", "fused", &sum, &sum_b);
    }
    for (int i = 0; i < N; i++) {
        rv_tensor_free(&w[i]);
        rv_tensor_free(&bias[i]);
    }
    rv_tensor *more[3] = {&p1, &sum, &sum_b};
    for (int i = 0; i < 3; i++) rv_tensor_free(more[i]);
    rv_block_free(&b);
    return st;
}

static rv_status exp_kernels(table *t)
{
    rv_rng rng = rv_rng_seed(11);
    rv_status st = pad_picture(t, &rng);
    if (st == RV_OK) st = identity_picture(t);
    if (st == RV_OK) st = block_picture(t, &rng);
    return st;
}

/* ---- experiment 1: each lesson's pair of forms ---- */
typedef struct {
    const char *name;
    double train_ms, deploy_ms; /* at the reference size, for speedup.tsv */
} step;

/* The pairs: two convs summed (lesson 01), conv + BN (02), then blocks C -> C
 * at stride 1: RepVGG's (05), ACNet's and DBB's (08), MobileOne's (09). */
enum { N_PAIRS = 6, N_BLOCK_PAIRS = 3 };
/* MobileOne's block in the pairs: k = 4, MobileOne-S0's (lesson 09) */
#define BENCH_MOBILEONE_K 4
#define STR_(x) #x
#define STR(x) STR_(x)

static rv_status exp_pairs(const run_info *ri, table *t, step steps[N_PAIRS][2])
{
    static const int full[][2] = {{16, 56}, {32, 56}, {64, 56}, {128, 28}, {256, 14}};
    static const int quick[][2] = {{8, 7}, {16, 14}};
    int n = ri->quick ? 2 : 5, ref = ri->quick ? 1 : 2, repeat = ri->quick ? 3 : 30;
    rv_status st = RV_OK;
    for (int d = 0; d < ri->ndev && st == RV_OK; d++)
        for (int k = 0; k < n && st == RV_OK; k++) {
            rv_device dev = ri->devs[d];
            int c = (ri->quick ? quick : full)[k][0], s = (ri->quick ? quick : full)[k][1];
            rv_form_result r[N_PAIRS][2];
            rv_two_branch tb;
            rv_conv_bn_pair cb;
            rv_block_pair bp;
            rv_mobileone_pair mp;
            rv_mobileone mo = {.in_ch = c, .out_ch = c, .stride = 1, .k = BENCH_MOBILEONE_K};
            rv_block_spec spec[N_BLOCK_PAIRS];
            progress("pairs on %s: %d channels, %dx%d", rv_device_name(dev), c, s, s);
            if ((st = rv_repvgg_block_spec(c, c, 1, 1, &spec[0])) != RV_OK) break;
            spec[1] = rv_acnet_block_spec(c, c, 1, 1);
            spec[2] = rv_dbb_block_spec(c, c, 1, 1);
            if ((st = rv_two_branch_build(&tb, dev, 1, c, s, 0, 1)) == RV_OK) {
                st = measure_pair(rv_two_branch_forward, &tb, rv_two_branch_fused, &tb, dev, repeat,
                                  r[0]);
                rv_two_branch_free(&tb);
            }
            if (st == RV_OK && (st = rv_conv_bn_build(&cb, dev, 1, c, s, 0, 2)) == RV_OK) {
                st =
                    measure_pair(rv_conv_bn_forward, &cb, rv_conv_bn_fused, &cb, dev, repeat, r[1]);
                rv_conv_bn_free(&cb);
            }
            for (int b = 0; b < N_BLOCK_PAIRS && st == RV_OK; b++)
                if ((st = rv_block_pair_build(&bp, spec[b], dev, 1, s, 3)) == RV_OK) {
                    st = measure_pair(rv_block_pair_train, &bp, rv_block_pair_fast, &bp, dev,
                                      repeat, r[2 + b]);
                    rv_block_pair_free(&bp);
                }
            if (st == RV_OK && (st = rv_mobileone_pair_build(&mp, mo, dev, 1, s, 5)) == RV_OK) {
                st = measure_pair(rv_mobileone_pair_train, &mp, rv_mobileone_pair_fast, &mp, dev,
                                  repeat, r[5]);
                rv_mobileone_pair_free(&mp);
            }
            static const char *const pair[N_PAIRS] = {"two_branch", "conv_bn", "block",
                                                      "acnet",      "dbb",     "mobileone"};
            static const char *const form[2] = {"train", "deploy"};
            for (int p = 0; p < N_PAIRS && st == RV_OK; p++)
                for (int f = 0; f < 2; f++) {
                    row(t, "%s\t%s\t%d\t%d\t%d\t%s\t", pair[p], rv_device_name(dev), 1, c, s,
                        form[f]);
                    time_row(t, &r[p][f]);
                    row(t, "\n");
                    if (k == ref) {
                        double *ms = f ? &steps[p][d].deploy_ms : &steps[p][d].train_ms;
                        *ms = r[p][f].time.median_ms;
                    }
                }
        }
    return st;
}

/* ---- experiment 2: one block against channels and resolution ---- */
/* The block shapes experiments 2 and 6 sweep: sweep 0 is channels at 56x56,
 * sweep 1 resolution at 64 channels. Returns 0 past the sweep's end. */
static int block_shape(const run_info *ri, int sweep, int k, int *c, int *s)
{
    static const int channels[] = {16, 32, 64, 128, 256, 512}, sizes[] = {14, 28, 56, 112, 224};
    if (k >= (ri->quick ? 2 : sweep ? 5 : 6)) return 0;
    *c = sweep ? 64 : channels[k];
    *s = sweep ? sizes[k] : 56;
    if (ri->quick) *c = sweep ? 8 : 8 * (k + 1), *s = sweep ? 7 * (k + 1) : 7;
    return 1;
}

static rv_status exp_block(const run_info *ri, table *t)
{
    int repeat = ri->quick ? 3 : 10, c, s;
    rv_status st = RV_OK;
    for (int d = 0; d < ri->ndev && st == RV_OK; d++)
        for (int sweep = 0; sweep < 2 && st == RV_OK; sweep++)
            for (int k = 0; block_shape(ri, sweep, k, &c, &s) && st == RV_OK; k++) {
                rv_device dev = ri->devs[d];
                progress("block on %s: %d channels, %dx%d", rv_device_name(dev), c, s, s);
                rv_block_pair bp;
                rv_form_result r[2];
                rv_block_spec spec;
                if ((st = rv_repvgg_block_spec(c, c, 1, 1, &spec)) != RV_OK ||
                    (st = rv_block_pair_build(&bp, spec, dev, 1, s, 4)) != RV_OK)
                    break;
                st =
                    measure_pair(rv_block_pair_train, &bp, rv_block_pair_fast, &bp, dev, repeat, r);
                /* activations each form holds: x, its buffers (train: the branch
                 * buffer and y; deploy: y), as the tracking allocator counted them */
                size_t x_bytes = rv_tensor_bytes(&bp.x), held[2] = {bp.held[0], bp.held[1]};
                rv_block_pair_free(&bp);
                double macs3 = (double)c * c * 9 * s * s;
                for (int f = 0; f < 2 && st == RV_OK; f++) {
                    double macs = f ? macs3 : macs3 * 10 / 9;
                    row(t, "%s\t%s\t%d\t%d\t%s\t", sweep ? "resolution" : "channels",
                        rv_device_name(dev), c, s, f ? "deploy" : "train");
                    time_row(t, &r[f]);
                    row(t, "\t%.3f\t%zu\n", 2 * macs / (r[f].time.median_ms * 1e6),
                        x_bytes + held[f] + r[f].peak_bytes);
                }
            }
    return st;
}

/* ---- experiment 3: whole networks against batch ---- */
typedef struct {
    rv_plan *plan;
    rv_tensor *x, *y;
} net_ctx;

static rv_status net_forward(void *ctx)
{
    net_ctx *c = ctx;
    return rv_plan_forward(c->plan, c->x, c->y);
}

/* Both forms of a net on dev, on one input: each form's peak is its plan's
 * bytes (buffers, prepared weights, workspace) and what a forward adds,
 * their times interleaved, what each plan holds, and the CUDA launches of
 * one forward. */
static rv_status time_nets(rv_net *nets[2], rv_device dev, int batch, int size, int repeat,
                           rv_form_result r[2], rv_plan_info info[2], long launches[2])
{
    rv_rng rng = rv_rng_seed(8);
    rv_tensor x = {0}, y = {0};
    int64_t out[4];
    int rank;
    rv_status st = rv_tensor_random(&x, dev, 4, (const int64_t[]){batch, 3, size, size}, &rng,
                                    -1.0f, 1.0f, "input");
    if (st == RV_OK) st = rv_net_out_shape(nets[0], &x, out, &rank);
    if (st == RV_OK) st = rv_tensor_alloc(&y, dev, rank, out, "output");
    rv_plan plan[2] = {0};
    size_t planned[2] = {0};
    net_ctx c[2] = {{&plan[0], &x, &y}, {&plan[1], &x, &y}};
    for (int f = 0; f < 2; f++) {
        if (st == RV_OK) st = rv_plan_build_counted(&plan[f], nets[f], &x, NULL, &planned[f]);
        launches[f] = -1;
    }
    if (st == RV_OK) st = measure_pair(net_forward, &c[0], net_forward, &c[1], dev, repeat, r);
    for (int f = 0; f < 2 && st == RV_OK; f++) {
        r[f].peak_bytes += planned[f];
        info[f] = rv_plan_describe(&plan[f]);
    }
#ifdef RV_HAVE_CUDA
    for (int f = 0; f < 2 && st == RV_OK && dev == RV_CUDA; f++) {
        long before = rv_cuda_launches();
        st = net_forward(&c[f]);
        launches[f] = rv_cuda_launches() - before;
    }
#endif
    for (int f = 0; f < 2; f++) rv_plan_free(&plan[f]);
    rv_tensor_free(&x);
    rv_tensor_free(&y);
    return st;
}

static rv_status exp_networks(const run_info *ri, table *t, step nets[3][2])
{
    static const char *const archs[3] = {"A0", "A1", "B0"};
    static const int cpu_batch[] = {1, 4, 16, 64}, gpu_batch[] = {1, 8, 32, 128, 256};
    int size = ri->quick ? 32 : 224, na = ri->quick ? 1 : 3;
    rv_status st = RV_OK;
    for (int d = 0; d < ri->ndev && st == RV_OK; d++) {
        rv_device dev = ri->devs[d];
        const int *batches = dev == RV_CUDA ? gpu_batch : cpu_batch;
        int nb = ri->quick ? 2 : (dev == RV_CUDA ? 5 : 4);
        for (int a = 0; a < na && st == RV_OK; a++) {
            rv_arch arch;
            rv_block_spec specs[RV_MAX_BLOCKS];
            int n;
            rv_net train = {0}, fast = {0};
            rv_tensor calib = {0};
            rv_rng rng = rv_rng_seed(9);
            st = rv_arch_preset(archs[a], &arch);
            if (st == RV_OK) st = rv_arch_specs(&arch, 3, specs, &n);
            if (st == RV_OK) st = rv_net_init_random(&train, specs, n, 0, &rng, dev);
            /* trained-like BN statistics, so activations stay near unit scale */
            if (st == RV_OK) st = rv_tensor_alloc4(&calib, RV_CPU, 2, 3, 64, 64, "calibration");
            if (st == RV_OK) st = rv_tensor_fill_uniform(&calib, &rng, -1.0f, 1.0f);
            rv_tensor dcalib = {0};
            if (st == RV_OK) st = rv_tensor_clone(&dcalib, &calib, dev, "calibration");
            if (st == RV_OK) st = rv_net_calibrate_bn(&train, &dcalib, &rng);
            rv_tensor_free(&calib);
            rv_tensor_free(&dcalib);
            if (st == RV_OK) st = rv_net_switch_to_fast(&train, &fast);
            for (int b = 0; b < nb && st == RV_OK; b++) {
                int batch = batches[b], repeat = ri->quick ? 2 : (batch >= 16 ? 2 : 5);
                rv_net *form[2] = {&train, &fast};
                rv_form_result r[2];
                rv_plan_info info[2];
                long launches[2];
                progress("networks on %s: RepVGG-%s, batch %d, both forms", rv_device_name(dev),
                         archs[a], batch);
                st = time_nets(form, dev, batch, size, repeat, r, info, launches);
                for (int f = 0; f < 2 && st == RV_OK; f++) {
                    row(t, "%s\t%s\t%d\t%d\t%s\t", archs[a], rv_device_name(dev), batch, size,
                        f ? "deploy" : "train");
                    time_row(t, &r[f]);
                    /* what the plan holds, each part within the peak: its
                     * activation buffers, the workspace, the weights prepared
                     * for the CPU's kernels */
                    row(t, "\t%.2f\t%.4f\t%ld\t%zu\t%zu\t%zu\n", batch * 1e3 / r[f].time.median_ms,
                        rv_net_macs(form[f], batch, size, size) / 1e9, launches[f],
                        info[f].activation_bytes, info[f].workspace_bytes, info[f].weight_bytes);
                    if (b == 0)
                        *(f ? &nets[a][d].deploy_ms : &nets[a][d].train_ms) = r[f].time.median_ms;
                }
            }
            rv_net_free(&train);
            rv_net_free(&fast);
        }
    }
    return st;
}

/* ---- experiment 4: the notebook's first-call timing, in fresh processes ---- */
static int child_first_call(const char *device, int fused_first)
{
    rv_device dev;
    rv_two_branch tb;
    double two = 0, fused = 0;
    if (rv_device_select(device, &dev) != RV_OK ||
        rv_two_branch_build(&tb, dev, 4, 8, 7, 0, 1) != RV_OK) {
        fprintf(stderr, "rv_bench: %s\n", rv_last_error());
        return 1;
    }
    rv_status st = fused_first ? rv_time_naive(rv_two_branch_fused, &tb, &fused)
                               : rv_time_naive(rv_two_branch_forward, &tb, &two);
    if (st == RV_OK)
        st = fused_first ? rv_time_naive(rv_two_branch_forward, &tb, &two)
                         : rv_time_naive(rv_two_branch_fused, &tb, &fused);
    if (st == RV_OK) st = rv_device_sync(dev);
    rv_two_branch_free(&tb);
    if (st != RV_OK) return 1;
    printf("%.9f %.9f\n", two, fused);
    return 0;
}

/* Runs this program again as a fresh process for one first-call measurement. */
static rv_status spawn_child(rv_device dev, int fused_first, double *two, double *fused)
{
    int fd[2];
    if (pipe(fd) != 0) return rv_error(RV_EIO, "pipe: %s", strerror(errno));
    char *args[] = {"rv_bench", CHILD_FLAG, fused_first ? "fused" : "two",
                    (char *)rv_device_name(dev), NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fd[1], 1);
    posix_spawn_file_actions_addclose(&fa, fd[0]);
    pid_t pid;
    int err = posix_spawn(&pid, "/proc/self/exe", &fa, NULL, args, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fd[1]);
    if (err != 0) {
        close(fd[0]);
        return rv_error(RV_EIO, "cannot start a fresh process: %s", strerror(err));
    }
    FILE *f = fdopen(fd[0], "r");
    int got = f && fscanf(f, "%lf %lf", two, fused) == 2;
    if (f) fclose(f);
    int status = 0;
    waitpid(pid, &status, 0);
    if (!got || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return rv_error(RV_EIO, "the fresh process timing first calls failed");
    return RV_OK;
}

static rv_status exp_naive(const run_info *ri, table *t)
{
    int trials = ri->quick ? 2 : 5;
    rv_status st = RV_OK;
    for (int d = 0; d < ri->ndev && st == RV_OK; d++) {
        rv_device dev = ri->devs[d];
        for (int order = 0; order < 2 && st == RV_OK; order++)
            for (int k = 0; k < trials && st == RV_OK; k++) {
                double two, fused;
                progress("naive timing on %s: %s first, process %d", rv_device_name(dev),
                         order ? "fused" : "two branches", k + 1);
                st = spawn_child(dev, order, &two, &fused);
                if (st == RV_OK)
                    row(t, "%s\t%s\t%d\t%.6f\t%.6f\t%.3f\n", rv_device_name(dev),
                        order ? "first_call_fused_first" : "first_call_notebook_order", k + 1, two,
                        fused, two / fused);
            }
        rv_two_branch tb;
        rv_timing ab[2];
        if (st == RV_OK && (st = rv_two_branch_build(&tb, dev, 4, 8, 7, 0, 1)) == RV_OK) {
            const rv_fn fns[2] = {rv_two_branch_forward, rv_two_branch_fused};
            void *const ctxs[2] = {&tb, &tb};
            st = rv_time_forms(2, fns, ctxs, dev, 10, 100, ab);
            rv_two_branch_free(&tb);
            if (st == RV_OK) count_busy(&ab[0].busy);
            if (st == RV_OK)
                row(t, "%s\thonest_median\t1\t%.6f\t%.6f\t%.3f\n", rv_device_name(dev),
                    ab[0].median_ms, ab[1].median_ms, ab[0].median_ms / ab[1].median_ms);
        }
    }
    row(t, "notebook\tnotebook_printed\t1\t%.6f\t%.6f\t%.3f\n", RV_NOTEBOOK_TWO_BRANCH_S * 1e3,
        RV_NOTEBOOK_FUSED_S * 1e3, RV_NOTEBOOK_TWO_BRANCH_S / RV_NOTEBOOK_FUSED_S);
    return st;
}

/* ---- experiment 7: INT8, RepVGG against QARepVGG (lesson 10) ---- */
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
static void int8_rows(table *t, const rv_quant_nets *q, rv_device dev, int size, uint64_t seed)
{
    static const char *const net[2] = {"RepVGG", "QARepVGG"}, *const form[2] = {"train", "deploy"},
                             *const grain[2] = {"per_tensor", "per_channel"};
    for (int n = 0; n < 2; n++)
        for (int f = 0; f < 2; f++)
            for (int g = 0; g < 2; g++)
                for (int i = 0; i < q->n_blocks; i++) {
                    const rv_block_spec *s = &q->net[0][0].blocks[i].spec;
                    const rv_quant_block_err *e = &q->err[n][f][g][i];
                    row(t,
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
static rv_status int8_weight_rows(table *t, const rv_quant_nets *q)
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
                row(t, "%s\t%s\t%.6g\t%.6g\t%lld\t%.6f\n", net[n], kind[c],
                    k ? exp2((k - 13) / 2.0) : 0.0, exp2((k - 12) / 2.0),
                    (long long)bins.count[c][k],
                    bins.total[c] ? (double)bins.count[c][k] / (double)bins.total[c] : 0.0);
    }
    return st;
}

static rv_status exp_int8(const run_info *ri, table *t, table *tw, int *size, int *n_calib)
{
    rv_device dev = ri->devs[ri->ndev - 1];
    rv_arch arch;
    rv_block_spec specs[RV_MAX_BLOCKS];
    int n = 0, seeds = ri->quick ? 1 : INT8_SEEDS;
    *size = ri->quick ? 32 : 224;
    *n_calib = 2; /* the lesson's default */
    rv_quant_nets *q = malloc(sizeof *q);
    if (!q) return rv_error(RV_ENOMEM, "no memory for the INT8 experiment");
    rv_status st = rv_arch_preset("A0", &arch);
    if (st == RV_OK) st = rv_arch_specs(&arch, 3, specs, &n);
    for (int k = 0; k < seeds && st == RV_OK; k++) {
        uint64_t seed = RV_QUANT_SEED + (uint64_t)k;
        progress("INT8 on %s: RepVGG-A0 and QARepVGG-A0, %dx%d, seed %llu", rv_device_name(dev),
                 *size, *size, (unsigned long long)seed);
        st = rv_quant_nets_build(q, specs, n, dev, 1, *size, *n_calib, seed);
        if (st != RV_OK) break;
        int8_rows(t, q, dev, *size, seed);
        if (k == 0) st = int8_weight_rows(tw, q);
        rv_quant_nets_free(q);
    }
    free(q);
    return st;
}

#ifdef RV_HAVE_CUDNN
/* ---- experiment 6 (CUDA): our conv against cuDNN's fastest algorithm ---- */
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

/* The deploy-time layer (3x3 conv C -> C, bias, ReLU) both ways on one
 * shape. cuDNN's output is checked against ours: its FFT and Winograd
 * algorithms round differently from a direct sum, so with RV_TOL_NET. */
static rv_status cudnn_shape(const run_info *ri, table *t, int sweep, int batch, int c, int s)
{
    rv_rng rng = rv_rng_seed(10);
    rv_tensor x = {0}, w = {0}, b = {0}, y = {0}, yd = {0};
    rv_conv_params p = {.stride = 1, .pad_h = 1, .pad_w = 1, .groups = 1, .relu = 1};
    int repeat = ri->quick ? 3 : 20;
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
        st = measure_pair(conv_forward, &ours, rv_cudnn_conv_forward, cd, RV_CUDA, repeat, r);
    if (st == RV_OK && !rv_expect_close(stderr, "\ncuDNN against ours", &yd, &y, RV_TOL_NET))
        st = rv_error(RV_EDEVICE, "cuDNN's conv and ours disagree on %dx%dx%dx%d", batch, c, s, s);
    double macs = (double)batch * c * c * 9 * s * s;
    for (int f = 0; f < 2 && st == RV_OK; f++) {
        row(t, "%s\t%d\t%d\t%d\t%s\t%s\t", sweep ? "resolution" : "channels", batch, c, s,
            f ? "cudnn" : "ours", f ? algo : "im2col_sgemm");
        /* workspace: ours is the im2col buffer the forward grows (its peak) */
        row(t, "%.5f\t%.5f\t%.5f\t%.3f\t%zu\n", r[f].time.median_ms, r[f].time.min_ms,
            r[f].time.max_ms, 2 * macs / (r[f].time.median_ms * 1e6), f ? ws : r[0].peak_bytes);
    }
    rv_cudnn_conv_destroy(cd);
    rv_tensor_free(&x);
    rv_tensor_free(&w);
    rv_tensor_free(&b);
    rv_tensor_free(&y);
    rv_tensor_free(&yd);
    return st;
}

static rv_status exp_cudnn(const run_info *ri, table *t)
{
    static const int batches[] = {1, 32};
    rv_status st = RV_OK;
    int c, s;
    for (int bi = 0; bi < (ri->quick ? 1 : 2) && st == RV_OK; bi++)
        for (int sweep = 0; sweep < 2 && st == RV_OK; sweep++)
            for (int k = 0; block_shape(ri, sweep, k, &c, &s) && st == RV_OK; k++) {
                progress("conv vs cuDNN: batch %d, %d channels, %dx%d", batches[bi], c, s, s);
                st = cudnn_shape(ri, t, sweep, batches[bi], c, s);
            }
    return st;
}
#endif

/* ---- where and when ---- */
static void git_commit(char *buf, size_t len)
{
    snprintf(buf, len, "unknown");
    FILE *p = popen("git -C '" RV_SOURCE_DIR "' rev-parse --short HEAD 2>/dev/null", "r");
    if (!p) return;
    if (fgets(buf, (int)len, p)) buf[strcspn(buf, "\n")] = '\0';
    if (pclose(p) != 0) snprintf(buf, len, "unknown");
}

static int make_dirs(const char *path)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return -1;
            *p = '/';
        }
    return mkdir(tmp, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], CHILD_FLAG) == 0)
        return child_first_call(argv[3], strcmp(argv[2], "fused") == 0);
    const char *out = "bench/results", *machine = NULL, *device = "auto";
    int quick = 0, print_name = 0;
    rv_opt opts[] = {
        {"out", RV_OPT_STR, &out, "results root: files go to OUT/<machine>/"},
        {"machine", RV_OPT_STR, &machine,
         "machine name (default: the GPU's or CPU's model; \"-avx2\" added on a CPU without "
         "AVX-512)"},
        {"device", RV_OPT_STR, &device, "auto (CPU, and CUDA when a device answers), cpu or cuda"},
        {"quick", RV_OPT_FLAG, &quick, "tiny sizes, few repetitions (tests the pipeline)"},
        {"machine-name", RV_OPT_FLAG, &print_name,
         "print the machine's name (the folder under OUT, for --device) and exit, measuring "
         "nothing"},
    };
    int rc = rv_parse_args(argc, argv,
                           "rv_bench: measure the lessons' forms, blocks and networks; "
                           "write TSV files for bench/plot.sh",
                           opts, 5);
    if (rc >= 0) return rc;
    run_info ri = {.quick = quick};
    rv_device dev;
    if ((rc = rv_cli_device(argv[0], device, &dev)) >= 0) return rc;
    if (machine)
        rv_machine_slug(machine, ri.machine, sizeof ri.machine);
    else
        rv_machine_name(dev, ri.machine, sizeof ri.machine);
    if (print_name) {
        printf("%s\n", ri.machine);
        return 0;
    }
    ri.devs[ri.ndev++] = RV_CPU;
    if (dev == RV_CUDA) {
        if (strcmp(device, "cuda") == 0) ri.ndev = 0;
        ri.devs[ri.ndev++] = RV_CUDA;
#ifdef RV_HAVE_CUDNN
        exp_n = 6;
#endif
    }
    rv_device_describe(RV_CPU, ri.cpu, sizeof ri.cpu);
    ri.cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
    rv_cli_timing_threads(argv[0]); /* before describing: the threads the TSVs name */
    rv_cpu_threads_init();          /* before describing: it sets OpenBLAS to one thread */
    rv_cpu_blas_describe(ri.threads, sizeof ri.threads);
    snprintf(ri.gpu, sizeof ri.gpu, "none");
    if (dev == RV_CUDA) rv_device_describe(RV_CUDA, ri.gpu, sizeof ri.gpu);
    time_t now = time(NULL);
    strftime(ri.date, sizeof ri.date, "%Y-%m-%d %H:%M UTC", gmtime(&now));
    git_commit(ri.commit, sizeof ri.commit);
    snprintf(ri.dir, sizeof ri.dir, "%s/%s", out, ri.machine);
    if (make_dirs(ri.dir) != 0) {
        fprintf(stderr, "%s: cannot create %s: %s\n", argv[0], ri.dir, strerror(errno));
        return 1;
    }
    fprintf(stderr, "rv_bench: %s mode on %s -> %s\n", quick ? "quick" : "full", ri.machine,
            ri.dir);

    table t_kernels = {0}, t_pairs = {0}, t_block = {0}, t_nets = {0}, t_naive = {0}, t_speed = {0};
    step steps[N_PAIRS][2] = {{{"two-branch sum", 0, 0}, {"two-branch sum", 0, 0}},
                              {{"conv+BN", 0, 0}, {"conv+BN", 0, 0}},
                              {{"RepVGG block", 0, 0}, {"RepVGG block", 0, 0}},
                              {{"ACNet block", 0, 0}, {"ACNet block", 0, 0}},
                              {{"DBB block", 0, 0}, {"DBB block", 0, 0}},
                              {{"MobileOne block k=" STR(BENCH_MOBILEONE_K), 0, 0},
                               {"MobileOne block k=" STR(BENCH_MOBILEONE_K), 0, 0}}};
    step nets[3][2] = {{{"RepVGG-A0", 0, 0}, {"RepVGG-A0", 0, 0}},
                       {{"RepVGG-A1", 0, 0}, {"RepVGG-A1", 0, 0}},
                       {{"RepVGG-B0", 0, 0}, {"RepVGG-B0", 0, 0}}};
    double t0 = rv_now_ms();
    rv_status st = exp_kernels(&t_kernels);
    if (st == RV_OK)
        st = write_table(
            &ri, "kernels.tsv",
            "the kernels of lessons 03, 04 and 05, as the library's rewrites "
            "(rv_pad_kernel, rv_identity_kernel, rv_fuse_conv_bn, rv_sum_convs) compute "
            "them on seeded small integers and random BN statistics; not a "
            "measurement. pad: a 1x1 kernel (2 -> 2 channels) and its zero-padded "
            "3x3; identity: 4 channels in 1, 2 and 4 groups; block: the three "
            "branches of a 2 -> 2 block, each with its BN folded in, and their sum "
            "(kind bias: one per output channel)",
            "picture\tpanel\tkind\tout\tin\trow\tcol\tvalue", &t_kernels);
    exp_i = 1;
    if (st == RV_OK) st = exp_pairs(&ri, &t_pairs, steps);
    if (st == RV_OK)
        st = write_table(&ri, "pairs.tsv",
                         "experiment 1: each lesson's pair of forms, batch 1; channels C -> C, "
                         "stride 1; MobileOne's block (pair mobileone) with k = " STR(
                             BENCH_MOBILEONE_K) " conv branches per part",
                         "pair\tdevice\tbatch\tchannels\tsize\tform\tmedian_ms\tmin_ms\tmax_ms\t"
                         "peak_bytes",
                         &t_pairs);
    exp_i = 2;
    if (st == RV_OK) st = exp_block(&ri, &t_block);
    if (st == RV_OK)
        st = write_table(&ri, "block.tsv",
                         "experiment 2: one RepVGG block C -> C, stride 1, "
                         "batch 1; activation_bytes = x, y, the branch buffer (train) and the "
                         "workspace",
                         "sweep\tdevice\tchannels\tsize\tform\tmedian_ms\tmin_ms\t"
                         "max_ms\tpeak_bytes\tgflops\tactivation_bytes",
                         &t_block);
    exp_i = 3;
    if (st == RV_OK) st = exp_networks(&ri, &t_nets, nets);
    if (st == RV_OK)
        st = write_table(&ri, "networks.tsv",
                         "experiment 3: whole networks, 3-channel square "
                         "input; peak_bytes = what one forward of a fresh plan allocates, in "
                         "parts: buffer_bytes = the planned activation buffers (two ping-pong "
                         "buffers, and the train-time form's branch buffer), workspace_bytes = "
                         "the scratch of im2col and Winograd, planned_weight_bytes = the weights "
                         "planned for the CPU's kernels (3x3 in the Winograd domain, the others "
                         "packed once); launches per forward on CUDA (-1 on the "
                         "CPU)",
                         "arch\tdevice\tbatch\tsize\tform\t"
                         "median_ms\tmin_ms\tmax_ms\tpeak_bytes\timages_per_s\tgmacs\tlaunches\t"
                         "buffer_bytes\tworkspace_bytes\tplanned_weight_bytes",
                         &t_nets);
    exp_i = 4;
    if (st == RV_OK) st = exp_naive(&ri, &t_naive);
    if (st == RV_OK)
        st = write_table(&ri, "naive.tsv",
                         "experiment 4: the notebook's measurement (the first "
                         "call of each form in a fresh process, host clock, no warm-up, no sync) "
                         "in both orders, and the honest medians; lesson 01's forms on 4x8x7x7; "
                         "the last row (device notebook) is what the notebook printed for the "
                         "same forms on its GPU, quoted, not measured here",
                         "device\tmethod\ttrial\ttwo_branch_ms\tfused_ms\tratio", &t_naive);
    exp_i = 5;
    table t_int8 = {0}, t_int8w = {0};
    int int8_size = 0, int8_calib = 0;
    if (st == RV_OK) st = exp_int8(&ri, &t_int8, &t_int8w, &int8_size, &int8_calib);
    char what7[1200];
    snprintf(what7, sizeof what7,
             "experiment 7 (lesson 10): RepVGG-A0 and its QARepVGG twin (the same 3x3 and 1x1 "
             "kernels) simulated in INT8, measured, not timed: random seeded weights with "
             "calibrated BN statistics, one %dx%d noise image, %d calibration images, seeds %d "
             "to %d (%d is the lesson's default; 10_int8_quantization --seed S measures the same); "
             "form train = each conv branch with its BN folded in quantized alone, deploy = "
             "the folded kernel; weights per_tensor or per_channel; every block's input per "
             "tensor at its calibrated scale; weight_sqnr_db = the folded kernel the form "
             "computes with against float32's, alone = the block's output on the float32 "
             "network's input, chain = the network's output after this block; input_amax = "
             "the largest block input the calibration saw",
             int8_size, int8_size, int8_calib, RV_QUANT_SEED,
             RV_QUANT_SEED + (ri.quick ? 0 : INT8_SEEDS - 1), RV_QUANT_SEED);
    if (st == RV_OK)
        st = write_table(&ri, "int8.tsv", what7,
                         "device\tsize\tseed\tnet\tform\tweights\tblock\tin_ch\tout_ch\tstride\t"
                         "identity\tweight_sqnr_db\talone_sqnr_db\talone_rel_l2\tchain_sqnr_db\t"
                         "chain_rel_l2\tinput_amax",
                         &t_int8);
    if (st == RV_OK)
        st = write_table(
            &ri, "int8_weights.tsv",
            "experiment 7 (lesson 10): the deploy-time kernels of RepVGG-A0 and its "
            "QARepVGG twin (the lesson's seed), blocks with an identity branch: every weight "
            "in steps of its kernel's per-tensor INT8 grid, |w| / s with s = max |W| "
            "/ 127.5, counted in half-octave bins [bin_lo, bin_hi) (the first bin "
            "holds all below 2^-6) by where the tap sits (identity_tap: centre, "
            "input channel o; centre_tap: the other centre taps; outer_tap: the 8 "
            "others), and channel_max: each output channel's max |W_o| / s; "
            "fraction = count / all of that kind; not timed",
            "net\tkind\tbin_lo\tbin_hi\tcount\tfraction", &t_int8w);
    free(t_int8.buf);
    free(t_int8w.buf);
    for (int d = 0; d < ri.ndev && st == RV_OK; d++)
        for (int k = 0; k < N_PAIRS + 3; k++) {
            const step *s = k < N_PAIRS ? &steps[k][d] : &nets[k - N_PAIRS][d];
            if (s->deploy_ms > 0)
                row(&t_speed, "%s\t%s\t%.5f\t%.5f\t%.3f\n", s->name, rv_device_name(ri.devs[d]),
                    s->train_ms, s->deploy_ms, s->train_ms / s->deploy_ms);
        }
#ifdef RV_HAVE_CUDNN
    table t_cudnn = {0};
    if (st == RV_OK && ri.devs[ri.ndev - 1] == RV_CUDA) {
        exp_i = 6;
        st = exp_cudnn(&ri, &t_cudnn);
        if (st == RV_OK)
            st = write_table(&ri, "cudnn.tsv",
                             "experiment 6: the deploy-time layer (3x3 conv C -> C, bias, "
                             "ReLU) through our CUDA conv and through cuDNN's fastest FP32 "
                             "algorithm (cudnnFind, FMA math, no TF32), batch 1 and 32",
                             "sweep\tbatch\tchannels\tsize\timpl\talgo\tmedian_ms\tmin_ms\t"
                             "max_ms\tgflops\tworkspace_bytes",
                             &t_cudnn);
    }
    free(t_cudnn.buf);
#endif
    char what5[300];
    snprintf(what5, sizeof what5,
             "experiment 5: deploy/train speed-up (median over median); steps at %s, "
             "networks at batch 1, %s\n"
             "# run time: %.0f s (every experiment of this run; drawing the charts not included)",
             ri.quick ? "16 channels 14x14" : "64 channels 56x56", ri.quick ? "32x32" : "224x224",
             (rv_now_ms() - t0) / 1e3);
    if (st == RV_OK)
        st = write_table(&ri, "speedup.tsv", what5, "step\tdevice\ttrain_ms\tdeploy_ms\tspeedup",
                         &t_speed);
    fprintf(stderr, "\n");
    free(t_kernels.buf);
    free(t_pairs.buf);
    free(t_block.buf);
    free(t_nets.buf);
    free(t_naive.buf);
    free(t_speed.buf);
    if (st != RV_OK) {
        fprintf(stderr, "%s: %s\n", argv[0], rv_last_error());
        return 1;
    }
    fprintf(stderr, "rv_bench: done in %.0f s; results in %s\n", (rv_now_ms() - t0) / 1e3, ri.dir);
    if (busy_total) {
        fprintf(stderr,
                "rv_bench: %d timings ran while the machine was not quiet (each TSV's "
                "header counts its own); the worst:\n",
                busy_total);
        rv_print_busy(stderr, "  ", &worst_busy);
    }
    return 0;
}
