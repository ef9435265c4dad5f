/* exp_kernels.c - kernels.tsv: the kernels lessons 03, 04 and 05 build, for
 * their pictures, as the library's rewrites compute them (not timed).
 *
 * One row per weight (kind "weight": out, in, row, column) and per bias
 * (kind "bias": out; in, row and column -1), on seeded small integers and
 * random BN statistics.
 */
#include <stdio.h>

#include "bench.h"
#include "rv_block.h"
#include "rv_reparam.h"

/* The rows of w (O, C/g, K, K) and, when b is given, of its bias (O). */
static void kernel_rows(bench_table *t, const char *picture, const char *panel, const rv_tensor *w,
                        const rv_tensor *b)
{
    const int64_t O = w->dim[0], C = w->dim[1], K = w->dim[2];
    for (int64_t o = 0; o < O; o++)
        for (int64_t c = 0; c < C; c++)
            for (int64_t r = 0; r < K; r++)
                for (int64_t k = 0; k < K; k++)
                    bench_row(t, "%s\t%s\tweight\t%lld\t%lld\t%lld\t%lld\t%.6g\n", picture, panel,
                              (long long)o, (long long)c, (long long)r, (long long)k,
                              w->data[((o * C + c) * K + r) * K + k]);
    for (int64_t o = 0; b && o < O; o++)
        bench_row(t, "%s\t%s\tbias\t%lld\t-1\t-1\t-1\t%.6g\n", picture, panel, (long long)o,
                  b->data[o]);
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
static rv_status pad_picture(bench_table *t, rv_rng *rng)
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
static rv_status identity_picture(bench_table *t)
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
static rv_status block_picture(bench_table *t, rv_rng *rng)
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

static rv_status run_kernels(bench_run *run, bench_output out[BENCH_MAX_FILES])
{
    (void)run;
    rv_rng rng = rv_rng_seed(11);
    rv_status st = pad_picture(&out[0].rows, &rng);
    if (st == RV_OK) st = identity_picture(&out[0].rows);
    if (st == RV_OK) st = block_picture(&out[0].rows, &rng);
    return st;
}

const bench_experiment bench_exp_kernels = {
    .title = "the kernels of lessons 03, 04 and 05",
    .files = {{.name = "kernels.tsv",
               .what = "the kernels of lessons 03, 04 and 05, as the library's rewrites "
                       "(rv_pad_kernel, rv_identity_kernel, rv_fuse_conv_bn, rv_sum_convs) compute "
                       "them on seeded small integers and random BN statistics; not a "
                       "measurement. pad: a 1x1 kernel (2 -> 2 channels) and its zero-padded "
                       "3x3; identity: 4 channels in 1, 2 and 4 groups; block: the three "
                       "branches of a 2 -> 2 block, each with its BN folded in, and their sum "
                       "(kind bias: one per output channel)",
               .columns = "picture\tpanel\tkind\tout\tin\trow\tcol\tvalue"}},
    .where = BENCH_HOST,
    .run = run_kernels,
};
