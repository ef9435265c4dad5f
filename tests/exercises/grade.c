/* grade.c - the course's grader: checks a student's step, case by case.
 *
 *   grade N        grades exercise N (1 to 6): lessons/exercises/0N_*.c
 *
 * Each exercise is one step of the notebook (src/reparam/rv_steps.h). The
 * grader is linked with the student's file for step N and the course's own
 * solutions for the other steps, so each exercise is graded alone. Every
 * case runs in a child process of its own with a time limit: a student's
 * function that writes out of bounds, loops for ever or trips a sanitizer
 * ends that case with a message naming it, never the grader. A failing case
 * prints which property failed, the worst element with its place, got and
 * want, the known mistake it looks like when it looks like one, and a hint
 * that points to the lesson.
 *
 * Exit: 0 every case passed, 1 a case failed (or the step is not written
 * yet), 2 bad usage.
 */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rv_check.h"
#include "rv_reparam.h"
#include "rv_steps.h"

enum { PASS = 0, FAIL = 1, NOT_WRITTEN = 3 };
#define CASE_SECONDS 10 /* a case's time limit: each runs in well under a second */

/* A case's child process ends here: its verdict goes to the parent through a
 * pipe, so a child that stops any other way (a sanitizer's exit, a signal)
 * is told apart from one that failed a check. */
static int verdict_fd = -1;
static void finish(int verdict)
{
    unsigned char v = (unsigned char)verdict;
    if (write(verdict_fd, &v, 1) != 1) perror("grade: verdict");
    fflush(stdout);
    _exit(verdict);
}

/* ---- checking helpers ------------------------------------------------------ */

/* A step's status: RV_OK goes on; RV_ENOTIMPL ends the case as not written;
 * any other error fails it, with the message. */
static int step_ok(rv_status st, const char *call)
{
    if (st == RV_OK) return 1;
    if (st == RV_ENOTIMPL) {
        printf("    %s\n", rv_last_error());
        finish(NOT_WRITTEN);
    }
    printf("    %s returned an error: %s\n", call, rv_last_error());
    return 0;
}

/* Setting-up calls of the grader itself must work. */
static void need(rv_status st, const char *what)
{
    if (st != RV_OK) {
        printf("    the grader could not %s: %s\n", what, rv_last_error());
        finish(FAIL);
    }
}

static rv_tensor host4(int64_t a, int64_t b, int64_t c, int64_t d, const char *what)
{
    rv_tensor t = {0};
    need(rv_tensor_alloc4(&t, RV_CPU, a, b, c, d, what), "allocate a tensor");
    return t;
}

static rv_tensor host1(int64_t n, const char *what)
{
    rv_tensor t = {0};
    need(rv_tensor_alloc1(&t, RV_CPU, n, what), "allocate a tensor");
    return t;
}

/* NaN everywhere: a value the step never writes shows as NaN */
static void fill_nan(rv_tensor *t)
{
    for (int64_t i = 0; i < rv_tensor_numel(t); i++) t->data[i] = NAN;
}

/* "[o=5, c=0, h=1, w=1]" for flat index i of t */
static const char *place(const rv_tensor *t, int64_t i, char *buf, size_t len)
{
    static const char *const names4[4] = {"o", "c", "h", "w"};
    int64_t idx[4] = {0};
    for (int d = t->ndim - 1; d >= 0; d--) {
        idx[d] = i % t->dim[d];
        i /= t->dim[d];
    }
    int n = snprintf(buf, len, "[");
    for (int d = 0; d < t->ndim; d++)
        n += snprintf(buf + n, len - (size_t)n, "%s%s=%lld", d ? ", " : "",
                      t->ndim == 4 ? names4[d] : "o", (long long)idx[d]);
    snprintf(buf + n, len - (size_t)n, "]");
    return buf;
}

/* got against want under tol: 1 when they agree; else one line with the
 * worst element, its place, got and want. */
static int agree(const char *what, const rv_tensor *got, const rv_tensor *want, rv_tol tol)
{
    char gs[64], ws[64], at[96];
    if (!rv_tensor_same_shape(got, want)) {
        printf("    %s: the shape changed to %s, it must stay %s (write into the tensor you are "
               "given; do not allocate a new one)\n",
               what, rv_tensor_shape_str(got, gs, sizeof gs),
               rv_tensor_shape_str(want, ws, sizeof ws));
        return 0;
    }
    rv_cmp c = rv_compare(got->data, want->data, rv_tensor_numel(want), tol);
    if (c.pass) return 1;
    float g = got->data[c.worst], w = want->data[c.worst];
    if (c.failures == 0) /* each value near enough, but all of them a little off */
        printf("    %s: every value is close, but the relative L2 error %.2g is over %g; "
               "worst at %s: got %.7g, want %.7g\n",
               what, c.rel_l2, tol.max_rel_l2, place(want, c.worst, at, sizeof at), g, w);
    else
        printf("    %s: %lld of %lld values wrong; worst at %s: got %.6g, want %.6g%s\n", what,
               (long long)c.failures, (long long)c.n, place(want, c.worst, at, sizeof at), g, w,
               isnan(g) ? " (NaN: a value never written?)" : "");
    return 0;
}

/* 1 when got equals maybe (within tol): for naming a known mistake */
static int looks_like(const rv_tensor *got, const rv_tensor *maybe, rv_tol tol)
{
    return rv_tensor_same_shape(got, maybe) &&
           rv_compare(got->data, maybe->data, rv_tensor_numel(maybe), tol).pass;
}

static void free_all(rv_tensor **t, int n)
{
    for (int i = 0; i < n; i++) rv_tensor_free(t[i]);
}

/* A BN of c channels with statistics far from 1/0 */
static rv_bn random_bn(int64_t c, rv_rng *r)
{
    rv_bn bn;
    need(rv_bn_alloc(&bn, c), "allocate a BN");
    need(rv_bn_randomize(&bn, r), "fill a BN");
    return bn;
}

/* ---- exercise 1: the sum of two convs -------------------------------------- */

typedef struct {
    rv_tensor w1, b1, w2, b2;
} two_convs;

static two_convs two_random(int64_t o, int64_t i, int64_t k, int zero_bias, rv_rng *r)
{
    two_convs t = {host4(o, i, k, k, "w1"), host1(o, "b1"), host4(o, i, k, k, "w2"),
                   host1(o, "b2")};
    rv_tensor *all[4] = {&t.w1, &t.b1, &t.w2, &t.b2};
    for (int n = 0; n < 4; n++) rv_tensor_fill_int(all[n], r, -5, 5);
    if (zero_bias) {
        rv_tensor_fill(&t.b1, 0.0f);
        rv_tensor_fill(&t.b2, 0.0f);
    }
    return t;
}

/* want = a + b, element by element (the definition, written here) */
static rv_tensor plus(const rv_tensor *a, const rv_tensor *b, const char *what)
{
    rv_tensor s = {0};
    need(rv_tensor_alloc(&s, RV_CPU, a->ndim, a->dim, what), "allocate a tensor");
    for (int64_t n = 0; n < rv_tensor_numel(a); n++) s.data[n] = a->data[n] + b->data[n];
    return s;
}

/* into: 0 new outputs, 1 into w1/b1, 2 into w2/b2 */
static int sum_case(int zero_bias, int into, int64_t o, int64_t i, int64_t k, uint64_t seed)
{
    rv_rng r = rv_rng_seed(seed);
    two_convs t = two_random(o, i, k, zero_bias, &r);
    rv_tensor ww = plus(&t.w1, &t.w2, "want w"), wb = plus(&t.b1, &t.b2, "want b");
    rv_tensor w = host4(o, i, k, k, "w"), b = host1(o, "b");
    fill_nan(&w);
    fill_nan(&b);
    rv_tensor *ow = into == 1 ? &t.w1 : into == 2 ? &t.w2 : &w;
    rv_tensor *ob = into == 1 ? &t.b1 : into == 2 ? &t.b2 : &b;
    int ok = step_ok(rv_sum_convs(&t.w1, &t.b1, &t.w2, &t.b2, ow, ob), "rv_step_sum_convs");
    ok = ok && agree("the summed weight w", ow, &ww, RV_TOL_EXACT);
    int bias_ok = ok && agree("the summed bias b", ob, &wb, RV_TOL_EXACT);
    if (ok && !bias_ok && !zero_bias)
        printf("    bias ignored? the weights are right (they pass with biases 0) but b is not "
               "b1 + b2\n");
    rv_tensor *all[8] = {&t.w1, &t.b1, &t.w2, &t.b2, &ww, &wb, &w, &b};
    free_all(all, 8);
    return ok && bias_ok;
}

static int ex1_weights(void) { return sum_case(1, 0, 6, 4, 3, 11); }
static int ex1_biases(void) { return sum_case(0, 0, 6, 4, 3, 12); }
static int ex1_into_w1(void) { return sum_case(0, 1, 5, 3, 3, 13); }
static int ex1_into_w2(void) { return sum_case(0, 2, 5, 3, 3, 14); }
static int ex1_1x1(void) { return sum_case(0, 0, 7, 2, 1, 15); }

/* ---- exercise 2: conv + BN ---------------------------------------------------- */

/* The fold computed here straight from the definition, in double; the
 * variant `mistake` computes a known wrong one (0: right). */
enum { RIGHT, NO_EPS, NO_SQRT, SHIFT_NO_SCALE, BIAS_NOT_SCALED, BIAS_IGNORED, NO_STATS };
static void fold_by_hand(const rv_tensor *w, const rv_tensor *b, const rv_bn *bn, int mistake,
                         rv_tensor *w_out, rv_tensor *b_out)
{
    int64_t O = w->dim[0], per = rv_tensor_numel(w) / O;
    for (int64_t o = 0; o < O; o++) {
        double g = bn->gamma.data[o], beta = bn->beta.data[o];
        double mean = mistake == NO_STATS ? 0.0 : bn->mean.data[o];
        double var = mistake == NO_STATS ? 1.0 : bn->var.data[o];
        double eps = mistake == NO_EPS ? 0.0 : bn->eps;
        double s = mistake == NO_SQRT ? g / (var + eps) : g / sqrt(var + eps);
        double t = mistake == SHIFT_NO_SCALE ? beta - mean : beta - mean * s;
        double bias = b ? b->data[o] : 0.0;
        for (int64_t k = 0; k < per; k++)
            w_out->data[o * per + k] = (float)(w->data[o * per + k] * s);
        b_out->data[o] = (float)(mistake == BIAS_IGNORED      ? t
                                 : mistake == BIAS_NOT_SCALED ? t + bias
                                                              : t + s * bias);
    }
}

static int fuse_case(int with_bias, int tiny_var, int in_place, uint64_t seed)
{
    rv_rng r = rv_rng_seed(seed);
    int64_t O = 6, C = 4;
    rv_tensor w = host4(O, C, 3, 3, "w"), b = host1(O, "b");
    rv_tensor_fill_uniform(&w, &r, -1, 1);
    rv_tensor_fill_uniform(&b, &r, -1, 1);
    rv_bn bn = random_bn(O, &r);
    if (tiny_var) /* variances near eps: forgetting eps changes s by far */
        for (int64_t o = 0; o < O; o++) bn.var.data[o] = (float)(1e-6 * (o + 1));
    rv_tensor ww = host4(O, C, 3, 3, "want w"), wb = host1(O, "want b");
    fold_by_hand(&w, with_bias ? &b : NULL, &bn, RIGHT, &ww, &wb);
    rv_tensor w0 = {0}, b0 = {0}; /* the inputs as given, for the mistakes */
    need(rv_tensor_clone(&w0, &w, RV_CPU, "w"), "copy w");
    need(rv_tensor_clone(&b0, &b, RV_CPU, "b"), "copy b");
    rv_tensor wo = host4(O, C, 3, 3, "w_out"), bo = host1(O, "b_out");
    fill_nan(&wo);
    fill_nan(&bo);
    rv_tensor *pw = in_place ? &w : &wo, *pb = in_place ? &b : &bo;
    int ok =
        step_ok(rv_fuse_conv_bn(&w, with_bias ? &b : NULL, &bn, pw, pb), "rv_step_fuse_conv_bn");
    int w_ok = ok && agree("the fused weight s*W", pw, &ww, RV_TOL_FP32);
    int b_ok = ok && agree("the fused bias t + s*b", pb, &wb, RV_TOL_FP32);
    if (ok && !(w_ok && b_ok)) {
        static const char *const what[] = {
            [NO_EPS] = "eps forgotten: s = gamma / sqrt(var), without + eps",
            [NO_SQRT] = "no square root: s = gamma / (var + eps)",
            [SHIFT_NO_SCALE] = "the shift is beta - mean: it is beta - mean * s",
            [BIAS_NOT_SCALED] = "the conv's bias is added unscaled: t + b, not t + s*b",
            [BIAS_IGNORED] = "the conv's bias is ignored: t, not t + s*b",
            [NO_STATS] = "the running statistics are not used (as if mean = 0, var = 1)"};
        rv_tensor mw = host4(O, C, 3, 3, "mistake w"), mb = host1(O, "mistake b");
        for (int m = NO_EPS; m <= NO_STATS; m++) {
            fold_by_hand(&w0, with_bias ? &b0 : NULL, &bn, m, &mw, &mb);
            if (looks_like(pw, &mw, RV_TOL_FP32) && looks_like(pb, &mb, RV_TOL_FP32)) {
                printf("    this looks like: %s\n", what[m]);
                break;
            }
        }
        rv_tensor *mist[2] = {&mw, &mb};
        free_all(mist, 2);
    }
    rv_tensor *all[8] = {&w, &b, &ww, &wb, &w0, &b0, &wo, &bo};
    free_all(all, 8);
    rv_bn_free(&bn);
    return w_ok && b_ok;
}

static int ex2_no_bias(void) { return fuse_case(0, 0, 0, 21); }
static int ex2_bias(void) { return fuse_case(1, 0, 0, 22); }
static int ex2_eps(void) { return fuse_case(1, 1, 0, 23); }
static int ex2_in_place(void) { return fuse_case(1, 0, 1, 24); }

/* ---- exercise 3: a kernel centred in a larger one ------------------------------ */

/* want[o][c][top + i][left + j] = w[o][c][i][j] at the given top/left */
static void place_kernel(const rv_tensor *w, int64_t top, int64_t left, rv_tensor *y)
{
    int64_t rows = w->dim[0] * w->dim[1], KH = w->dim[2], KW = w->dim[3];
    int64_t OH = y->dim[2], OW = y->dim[3];
    rv_tensor_fill(y, 0.0f);
    for (int64_t r = 0; r < rows; r++)
        for (int64_t i = 0; i < KH; i++)
            for (int64_t j = 0; j < KW; j++)
                y->data[(r * OH + top + i) * OW + left + j] = w->data[(r * KH + i) * KW + j];
}

static int pad_case(int64_t O, int64_t C, int64_t kh, int64_t kw, int64_t oh, int64_t ow,
                    uint64_t seed)
{
    rv_rng r = rv_rng_seed(seed);
    rv_tensor w = host4(O, C, kh, kw, "w"), y = host4(O, C, oh, ow, "y");
    rv_tensor want = host4(O, C, oh, ow, "want"), corner = host4(O, C, oh, ow, "corner");
    rv_tensor_fill_int(&w, &r, 1, 9); /* no zeros: a misplaced tap shows */
    fill_nan(&y);
    place_kernel(&w, (oh - kh) / 2, (ow - kw) / 2, &want);
    int ok = step_ok(rv_pad_kernel(&w, &y), "rv_step_pad_kernel");
    char what[96];
    snprintf(what, sizeof what, "the %lldx%lld kernel centred in %lldx%lld", (long long)kh,
             (long long)kw, (long long)oh, (long long)ow);
    int good = ok && agree(what, &y, &want, RV_TOL_EXACT);
    if (ok && !good) {
        place_kernel(&w, 0, 0, &corner);
        if (oh > kh || ow > kw) {
            if (looks_like(&y, &corner, RV_TOL_EXACT))
                printf("    this looks like: the kernel in the top-left corner, not in the "
                       "centre (the notebook pads 1 on every side)\n");
        }
        int64_t nan_left = 0;
        for (int64_t i = 0; i < rv_tensor_numel(&y); i++) nan_left += isnan(y.data[i]);
        if (nan_left)
            printf("    %lld values were never written: y holds anything on entry, so the "
                   "zeros around the kernel must be written too\n",
                   (long long)nan_left);
    }
    rv_tensor *all[4] = {&w, &y, &want, &corner};
    free_all(all, 4);
    return good;
}

static int ex3_1x1(void) { return pad_case(5, 3, 1, 1, 3, 3, 31); }
static int ex3_1x3(void) { return pad_case(4, 2, 1, 3, 3, 3, 32); }
static int ex3_3x1(void) { return pad_case(4, 2, 3, 1, 3, 3, 33); }
static int ex3_5x5(void) { return pad_case(3, 2, 3, 3, 5, 5, 34); }
static int ex3_copy(void) { return pad_case(2, 3, 3, 3, 3, 3, 35); }

/* ---- exercise 4: the identity kernel ------------------------------------------- */

static int identity_case(int64_t C, int groups, int64_t kh, int64_t kw, uint64_t seed)
{
    rv_rng r = rv_rng_seed(seed);
    int64_t Cg = C / groups;
    rv_tensor w = host4(C, Cg, kh, kw, "w"), want = host4(C, Cg, kh, kw, "want");
    fill_nan(&w);
    rv_tensor_fill(&want, 0.0f);
    for (int64_t o = 0; o < C; o++) want.data[((o * Cg + o % Cg) * kh + kh / 2) * kw + kw / 2] = 1;
    int ok = step_ok(rv_identity_kernel(groups, &w), "rv_step_identity_kernel");
    char what[96];
    snprintf(what, sizeof what, "the identity kernel, %lld channels in %d group%s, %lldx%lld",
             (long long)C, groups, groups > 1 ? "s" : "", (long long)kh, (long long)kw);
    int good = ok && agree(what, &w, &want, RV_TOL_EXACT);
    if (good) { /* and what it is for: conv(x, I) = x, on random floats, bit for bit */
        rv_tensor x = host4(2, C, 5, 6, "x"), y = host4(2, C, 5, 6, "conv(x, I)");
        rv_tensor_fill_uniform(&x, &r, -1, 1);
        rv_conv_params p = {.stride = 1, .pad_h = kh / 2, .pad_w = kw / 2, .groups = groups};
        need(rv_conv2d_ref(&x, &w, NULL, p, &y), "run the conv");
        good = agree("conv(x, your kernel) against x", &y, &x, RV_TOL_EXACT);
        rv_tensor *t[2] = {&x, &y};
        free_all(t, 2);
    } else if (ok && groups > 1) { /* the first group right, the others wrong */
        int first = 1, later = 1;
        for (int64_t o = 0; o < C; o++) {
            int right = w.data[((o * Cg + o % Cg) * kh + kh / 2) * kw + kw / 2] == 1.0f;
            if (o < Cg) first &= right;
            if (o >= Cg) later &= right;
        }
        if (first && !later)
            printf("    this looks like: right in the first group only; with groups, output "
                   "channel o reads the C/g channels of its own group, where its own channel "
                   "is number o mod (C/g), not o\n");
    }
    rv_tensor *all[2] = {&w, &want};
    free_all(all, 2);
    return good;
}

static int ex4_groups1(void) { return identity_case(4, 1, 3, 3, 41); }
static int ex4_groups2(void) { return identity_case(6, 2, 3, 3, 42); }
static int ex4_depthwise(void) { return identity_case(5, 5, 3, 3, 43); }
static int ex4_sizes(void)
{
    return identity_case(4, 2, 1, 5, 44) && identity_case(3, 1, 5, 3, 45);
}

/* ---- exercise 5: a block folded ------------------------------------------------ */

static int wants(int64_t in, int64_t out, int stride, int expect, const char *why)
{
    int yes = -1;
    if (!step_ok(rv_block_wants_identity(in, out, stride, &yes), "rv_step_wants_identity"))
        return 0;
    if (yes == expect) return 1;
    printf("    %lld -> %lld channels at stride %d: got %d, want %d (%s)\n", (long long)in,
           (long long)out, stride, yes, expect, why);
    return 0;
}

static int ex5_identity_rule(void)
{
    int ok = wants(8, 8, 1, 1, "x has the output's shape");
    ok &= wants(8, 16, 1, 0, "x has 8 channels, the output 16");
    ok &= wants(8, 8, 2, 0, "identity kept at stride 2: the notebook's bug, lesson 06");
    ok &= wants(3, 48, 2, 0, "the stem: neither");
    return ok;
}

/* The sum of the branches' folded kernels, from the library's checked
 * pieces, leaving out branch `skip` (-1: none), with or without the post-sum
 * BN, with or without the branches' biases: the right answer and the usual
 * wrong ones. */
static void expected_fold(const rv_block *b, int skip, int post, int biases, rv_tensor *w,
                          rv_tensor *bias)
{
    rv_tensor_fill(w, 0.0f);
    rv_tensor_fill(bias, 0.0f);
    for (int i = 0; i < b->spec.n_branches; i++) {
        if (i == skip) continue;
        rv_tensor wi = {0}, bi = {0}, wp = {0};
        const rv_bn *bn;
        need(rv_branch_kernel(b, i, &wi, &bi, &bn), "get a branch's kernel");
        if (bn) need(rv_fuse_conv_bn(&wi, &bi, bn, &wi, &bi), "fold a BN");
        need(rv_tensor_alloc(&wp, RV_CPU, 4, w->dim, "centred"), "allocate a tensor");
        need(rv_pad_kernel(&wi, &wp), "centre a kernel");
        if (!biases) rv_tensor_fill(&bi, 0.0f);
        need(rv_sum_convs(w, bias, &wp, &bi, w, bias), "sum");
        rv_tensor *t[3] = {&wi, &bi, &wp};
        free_all(t, 3);
    }
    if (post && b->spec.post_bn) need(rv_fuse_conv_bn(w, bias, &b->post, w, bias), "fold a BN");
}

/* Names the usual mistake (a branch left out, the post-sum BN or a branch's
 * bias forgotten) when the student's w and bias are that. */
static void diagnose_fold(const rv_block *b, const rv_tensor *w, const rv_tensor *bias)
{
    const rv_block_spec *s = &b->spec;
    static const char *const kind[] = {[RV_BRANCH_CONV] = "conv",
                                       [RV_BRANCH_AVGPOOL] = "average pool",
                                       [RV_BRANCH_1X1_KXK] = "1x1-then-kxk",
                                       [RV_BRANCH_1X1_AVG] = "1x1-then-average"};
    rv_tensor mw = {0}, mb = {0};
    need(rv_tensor_alloc(&mw, RV_CPU, 4, w->dim, "w"), "allocate");
    need(rv_tensor_alloc1(&mb, RV_CPU, bias->dim[0], "b"), "allocate");
    int found = 0;
    for (int i = -1; i < s->n_branches && !found; i++)
        for (int post = 1; post >= !s->post_bn && !found; post--)
            for (int biases = 1; biases >= 0 && !found; biases--) {
                if (i < 0 && post && biases) continue; /* the right answer */
                expected_fold(b, i, post, biases, &mw, &mb);
                found = looks_like(w, &mw, RV_TOL_FP32) && looks_like(bias, &mb, RV_TOL_FP32);
                if (!found) continue;
                if (i >= 0 && s->branch[i].kind == RV_BRANCH_IDENTITY)
                    printf("    this looks like: branch %d (the identity) left out of the sum\n",
                           i);
                else if (i >= 0)
                    printf("    this looks like: branch %d (%dx%d %s) left out of the sum\n", i,
                           s->branch[i].kh, s->branch[i].kw, kind[s->branch[i].kind]);
                if (!post) printf("    this looks like: the BN after the sum not folded in\n");
                if (!biases) printf("    this looks like: the branches' biases dropped\n");
            }
    rv_tensor_free(&mw);
    rv_tensor_free(&mb);
}

/* Folds a random block of spec with the student's step, checks the kernel and
 * bias, and the property itself: the block's forward equals the fused conv's. */
static int fold_case(rv_block_spec spec, uint64_t seed)
{
    rv_rng r = rv_rng_seed(seed);
    rv_block b;
    if (rv_block_check(&spec) != RV_OK) { /* RepVGG's spec comes from rv_step_wants_identity */
        printf("    the RepVGG block made with your rv_step_wants_identity is refused: %s\n",
               rv_last_error());
        return 0;
    }
    need(rv_block_init_random(&b, spec, &r, RV_CPU), "build the block");
    int64_t O = spec.out_ch, Ig = spec.in_ch / spec.groups;
    rv_tensor w = host4(O, Ig, spec.kh, spec.kw, "w"), bias = host1(O, "bias");
    rv_tensor ww = host4(O, Ig, spec.kh, spec.kw, "want w"), wb = host1(O, "want bias");
    rv_tensor_fill(&w, 0.0f);
    rv_tensor_fill(&bias, 0.0f);
    expected_fold(&b, -1, 1, 1, &ww, &wb);
    int ok = step_ok(rv_step_fold_block(&b, &w, &bias), "rv_step_fold_block");
    int good = ok && agree("the folded kernel W", &w, &ww, RV_TOL_FP32);
    good = good && agree("the folded bias b", &bias, &wb, RV_TOL_FP32);
    if (ok && !good) diagnose_fold(&b, &w, &bias);
    if (good) { /* what the fold is for: one conv computes the block */
        rv_tensor x = host4(2, spec.in_ch, 7, 6, "x"), tmp = {0}, y = {0}, yf = {0};
        int64_t out[4];
        rv_tensor_fill_uniform(&x, &r, -1, 1);
        need(rv_block_out_shape(&spec, &x, out), "shape the output");
        rv_tensor *o[3] = {&tmp, &y, &yf};
        for (int k = 0; k < 3; k++) need(rv_tensor_alloc(o[k], RV_CPU, 4, out, "y"), "allocate");
        rv_block_plan bp;
        need(rv_block_plan_build(&bp, &b, x.dim, NULL), "plan the block");
        need(rv_block_run(&b, &bp, NULL, &x, &tmp, &y), "run the block");
        rv_block_plan_free(&bp);
        rv_conv_params p = rv_block_conv_params(&spec);
        p.relu = !spec.no_relu;
        need(rv_conv2d_ref(&x, &w, &bias, p, &yf), "run the fused conv");
        good = agree("the fused conv's output against the block's", &yf, &y, RV_TOL_FP32);
        rv_tensor *t[4] = {&x, &tmp, &y, &yf};
        free_all(t, 4);
    }
    rv_tensor *all[4] = {&w, &bias, &ww, &wb};
    free_all(all, 4);
    rv_block_free(&b);
    return good;
}

static rv_block_spec repvgg(int64_t in, int64_t out, int stride, int groups)
{
    rv_block_spec s = {0}; /* RepVGG's spec asks rv_step_wants_identity */
    if (!step_ok(rv_repvgg_block_spec(in, out, stride, groups, &s), "rv_step_wants_identity"))
        finish(FAIL);
    return s;
}

static int ex5_repvgg(void) { return fold_case(repvgg(6, 6, 1, 1), 51); }
static int ex5_stride2(void) { return fold_case(repvgg(6, 6, 2, 1), 52); }
static int ex5_groups(void) { return fold_case(repvgg(8, 8, 1, 2), 53); }
static int ex5_acnet(void) { return fold_case(rv_acnet_block_spec(5, 5, 1, 1), 54); }

static int ex5_post_bn(void)
{
    rv_block_spec qa = repvgg(6, 6, 1, 1); /* QARepVGG: no BN on the 1x1 and identity */
    qa.branch[1].bn = qa.branch[2].bn = 0;
    qa.post_bn = 1;
    return fold_case(qa, 55);
}

static int ex5_biases(void)
{
    const rv_branch_spec b[2] = {
        {.kind = RV_BRANCH_CONV, .kh = 3, .kw = 3, .pad_h = 1, .pad_w = 1, .bias = 1},
        {.kind = RV_BRANCH_CONV, .kh = 1, .kw = 1, .bias = 1, .bn = 1}};
    return fold_case(rv_block_spec_list(4, 6, 1, 1, 3, 2, b), 56);
}

/* ---- exercise 6: the network switched ----------------------------------------- */

/* Switches a random train-time net of n blocks with the student's step and
 * runs both nets on one input. */
static int switch_case(const rv_block_spec *specs, int n, uint64_t seed)
{
    rv_rng r = rv_rng_seed(seed);
    rv_net train, fast;
    need(rv_net_init_random(&train, specs, n, 0, &r, RV_CPU), "build the net");
    int ok = step_ok(rv_net_switch_to_fast(&train, &fast), "rv_step_switch_net");
    if (ok) {
        rv_tensor x = host4(2, specs[0].in_ch, 16, 12, "x"), y = {0}, yf = {0};
        int64_t out[4];
        int rank;
        rv_tensor_fill_uniform(&x, &r, -1, 1);
        need(rv_net_out_shape(&train, &x, out, &rank), "shape the output");
        need(rv_tensor_alloc(&y, RV_CPU, rank, out, "y"), "allocate");
        need(rv_tensor_alloc(&yf, RV_CPU, rank, out, "yf"), "allocate");
        need(rv_net_forward(&train, &x, &y), "run the train-time net");
        need(rv_net_forward(&fast, &x, &yf), "run the deploy-time net");
        ok = agree("the switched net's output against the train-time net's", &yf, &y, RV_TOL_FP32);
        rv_tensor *t[3] = {&x, &y, &yf};
        free_all(t, 3);
        rv_net_free(&fast);
    }
    rv_net_free(&train);
    return ok;
}

static int ex6_one_block(void)
{
    rv_block_spec s = repvgg(3, 4, 2, 1);
    return switch_case(&s, 1, 61);
}

static int ex6_net(void)
{
    rv_block_spec s[6] = {repvgg(3, 4, 2, 1), repvgg(4, 6, 2, 1), repvgg(6, 6, 1, 2),
                          repvgg(6, 8, 2, 1), repvgg(8, 8, 1, 1), repvgg(8, 8, 1, 4)};
    return switch_case(s, 6, 62);
}

/* An error from one block (here a spec the fold refuses) must come back. */
static int ex6_error(void)
{
    rv_rng r = rv_rng_seed(63);
    rv_block_spec specs[3] = {repvgg(3, 4, 2, 1), repvgg(4, 4, 1, 1), repvgg(4, 4, 1, 1)};
    rv_net train, fast;
    need(rv_net_init_random(&train, specs, 3, 0, &r, RV_CPU), "build the net");
    train.blocks[1].spec.groups = 3; /* 4 channels do not split into 3 groups */
    rv_status st = rv_net_switch_to_fast(&train, &fast);
    if (st == RV_ENOTIMPL) step_ok(st, "rv_step_switch_net");
    int ok = st == RV_EINVAL && strstr(rv_last_error(), "groups");
    if (!ok)
        printf("    block 1 cannot be switched (its channels do not split into its groups), "
               "but the error did not come back: got \"%s\"\n",
               st == RV_OK ? "RV_OK" : rv_last_error());
    train.blocks[1].spec.groups = 1;
    rv_net_free(&train);
    return ok;
}

/* ---- the exercises, their cases and hints ------------------------------------- */

typedef struct {
    const char *name;
    int (*run)(void);
} grade_case;

typedef struct {
    const char *title, *file, *hint;
    grade_case cases[8];
} exercise;

static const exercise exercises[] = {
    {"the sum of two convs (rv_step_sum_convs)",
     "01_sum_convs.c",
     "lesson 01 (build/bin/01_two_branch_sum) prints the rule: add the weights, add the biases",
     {{"weights summed, biases zero", ex1_weights},
      {"biases summed too", ex1_biases},
      {"summed in place into w1 and b1", ex1_into_w1},
      {"summed in place into w2 and b2", ex1_into_w2},
      {"1x1 kernels", ex1_1x1}}},
    {"conv + BN folded (rv_step_fuse_conv_bn)",
     "02_fuse_conv_bn.c",
     "lesson 02 (build/bin/02_conv_bn_fusion) prints s and t; it is the running mean and "
     "variance, with eps, that make the BN a fixed scale and shift",
     {{"a conv without bias (the notebook's)", ex2_no_bias},
      {"a conv with its own bias", ex2_bias},
      {"variances near zero: eps matters", ex2_eps},
      {"in place: w_out = w, b_out = b", ex2_in_place}}},
    {"a kernel centred in a larger one (rv_step_pad_kernel)",
     "03_pad_kernel.c",
     "lesson 03 (build/bin/03_pad_1x1_to_3x3) prints a padded kernel: the 1x1 tap sits at the "
     "centre, everything around it is zero",
     {{"1x1 into 3x3", ex3_1x1},
      {"1x3 into 3x3 (ACNet)", ex3_1x3},
      {"3x1 into 3x3 (ACNet)", ex3_3x1},
      {"3x3 into 5x5", ex3_5x5},
      {"3x3 into 3x3: a copy", ex3_copy}}},
    {"the identity kernel (rv_step_identity_kernel)",
     "04_identity_kernel.c",
     "lesson 04 (build/bin/04_identity_as_conv) prints the notebook's kernel and says which "
     "input channel each output channel reads when there are groups",
     {{"one group", ex4_groups1},
      {"two groups", ex4_groups2},
      {"one channel per group (depthwise)", ex4_depthwise},
      {"1x5 and 5x3 kernels", ex4_sizes}}},
    {"a block folded into one conv (rv_step_fold_block, rv_step_wants_identity)",
     "05_fold_block.c",
     "lesson 05 (build/bin/05_repvgg_block) prints W and b; every branch goes through "
     "rv_branch_kernel, its BN, rv_pad_kernel and rv_sum_convs",
     {{"the identity rule", ex5_identity_rule},
      {"RepVGG block, 3 branches", ex5_repvgg},
      {"RepVGG block at stride 2, 2 branches", ex5_stride2},
      {"RepVGG block in 2 groups", ex5_groups},
      {"ACNet block: 3x3, 1x3 and 3x1", ex5_acnet},
      {"QARepVGG block: a BN after the sum", ex5_post_bn},
      {"convs with their own bias", ex5_biases}}},
    {"the network switched block by block (rv_step_switch_net)",
     "06_switch_net.c",
     "lesson 06 (build/bin/06_network_switch) switches a whole RepVGG: one "
     "rv_block_switch_to_fast per block, every block",
     {{"a net of one block", ex6_one_block},
      {"a net of six blocks", ex6_net},
      {"an error from one block comes back", ex6_error}}},
};

/* Runs one case in a child process with a time limit; returns its verdict. */
static int run_case(const grade_case *c)
{
    int fd[2];
    fflush(stdout);
    if (pipe(fd) != 0) {
        perror("grade: pipe");
        return FAIL;
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("grade: fork");
        return FAIL;
    }
    if (pid == 0) {
        close(fd[0]);
        verdict_fd = fd[1];
        alarm(CASE_SECONDS);
        finish(c->run() ? PASS : FAIL);
    }
    close(fd[1]);
    unsigned char v;
    int told = read(fd[0], &v, 1) == 1;
    close(fd[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) continue;
    if (told) return v;
    if (WIFEXITED(status)) {
        printf("    the program stopped (exit %d) inside the case: a sanitizer found a fault, "
               "and its report above names the file and line\n",
               WEXITSTATUS(status));
        return FAIL;
    }
    int sig = WTERMSIG(status);
    const char *why = sig == SIGALRM ? "it did not finish in time: an endless loop?"
                      : sig == SIGSEGV
                          ? "a segmentation fault: a read or write outside a tensor's memory"
                      : sig == SIGABRT ? "it aborted: a sanitizer's report above, or a failed check"
                      : sig == SIGFPE  ? "an arithmetic fault (an integer divided by zero?)"
                                       : strsignal(sig);
    printf("    the program stopped: %s\n", why);
    return FAIL;
}

int main(int argc, char **argv)
{
    int n = argc == 2 ? atoi(argv[1]) : 0, count = sizeof exercises / sizeof exercises[0];
    if (n < 1 || n > count) {
        fprintf(stderr, "usage: %s N   grades exercise N (1 to %d)\n", argv[0], count);
        return 2;
    }
    const exercise *e = &exercises[n - 1];
    printf("Exercise %d: %s, in lessons/exercises/%s\n", n, e->title, e->file);
    int passed = 0, total = 0, verdict = PASS, not_written = 0;
    for (const grade_case *c = e->cases; c->run; c++, total++) {
        printf("  case %d, %s:\n", total + 1, c->name);
        int v = run_case(c);
        printf("  -> %s\n", v == PASS ? "ok" : v == NOT_WRITTEN ? "not written yet" : "FAIL");
        passed += v == PASS;
        not_written += v == NOT_WRITTEN;
        if (v != PASS && verdict == PASS) verdict = v;
    }
    if (not_written == total) {
        printf("FAIL exercise %d: not implemented yet; write it in lessons/exercises/%s\n", n,
               e->file);
        return FAIL;
    }
    if (verdict == PASS) {
        printf("PASS exercise %d: all %d cases\n", n, total);
        return PASS;
    }
    printf("FAIL exercise %d: %d of %d cases passed\nhint: %s\n", n, passed, total, e->hint);
    return FAIL;
}
