/* Lesson 08 - beyond RepVGG: ACNet's and DBB's blocks, each one 3x3 conv.
 *
 * The blocks:
 *   ACNet: "ACNet: Strengthening the Kernel Skeletons for Powerful CNN via
 *          Asymmetric Convolution Blocks", Ding et al., ICCV 2019
 *   DBB:   "Diverse Branch Block: Building a Convolution as an Inception-like
 *          Unit", Ding et al., CVPR 2021
 * and the transforms they need beyond lessons 01-05, each checked alone:
 *   1. asymmetric kernels: BN_a(conv3x3(x)) + BN_b(conv1x3(x)) + BN_c(conv3x1(x))
 *      = conv3x3(x, s_a W_a + pad(s_b W_b) + pad(s_c W_c)) + t_a + t_b + t_c,
 *      the 1x3 padded (0, 1) and the 3x1 (1, 0) so that they read the centre
 *      row and column of the 3x3 window (stride 2 and groups too);
 *   2. a 1x1 conv, BN, then a 3x3 conv: W[o][c] = sum_m W3[o][m] s1[m] W1[m][c],
 *      b[o] = sum_m,k W3[o][m][k] t1[m], exact when the middle is padded with
 *      the BN's shift t1 (what the BN gives where the 1x1 conv reads zeros),
 *      wrong on the output's border when it is padded with zeros (shown);
 *   3. a 3x3 average pool = a conv whose kernel is 1/9 on every tap of the
 *      matching channel (stride 1 and 2, groups);
 *   4. 1x1 conv-BN branches concatenated along channels, then a 3x3 conv-BN =
 *      one 1x1 conv with the kernels stacked (DBB's transform IV), then 2.
 * then DBB's whole block (3x3, 1x1, 1x1-then-average, 1x1-then-3x3), and both
 * blocks' two forms timed.
 *
 * Run:   build/bin/08_acnet_and_dbb [--device auto|cpu|cuda] [--batch N]
 *                                   [--channels C] [--size S] [--repeat R]
 * C even (one check uses groups 2), S >= 5 (the border check needs pixels
 * inside the border at stride 2). Exit: 0 PASS, 1 FAIL, 2 bad usage or no such
 * device.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "rv_block.h"
#include "rv_check.h"
#include "rv_cli.h"
#include "rv_lesson.h"
#include "rv_reparam.h"

/* ---- blocks as lists of branches: both forms, compared ------------------------- */

/* Builds the block, runs both forms, compares; 1 when they agree. */
static int check(const char *what, rv_block_spec spec, rv_device dev, int n, int s, uint64_t seed)
{
    rv_block_pair p;
    int ok = 0;
    if (rv_block_pair_build(&p, spec, dev, n, s, seed) != RV_OK ||
        rv_block_pair_train(&p) != RV_OK || rv_block_pair_fast(&p) != RV_OK)
        printf("  %s: error: %s\n", what, rv_lesson_keep_error());
    else
        ok = rv_expect_close(stdout, what, &p.yf, &p.y, RV_TOL_FP32);
    rv_block_pair_free(&p);
    return ok;
}

/* "  C -> O channels, stride s, groups g" */
static const char *shape(char *buf, size_t len, const rv_block_spec *s)
{
    snprintf(buf, len, "  %lld -> %lld channels, stride %d, groups %d", (long long)s->in_ch,
             (long long)s->out_ch, s->stride, s->groups);
    return buf;
}

/* Prints n 3x3 slices side by side under their names. */
static void print_slices(const char *const *names, const float *const *k, int n)
{
    for (int i = 0; i < n; i++) printf(i < n - 1 ? "  %-23s" : "  %s\n", names[i]);
    for (int r = 0; r < 3; r++)
        for (int i = 0; i < n; i++)
            printf(i < n - 1 ? "%7.3f %7.3f %7.3f  " : "%7.3f %7.3f %7.3f\n", k[i][3 * r],
                   k[i][3 * r + 1], k[i][3 * r + 2]);
}

/* ---- 1: ACNet ------------------------------------------------------------------ */

/* The three kernels of an ACNet block (1 -> 1 channel), each with its BN
 * folded in and centred in 3x3, and their sum, which is the fused kernel. */
static rv_status acnet_picture(void)
{
    rv_rng rng = rv_rng_seed(8);
    rv_block b = {0}, fast = {0};
    rv_tensor k[3] = {{0}}, bias = {0};
    rv_status st = rv_block_init_random(&b, rv_acnet_block_spec(1, 1, 1, 1), &rng, RV_CPU);
    for (int i = 0; i < 3 && st == RV_OK; i++) {
        rv_tensor wi = {0};
        st = rv_branch_kernel_fused(&b, i, &wi, &bias);
        if (st == RV_OK) st = rv_tensor_alloc4(&k[i], RV_CPU, 1, 1, 3, 3, "centred kernel");
        if (st == RV_OK) st = rv_pad_kernel(&wi, &k[i]);
        rv_tensor_free(&wi);
        rv_tensor_free(&bias);
    }
    if (st == RV_OK) st = rv_block_switch_to_fast(&b, &fast);
    if (st == RV_OK) {
        static const char *const names[4] = {"3x3 branch, s_a W_a", "1x3 branch, s_b W_b",
                                             "3x1 branch, s_c W_c", "the fused kernel W"};
        const float *slices[4] = {k[0].data, k[1].data, k[2].data, fast.branch[0].w.data};
        printf("\nThe kernels of a 1 -> 1 channel block, each with its BN's scale folded in and\n"
               "centred in 3x3 (zeros where a 1x3 or 3x1 kernel has no tap):\n");
        print_slices(names, slices, 4);
        printf("The 1x3 kernel lands on the centre row, the 3x1 on the centre column: the\n"
               "\"skeleton\" of the 3x3 kernel, which ACNet's paper finds the most important "
               "part.\n");
    }
    for (int i = 0; i < 3; i++) rv_tensor_free(&k[i]);
    rv_block_free(&b);
    rv_block_free(&fast);
    return st;
}

static int part_acnet(rv_device dev, int n, int s, int64_t C)
{
    printf("\n1. ACNet's block: 3x3 + 1x3 + 3x1, each conv-BN, summed, then ReLU.\n");
    int pass = acnet_picture() == RV_OK;
    if (!pass) printf("  error: %s\n", rv_lesson_keep_error());
    rv_block_spec bad = rv_acnet_block_spec(C, C, 1, 1);
    bad.branch[1].pad_h = 1;
    printf("Padded (1, 1) like the 3x3, the 1x3 conv would give two rows more than the other\n"
           "branches, its row p reading input row p - 1, the row above the centre of the 3x3\n"
           "window of output row p: no kernel of the block does that. It is refused:\n  %s\n",
           rv_block_check(&bad) == RV_EINVAL ? rv_last_error() : "accepted (unexpected)");
    const int64_t out[3] = {C, 2 * C, C};
    const int stride[3] = {1, 2, 1}, groups[3] = {1, 1, 2};
    for (int i = 0; i < 3; i++) {
        char what[96];
        rv_block_spec spec = rv_acnet_block_spec(C, out[i], stride[i], groups[i]);
        pass &= check(shape(what, sizeof what, &spec), spec, dev, n, s, 80 + (uint64_t)i);
    }
    return pass;
}

/* ---- 2: a 1x1 conv, BN, then a 3x3 conv ----------------------------------------- */

/* The block of one 1x1-then-3x3 branch (no ReLU: every value compared). */
static rv_block_spec one_then_three(int64_t C, int stride, int groups, int zero_border)
{
    const rv_branch_spec b = {.kind = RV_BRANCH_1X1_KXK,
                              .kh = 3,
                              .kw = 3,
                              .pad_h = 1,
                              .pad_w = 1,
                              .bn = 1,
                              .zero_border = zero_border};
    rv_block_spec s = rv_block_spec_list(C, C, stride, groups, 3, 1, &b);
    s.no_relu = 1;
    return s;
}

/* 1 when output row (or column) p's 3x3 window, at this stride and padding 1,
 * reaches into the padding of an input of size h */
static int on_border(int64_t p, int stride, int64_t h)
{
    return p * stride - 1 < 0 || p * stride + 1 > h - 1;
}

/* The middle padded with zeros: the fold differs on the border and agrees
 * inside. Returns 1 when that is what happens. */
static int zero_border(rv_device dev, int n, int s, int64_t C, int stride)
{
    rv_block_pair p;
    rv_tensor y = {0}, yf = {0};
    float *a = NULL;
    rv_status st = rv_block_pair_build(&p, one_then_three(C, stride, 1, 1), dev, n, s, 90);
    if (st == RV_OK) st = rv_block_pair_train(&p);
    if (st == RV_OK) st = rv_block_pair_fast(&p);
    if (st == RV_OK) st = rv_tensor_clone(&y, &p.y, RV_CPU, "train-time output");
    if (st == RV_OK) st = rv_tensor_clone(&yf, &p.yf, RV_CPU, "deploy-time output");
    int64_t total = rv_tensor_numel(&y), P = y.dim[2], Q = y.dim[3];
    if (st == RV_OK && !(a = malloc(4 * (size_t)total * sizeof *a)))
        st = rv_error(RV_ENOMEM, "lesson 08: no memory for the border comparison");
    int ok = 0;
    if (st == RV_OK) {
        /* the fused and the multi-branch values inside the border, then on it */
        float *in_a = a, *in_r = a + total, *ring_a = a + 2 * total, *ring_r = a + 3 * total;
        int64_t n_in = 0, n_ring = 0;
        for (int64_t i = 0; i < total; i++) {
            int64_t q = i % Q, r = (i / Q) % P;
            if (on_border(r, stride, s) || on_border(q, stride, s)) {
                ring_a[n_ring] = yf.data[i];
                ring_r[n_ring++] = y.data[i];
            } else {
                in_a[n_in] = yf.data[i];
                in_r[n_in++] = y.data[i];
            }
        }
        rv_cmp in = rv_compare(in_a, in_r, n_in, RV_TOL_FP32);
        rv_cmp edge = rv_compare(ring_a, ring_r, n_ring, RV_TOL_FP32);
        char what[96];
        snprintf(what, sizeof what, "  stride %d, zeros: inside the border", stride);
        rv_cmp_print(stdout, what, &in, RV_TOL_FP32, in_a, in_r);
        snprintf(what, sizeof what, "  stride %d, zeros: on the border (expected to differ)",
                 stride);
        rv_cmp_print_expecting(stdout, what, &edge, RV_TOL_FP32, ring_a, ring_r, 0);
        ok = in.pass && !edge.pass;
        printf("  %s\n", ok ? "as expected: it agrees inside and differs on the border only"
                            : "NOT as expected: the border was to differ, the inside to agree");
    }
    if (st != RV_OK) printf("  error: %s\n", rv_lesson_keep_error());
    free(a);
    rv_tensor_free(&y);
    rv_tensor_free(&yf);
    rv_block_pair_free(&p);
    return ok;
}

static int part_one_then_three(rv_device dev, int n, int s, int64_t C)
{
    printf("\n2. A 1x1 conv, BN, then a 3x3 conv (DBB's 1x1-then-3x3 branch), no ReLU. With\n"
           "the middle padded with the BN's shift t1, the fold is exact everywhere:\n");
    int pass = 1;
    const int stride[3] = {1, 2, 1}, groups[3] = {1, 1, 2};
    for (int i = 0; i < 3; i++) {
        char what[96];
        rv_block_spec spec = one_then_three(C, stride[i], groups[i], 0);
        pass &= check(shape(what, sizeof what, &spec), spec, dev, n, s, 85 + (uint64_t)i);
    }
    printf("With the middle padded with zeros, as a plain 3x3 conv after the BN would pad it,\n"
           "the branch sees 0 where the fused conv sees t1: an output pixel differs by\n"
           "sum W3[o][m][k] t1[m] over the taps k that fall on the padding: only at the output\n"
           "pixels whose 3x3 window reaches into the padding, the border (the outer ring at\n"
           "stride 1; at stride 2 the top row and left column, and the bottom row and right\n"
           "column where the input's size is odd). So inside the border the two should agree\n"
           "and on it they should differ (a: the fused conv's value, r: the branch's):\n");
    for (int st = 1; st <= 2; st++) pass &= zero_border(dev, n, s, C, st);
    return pass;
}

/* ---- 3: average pooling --------------------------------------------------------- */

static int part_avgpool(rv_device dev, int n, int s, int64_t C)
{
    printf("\n3. A 3x3 average pool (padding 1, the zeros of the padding counted, as in\n"
           "PyTorch's default) is a conv: output channel o takes 1/9 of every tap of its own\n"
           "channel, and 0 of the others. With g groups, o's own channel is number o mod (C/g)\n"
           "among its group's C/g inputs (the pattern of lesson 04's identity kernel).\n");
    rv_tensor k = {0};
    rv_status st = rv_tensor_alloc4(&k, RV_CPU, 2, 2, 3, 3, "average pool kernel");
    if (st == RV_OK) st = rv_avgpool_kernel(1, &k);
    if (st == RV_OK) {
        static const char *const names[4] = {"out 0, in 0", "out 0, in 1", "out 1, in 0",
                                             "out 1, in 1"};
        const float *slices[4] = {k.data, k.data + 9, k.data + 18, k.data + 27};
        printf("The kernel of 2 channels in one group (1/9 = %.3f):\n", 1.0 / 9);
        print_slices(names, slices, 4);
    }
    rv_tensor_free(&k);
    int pass = st == RV_OK;
    if (!pass) printf("  error: %s\n", rv_lesson_keep_error());
    printf("The pool, then a BN, against one conv (no ReLU):\n");
    const rv_branch_spec pool = {
        .kind = RV_BRANCH_AVGPOOL, .kh = 3, .kw = 3, .pad_h = 1, .pad_w = 1, .bn = 1};
    const int stride[4] = {1, 2, 1, 2};
    const int groups[4] = {1, 1, 2, (int)C};
    for (int i = 0; i < 4; i++) {
        char what[96];
        rv_block_spec spec = rv_block_spec_list(C, C, stride[i], groups[i], 3, 1, &pool);
        spec.no_relu = 1;
        pass &= check(shape(what, sizeof what, &spec), spec, dev, n, s, 95 + (uint64_t)i);
    }
    return pass;
}

/* ---- 4: concatenation along channels, then a conv -------------------------------- */

/* Two 1x1 conv-BN branches of M1 and M2 channels, their outputs concatenated
 * along channels, padded with their BNs' shifts, then a 3x3 conv-BN. */
typedef struct {
    int stride;
    rv_tensor a[2];   /* the 1x1 kernels (M_k, C, 1, 1) */
    rv_bn bn[3];      /* after a[0], after a[1], after the 3x3 conv */
    rv_tensor shift;  /* (M1 + M2): bn[0]'s and bn[1]'s shifts, concatenated */
    rv_tensor w3;     /* (O, M1 + M2, 3, 3) */
    rv_tensor x;      /* (N, C, S, S) */
    rv_tensor mid;    /* (N, M1 + M2, S, S): the concatenation */
    rv_tensor pad;    /* (N, M1 + M2, S + 2, S + 2) */
    rv_tensor y, yf;  /* (N, O, P, P): the unit's output, the folded conv's */
    rv_tensor wf, bf; /* the folded conv (O, C, 3, 3) and its bias (O), on the device */
} concat_unit;

static rv_status concat_forward(void *ctx)
{
    concat_unit *u = ctx;
    int64_t N = u->x.dim[0], C = u->x.dim[1], H = u->x.dim[2], W = u->x.dim[3];
    int64_t M = u->mid.dim[1], m0 = u->a[0].dim[0];
    rv_status st = RV_OK;
    /* image by image, each branch writes its channels where the concatenation
     * puts them: one image's channels follow each other in memory */
    for (int64_t i = 0; i < N && st == RV_OK; i++) {
        rv_tensor xi = rv_tensor_view(u->x.data + i * C * H * W, u->x.device, 4,
                                      (const int64_t[]){1, C, H, W});
        for (int k = 0; k < 2 && st == RV_OK; k++) {
            rv_tensor mk = rv_tensor_view(u->mid.data + (i * M + (k ? m0 : 0)) * H * W, u->x.device,
                                          4, (const int64_t[]){1, u->a[k].dim[0], H, W});
            st = rv_conv2d(&xi, &u->a[k], NULL, (rv_conv_params){.stride = 1, .groups = 1}, &mk);
            if (st == RV_OK) st = rv_batchnorm(&mk, &u->bn[k], &mk);
        }
    }
    if (st == RV_OK) st = rv_pad_border(&u->mid, 1, 1, &u->shift, &u->pad);
    if (st == RV_OK)
        st = rv_conv2d(&u->pad, &u->w3, NULL, (rv_conv_params){.stride = u->stride, .groups = 1},
                       &u->y);
    return st == RV_OK ? rv_batchnorm(&u->y, &u->bn[2], &u->y) : st;
}

static rv_status concat_fused(void *ctx)
{
    concat_unit *u = ctx;
    rv_conv_params p = {.stride = u->stride, .pad_h = 1, .pad_w = 1, .groups = 1};
    return rv_conv2d(&u->x, &u->wf, &u->bf, p, &u->yf);
}

static void concat_free(concat_unit *u)
{
    rv_tensor *t[11] = {&u->a[0], &u->a[1], &u->shift, &u->w3, &u->x, &u->mid,
                        &u->pad,  &u->y,    &u->yf,    &u->wf, &u->bf};
    for (int i = 0; i < 11; i++) rv_tensor_free(t[i]);
    for (int i = 0; i < 3; i++) rv_bn_free(&u->bn[i]);
}

/* The fold, on the host: each 1x1 with its BN (lesson 02), the two stacked
 * along output channels (rv_concat_kernels), merged with the 3x3 (part 2:
 * rv_merge_1x1_kxk), the last BN folded in. */
static rv_status concat_fold(concat_unit *u)
{
    rv_tensor h[8] = {{0}}; /* a0, a1, their biases, the stack, its bias, w3, zero bias */
    rv_tensor w = {0}, b = {0};
    int64_t M = u->mid.dim[1], O = u->w3.dim[0], C = u->x.dim[1];
    rv_status st = RV_OK;
    for (int k = 0; k < 2 && st == RV_OK; k++) {
        st = rv_tensor_clone(&h[k], &u->a[k], RV_CPU, "1x1 kernel");
        if (st == RV_OK) st = rv_tensor_alloc1(&h[2 + k], RV_CPU, h[k].dim[0], "1x1 bias");
        if (st == RV_OK) st = rv_fuse_conv_bn(&h[k], NULL, &u->bn[k], &h[k], &h[2 + k]);
    }
    if (st == RV_OK) st = rv_tensor_alloc4(&h[4], RV_CPU, M, C, 1, 1, "stacked 1x1 kernel");
    if (st == RV_OK) st = rv_tensor_alloc1(&h[5], RV_CPU, M, "stacked 1x1 bias");
    const rv_tensor *ws[2] = {&h[0], &h[1]}, *bs[2] = {&h[2], &h[3]};
    if (st == RV_OK) st = rv_concat_kernels(ws, bs, 2, &h[4], &h[5]);
    if (st == RV_OK) st = rv_tensor_clone(&h[6], &u->w3, RV_CPU, "3x3 kernel");
    if (st == RV_OK) st = rv_tensor_alloc1(&h[7], RV_CPU, O, "3x3 bias");
    if (st == RV_OK) st = rv_tensor_fill(&h[7], 0.0f);
    if (st == RV_OK) st = rv_tensor_alloc4(&w, RV_CPU, O, C, 3, 3, "folded kernel");
    if (st == RV_OK) st = rv_tensor_alloc1(&b, RV_CPU, O, "folded bias");
    if (st == RV_OK) st = rv_merge_1x1_kxk(&h[4], &h[5], &h[6], &h[7], 1, &w, &b);
    if (st == RV_OK) st = rv_fuse_conv_bn(&w, &b, &u->bn[2], &w, &b);
    if (st == RV_OK) st = rv_tensor_clone(&u->wf, &w, u->x.device, "folded kernel");
    if (st == RV_OK) st = rv_tensor_clone(&u->bf, &b, u->x.device, "folded bias");
    for (int i = 0; i < 8; i++) rv_tensor_free(&h[i]);
    rv_tensor_free(&w);
    rv_tensor_free(&b);
    return st;
}

static rv_status concat_build(concat_unit *u, rv_device dev, int n, int s, int64_t C, int stride)
{
    *u = (concat_unit){.stride = stride};
    rv_rng r = rv_rng_seed(100 + (uint64_t)stride);
    const int64_t m[2] = {C, C / 2 > 0 ? C / 2 : 1}, M = m[0] + m[1], O = C;
    const int64_t P = (s - 1) / stride + 1;
    rv_status st = RV_OK;
    for (int k = 0; k < 2 && st == RV_OK; k++) {
        const int64_t d[4] = {m[k], C, 1, 1};
        const float bound = 1.0f / sqrtf((float)C);
        st = rv_tensor_random(&u->a[k], dev, 4, d, &r, -bound, bound, "1x1 kernel");
    }
    const int64_t bn_ch[3] = {m[0], m[1], O};
    for (int k = 0; k < 3 && st == RV_OK; k++) {
        st = rv_bn_alloc(&u->bn[k], bn_ch[k]);
        if (st == RV_OK) st = rv_bn_randomize(&u->bn[k], &r);
        if (st == RV_OK) st = rv_bn_prepare(&u->bn[k], dev);
    }
    const int64_t d3[4] = {O, M, 3, 3}, dx[4] = {n, C, s, s};
    const float bound3 = 1.0f / sqrtf(9.0f * M);
    if (st == RV_OK) st = rv_tensor_random(&u->w3, dev, 4, d3, &r, -bound3, bound3, "3x3 kernel");
    if (st == RV_OK) st = rv_tensor_random(&u->x, dev, 4, dx, &r, -1.0f, 1.0f, "x");
    if (st == RV_OK) st = rv_tensor_alloc1(&u->shift, dev, M, "concatenated shift");
    for (int k = 0; k < 2 && st == RV_OK; k++) {
        rv_tensor part = rv_tensor_view(u->shift.data + (k ? m[0] : 0), dev, 1, &m[k]);
        st = rv_tensor_copy(&part, &u->bn[k].shift);
    }
    if (st == RV_OK) st = rv_tensor_alloc4(&u->mid, dev, n, M, s, s, "concatenation");
    if (st == RV_OK) st = rv_tensor_alloc4(&u->pad, dev, n, M, s + 2, s + 2, "padded");
    if (st == RV_OK) st = rv_tensor_alloc4(&u->y, dev, n, O, P, P, "unit output");
    if (st == RV_OK) st = rv_tensor_alloc4(&u->yf, dev, n, O, P, P, "folded output");
    if (st == RV_OK) st = concat_fold(u);
    if (st != RV_OK) concat_free(u);
    return st;
}

static int part_concat(rv_device dev, int n, int s, int64_t C)
{
    int64_t m1 = C, m2 = C / 2 > 0 ? C / 2 : 1;
    printf("\n4. Branches concatenated along channels, then a conv. Two 1x1 conv-BN branches\n"
           "(%lld and %lld output channels) whose outputs are stacked along channels are one\n"
           "1x1 conv whose kernels are stacked the same way, their biases too (DBB's transform\n"
           "IV); a 3x3 conv-BN on the stack (padded with the two BNs' shifts) then merges as in\n"
           "2. The unit, %lld -> %lld channels, groups 1, against one 3x3 conv:\n",
           (long long)m1, (long long)m2, (long long)C, (long long)C);
    int pass = 1;
    for (int stride = 1; stride <= 2; stride++) {
        concat_unit u;
        char what[96];
        snprintf(what, sizeof what, "  stride %d", stride);
        if (concat_build(&u, dev, n, s, C, stride) != RV_OK || concat_forward(&u) != RV_OK ||
            concat_fused(&u) != RV_OK) {
            printf("%s: error: %s\n", what, rv_lesson_keep_error());
            pass = 0;
        } else {
            pass &= rv_expect_close(stdout, what, &u.yf, &u.y, RV_TOL_FP32);
        }
        concat_free(&u);
    }
    printf("Groups 1 only: with g groups each branch's group j feeds channels of its own, but\n"
           "stacked, branch 1's group j and branch 2's group j are not next to each other, as a\n"
           "conv of g groups needs its group's outputs; it is one grouped conv only after the\n"
           "channels are reordered (DBB merges a grouped 1x1-then-3x3 group by group and stacks\n"
           "the results: the same transform, used the other way round).\n");
    return pass;
}

/* ---- 5: DBB's whole block -------------------------------------------------------- */

static int part_dbb(rv_device dev, int n, int s, int64_t C)
{
    printf("\n5. DBB's block: 3x3 conv-BN + 1x1 conv-BN + (1x1 conv-BN, 3x3 average)-BN +\n"
           "(1x1 conv-BN, 3x3 conv)-BN, each middle padded with its BN's shift, summed, then\n"
           "ReLU; depthwise (one channel per group) it has no 1x1 branch and pools x itself.\n"
           "Transforms 2, 3 and lesson 03's padding fold it into one 3x3 conv:\n");
    int pass = 1;
    const int64_t out[4] = {C, 2 * C, C, C};
    const int stride[4] = {1, 2, 1, 1}, groups[4] = {1, 1, 2, (int)C};
    for (int i = 0; i < 4; i++) {
        char head[96], what[128];
        rv_block_spec spec = rv_dbb_block_spec(C, out[i], stride[i], groups[i]);
        snprintf(what, sizeof what, "%s, %d branches", shape(head, sizeof head, &spec),
                 spec.n_branches);
        pass &= check(what, spec, dev, n, s, 110 + (uint64_t)i);
    }
    return pass;
}

/* ---- 6: the blocks timed -------------------------------------------------------- */

static void time_block(const char *name, rv_block_spec spec, rv_device dev, int n, int s,
                       int warmup, int repeat)
{
    rv_block_pair l;
    if (rv_block_pair_build(&l, spec, dev, n, s, 120) != RV_OK) {
        rv_lesson_keep_error();
        return;
    }
    char train[64], what[128];
    snprintf(train, sizeof train, "train-time (%d branches)", spec.n_branches);
    /* the middles of 1x1-then-3x3 and 1x1-then-average branches live in the
     * block plan's buffer: activations too */
    size_t middle = rv_tensor_bytes(&l.plan[0].middle);
    rv_lesson_form forms[2] = {
        {.name = train, .fn = rv_block_pair_train, .ctx = &l, .activations = l.held[0] + middle},
        {.name = "deploy-time (1 conv)",
         .fn = rv_block_pair_fast,
         .ctx = &l,
         .activations = l.held[1]},
    };
    snprintf(what, sizeof what, "%s, %lld -> %lld channels, stride 1, %dx%lldx%dx%d input", name,
             (long long)spec.in_ch, (long long)spec.out_ch, n, (long long)spec.in_ch, s, s);
    rv_lesson_compare(dev, what, forms, warmup, repeat,
                      middle ? "memory = activations (the output and branch buffers the form "
                               "keeps between calls, with\n"
                               "         the middles of the 1x1-then-3x3 and "
                               "1x1-then-average branches, padded)\n"
                               "       + scratch (what one call allocates while it runs: the "
                               "im2col or Winograd\n"
                               "         workspace); the input and the weights are not counted."
                             : NULL,
                      NULL);
    rv_block_pair_free(&l);
}

int main(int argc, char **argv)
{
    int batch = 1, channels = 8, size = 9, repeat = 100, warmup = 10;
    const char *device;
    rv_device dev;
    int rc = rv_lesson_options(argc, argv,
                               "08_acnet_and_dbb: ACNet's block (3x3 + 1x3 + 3x1) and DBB's\n"
                               "  (3x3, 1x1, 1x1-then-average, 1x1-then-3x3), each == one 3x3 "
                               "conv",
                               &batch, &channels, &size, &repeat, NULL, 0, &device);
    if (rc >= 0) return rc;
    if (channels % 2) {
        fprintf(stderr, "%s: --channels: must be even (some checks use groups 2), got %d\n",
                argv[0], channels);
        return 2;
    }
    if ((rc = rv_cli_at_least(argv[0], "size", size, 5,
                              "(the border check needs pixels inside the border at stride 2)")) >=
        0)
        return rc;
    if ((rc = rv_cli_device(argv[0], device, &dev)) >= 0) return rc;

    char algebra[1600];
    snprintf(
        algebra, sizeof algebra,
        "ACNet: ReLU( BN_a(conv3x3(x)) + BN_b(conv1x3(x)) + BN_c(conv3x1(x)) ) = ReLU( conv3x3(x, "
        "W) + b )\n"
        "DBB:   ReLU( BN(conv3x3(x)) + BN(conv1x1(x)) + BN(avg3x3(BN(conv1x1(x))))\n"
        "             + BN(conv3x3(BN(conv1x1(x)))) ) = ReLU( conv3x3(x, W) + b )\n"
        "\n"
        "From \"ACNet: Strengthening the Kernel Skeletons for Powerful CNN via Asymmetric\n"
        "Convolution Blocks\" (Ding et al., ICCV 2019) and \"Diverse Branch Block: Building a\n"
        "Convolution as an Inception-like Unit\" (Ding et al., CVPR 2021). x: the input,\n"
        "%dx%dx%dx%d (images, channels, height, width); conv1x3: a kernel of 1 row and 3\n"
        "columns (3x1: 3 rows, 1 column); avg3x3: the mean of each 3x3 window of a channel;\n"
        "BN: a batch norm with its own scale s and shift t per channel (lesson 02); W, b: the\n"
        "one conv that replaces the block. Every branch is linear in x up to the ReLU, so\n"
        "it is one conv with bias, and the sum of such convs is one conv (lesson 01). What\n"
        "is new: kernels of other shapes than 1x1 and 3x3, two convs in a row with a BN\n"
        "between (whose output DBB pads with the BN's shift, not with zeros), a pool, and\n"
        "branches stacked along channels; each is shown alone below, then DBB's block that\n"
        "uses them all.",
        batch, channels, size, size);
    rv_lesson_begin("Lesson 08: ACNet's and DBB's blocks are one 3x3 conv too", algebra, dev);
    rv_lesson_agree_heading("the fused conv's", "the multi-branch form's");
    int64_t C = channels;
    int pass = part_acnet(dev, batch, size, C);
    pass &= part_one_then_three(dev, batch, size, C);
    pass &= part_avgpool(dev, batch, size, C);
    pass &= part_concat(dev, batch, size, C);
    pass &= part_dbb(dev, batch, size, C);

    printf("\n6. Both forms timed. The train-time forms run three and four branches, two of\n"
           "DBB's with a 1x1 conv and a padded copy before their 3x3 step; the deploy-time\n"
           "form runs one 3x3 conv, the same for both blocks.\n");
    if (!rv_lesson_error()[0])
        time_block("ACNet", rv_acnet_block_spec(C, C, 1, 1), dev, batch, size, warmup, repeat);
    if (!rv_lesson_error()[0])
        time_block("DBB", rv_dbb_block_spec(C, C, 1, 1), dev, batch, size, warmup, repeat);
    return rv_lesson_end(pass, dev, "every fused conv matches its multi-branch form",
                         "a fused conv does NOT match its multi-branch form");
}
