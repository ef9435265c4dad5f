/* cases.c - the graded cases of the six exercises (cases.h), and their messages.
 *
 * Each exercise is one step of the notebook (src/reparam/rv_steps.h); each
 * case one property of it, on inputs made from the case's seed. A family
 * gives the five parts of a case: setup (both sides), call (the runner: the
 * student's step), want (the judge: the answer, computed here from the
 * definition or from the library's checked pieces), io (the answer moved,
 * wire.h) and check (the judge: which property failed, the worst element
 * with its place, got and want, and the known mistake it looks like).
 */
#include "cases.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rv_check.h"
#include "rv_steps.h"

void (*case_need_failed)(void);

/* ---- helpers ------------------------------------------------------------------- */

/* Setting-up calls of the grader itself must work. */
static void need(rv_status st, const char *what)
{
    if (st == RV_OK) return;
    printf("    the grader could not %s: %s\n", what, rv_last_error());
    fflush(stdout);
    if (case_need_failed) case_need_failed();
    exit(1);
}

/* A step's status as received: 1 for RV_OK; else the message (and the verdict in *v). */
static int step_ok(rv_status st, const char *msg, const char *call, int *v)
{
    if (st == RV_OK) return 1;
    if (st == RV_ENOTIMPL) {
        printf("    %s\n", msg);
        *v = CASE_NOT_WRITTEN;
    } else {
        printf("    %s returned an error: %s\n", call, msg);
        *v = CASE_ERROR;
    }
    return 0;
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
    if (!got->data || !rv_tensor_same_shape(got, want)) {
        printf("    %s: the shape changed to %s, it must stay %s (write into the tensor you are "
               "given; do not allocate a new one)\n",
               what, got->data ? rv_tensor_shape_str(got, gs, sizeof gs) : "(none)",
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
    return got->data && rv_tensor_same_shape(got, maybe) &&
           rv_compare(got->data, maybe->data, rv_tensor_numel(maybe), tol).pass;
}

static void free_all(rv_tensor **t, int n)
{
    for (int i = 0; i < n; i++) rv_tensor_free(t[i]);
}

/* The BN's statistics, as inputs the step must leave alone. */
static void bn_inputs(wire *w, const rv_bn *bn, const char *whose)
{
    const rv_tensor *t[4] = {&bn->gamma, &bn->beta, &bn->mean, &bn->var};
    static const char *const part[4] = {"gamma", "beta", "mean", "var"};
    char name[96];
    for (int i = 0; i < 4; i++)
        if (t[i]->data) {
            snprintf(name, sizeof name, "%s%s", whose, part[i]);
            wire_input(w, t[i], name);
        }
}

/* ---- exercise 1: the sum of two convs --------------------------------------------
 * p: zero_bias, into (0 new outputs, 1 into w1/b1, 2 into w2/b2), O, I, K.
 * t: w1 b1 w2 b2 w b, want w, want b. */

static void sum_setup(case_state *s)
{
    const int *p = s->c->p;
    int64_t o = p[2], i = p[3], k = p[4];
    rv_tensor *t = s->t;
    t[0] = host4(o, i, k, k, "w1");
    t[1] = host1(o, "b1");
    t[2] = host4(o, i, k, k, "w2");
    t[3] = host1(o, "b2");
    for (int n = 0; n < 4; n++) rv_tensor_fill_int(&t[n], &s->rng, -5, 5);
    if (p[0]) {
        rv_tensor_fill(&t[1], 0.0f);
        rv_tensor_fill(&t[3], 0.0f);
    }
    t[4] = host4(o, i, k, k, "w");
    t[5] = host1(o, "b");
    fill_nan(&t[4]);
    fill_nan(&t[5]);
}

static rv_tensor *sum_out(case_state *s, int bias)
{
    int into = s->c->p[1];
    return &s->t[(into == 1 ? 0 : into == 2 ? 2 : 4) + bias];
}

static void sum_call(case_state *s)
{
    rv_tensor *t = s->t;
    s->st[0] = rv_sum_convs(&t[0], &t[1], &t[2], &t[3], sum_out(s, 0), sum_out(s, 1));
}

/* want = a + b, element by element (the definition, written here) */
static rv_tensor plus(const rv_tensor *a, const rv_tensor *b, const char *what)
{
    rv_tensor s = {0};
    need(rv_tensor_alloc(&s, RV_CPU, a->ndim, a->dim, what), "allocate a tensor");
    for (int64_t n = 0; n < rv_tensor_numel(a); n++) s.data[n] = a->data[n] + b->data[n];
    return s;
}

static void sum_want(case_state *s)
{
    s->t[6] = plus(&s->t[0], &s->t[2], "want w");
    s->t[7] = plus(&s->t[1], &s->t[3], "want b");
}

static int sum_io(case_state *s, wire *w)
{
    static const char *const names[4] = {"w1", "b1", "w2", "b2"};
    int into = s->c->p[1];
    wire_status(w, &s->st[0], s->msg[0]);
    if (s->st[0] != RV_OK) return 1;
    wire_output(w, sum_out(s, 0));
    wire_output(w, sum_out(s, 1));
    for (int n = 0; n < 4; n++)
        if (into == 0 || n / 2 != into - 1) wire_input(w, &s->t[n], names[n]);
    return 1;
}

static int sum_check(case_state *s)
{
    int v = CASE_WRONG;
    if (!step_ok(s->st[0], s->msg[0], "rv_step_sum_convs", &v)) return v;
    int ok = agree("the summed weight w", sum_out(s, 0), &s->t[6], RV_TOL_EXACT);
    int bias_ok = ok && agree("the summed bias b", sum_out(s, 1), &s->t[7], RV_TOL_EXACT);
    if (ok && !bias_ok && !s->c->p[0])
        printf("    bias ignored? the weights are right (they pass with biases 0) but b is not "
               "b1 + b2\n");
    return ok && bias_ok ? CASE_PASS : CASE_WRONG;
}

/* ---- exercise 2: conv + BN -------------------------------------------------------
 * p: with_bias, tiny_var, in_place. t: w b w_out b_out, want w, want b, w and
 * b as given (for the mistakes). */

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

enum { FUSE_O = 6, FUSE_C = 4 };

static void fuse_setup(case_state *s)
{
    rv_tensor *t = s->t;
    t[0] = host4(FUSE_O, FUSE_C, 3, 3, "w");
    t[1] = host1(FUSE_O, "b");
    rv_tensor_fill_uniform(&t[0], &s->rng, -1, 1);
    rv_tensor_fill_uniform(&t[1], &s->rng, -1, 1);
    need(rv_bn_alloc(&s->bn, FUSE_O), "allocate a BN");
    need(rv_bn_randomize(&s->bn, &s->rng), "fill a BN");
    if (s->c->p[1]) /* variances near eps: forgetting eps changes s by far */
        for (int64_t o = 0; o < FUSE_O; o++) s->bn.var.data[o] = (float)(1e-6 * (o + 1));
    t[2] = host4(FUSE_O, FUSE_C, 3, 3, "w_out");
    t[3] = host1(FUSE_O, "b_out");
    fill_nan(&t[2]);
    fill_nan(&t[3]);
}

static rv_tensor *fuse_out(case_state *s, int bias) { return &s->t[(s->c->p[2] ? 0 : 2) + bias]; }

static void fuse_call(case_state *s)
{
    s->st[0] = rv_fuse_conv_bn(&s->t[0], s->c->p[0] ? &s->t[1] : NULL, &s->bn, fuse_out(s, 0),
                               fuse_out(s, 1));
}

static void fuse_want(case_state *s)
{
    rv_tensor *t = s->t;
    t[4] = host4(FUSE_O, FUSE_C, 3, 3, "want w");
    t[5] = host1(FUSE_O, "want b");
    fold_by_hand(&t[0], s->c->p[0] ? &t[1] : NULL, &s->bn, RIGHT, &t[4], &t[5]);
    need(rv_tensor_clone(&t[6], &t[0], RV_CPU, "w"), "copy w");
    need(rv_tensor_clone(&t[7], &t[1], RV_CPU, "b"), "copy b");
}

static int fuse_io(case_state *s, wire *w)
{
    int with_bias = s->c->p[0], in_place = s->c->p[2];
    wire_status(w, &s->st[0], s->msg[0]);
    if (s->st[0] != RV_OK) return 1;
    wire_output(w, fuse_out(s, 0));
    wire_output(w, fuse_out(s, 1));
    if (!in_place) wire_input(w, &s->t[0], "w");
    if (!in_place && with_bias) wire_input(w, &s->t[1], "b");
    bn_inputs(w, &s->bn, "bn->");
    return 1;
}

static int fuse_check(case_state *s)
{
    int v = CASE_WRONG, with_bias = s->c->p[0];
    if (!step_ok(s->st[0], s->msg[0], "rv_step_fuse_conv_bn", &v)) return v;
    rv_tensor *pw = fuse_out(s, 0), *pb = fuse_out(s, 1), *t = s->t;
    int w_ok = agree("the fused weight s*W", pw, &t[4], RV_TOL_FP32);
    int b_ok = agree("the fused bias t + s*b", pb, &t[5], RV_TOL_FP32);
    if (w_ok && b_ok) return CASE_PASS;
    static const char *const what[] = {
        [NO_EPS] = "eps forgotten: s = gamma / sqrt(var), without + eps",
        [NO_SQRT] = "no square root: s = gamma / (var + eps)",
        [SHIFT_NO_SCALE] = "the shift is beta - mean: it is beta - mean * s",
        [BIAS_NOT_SCALED] = "the conv's bias is added unscaled: t + b, not t + s*b",
        [BIAS_IGNORED] = "the conv's bias is ignored: t, not t + s*b",
        [NO_STATS] = "the running statistics are not used (as if mean = 0, var = 1)"};
    rv_tensor mw = host4(FUSE_O, FUSE_C, 3, 3, "mistake w"), mb = host1(FUSE_O, "mistake b");
    for (int m = NO_EPS; m <= NO_STATS; m++) {
        fold_by_hand(&t[6], with_bias ? &t[7] : NULL, &s->bn, m, &mw, &mb);
        if (looks_like(pw, &mw, RV_TOL_FP32) && looks_like(pb, &mb, RV_TOL_FP32)) {
            printf("    this looks like: %s\n", what[m]);
            break;
        }
    }
    rv_tensor *mist[2] = {&mw, &mb};
    free_all(mist, 2);
    return CASE_WRONG;
}

/* ---- exercise 3: a kernel centred in a larger one --------------------------------
 * p: O, C, kh, kw, oh, ow. t: w y want corner. */

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

static void pad_setup(case_state *s)
{
    const int *p = s->c->p;
    s->t[0] = host4(p[0], p[1], p[2], p[3], "w");
    s->t[1] = host4(p[0], p[1], p[4], p[5], "y");
    rv_tensor_fill_int(&s->t[0], &s->rng, 1, 9); /* no zeros: a misplaced tap shows */
    fill_nan(&s->t[1]);
}

static void pad_call(case_state *s) { s->st[0] = rv_pad_kernel(&s->t[0], &s->t[1]); }

static void pad_want(case_state *s)
{
    const int *p = s->c->p;
    s->t[2] = host4(p[0], p[1], p[4], p[5], "want");
    s->t[3] = host4(p[0], p[1], p[4], p[5], "corner");
    place_kernel(&s->t[0], (p[4] - p[2]) / 2, (p[5] - p[3]) / 2, &s->t[2]);
    place_kernel(&s->t[0], 0, 0, &s->t[3]);
}

static int pad_io(case_state *s, wire *w)
{
    wire_status(w, &s->st[0], s->msg[0]);
    if (s->st[0] != RV_OK) return 1;
    wire_output(w, &s->t[1]);
    wire_input(w, &s->t[0], "w");
    return 1;
}

static int pad_check(case_state *s)
{
    const int *p = s->c->p;
    int v = CASE_WRONG;
    if (!step_ok(s->st[0], s->msg[0], "rv_step_pad_kernel", &v)) return v;
    char what[96];
    snprintf(what, sizeof what, "the %dx%d kernel centred in %dx%d", p[2], p[3], p[4], p[5]);
    rv_tensor *y = &s->t[1];
    if (agree(what, y, &s->t[2], RV_TOL_EXACT)) return CASE_PASS;
    if ((p[4] > p[2] || p[5] > p[3]) && looks_like(y, &s->t[3], RV_TOL_EXACT))
        printf("    this looks like: the kernel in the top-left corner, not in the "
               "centre (the notebook pads 1 on every side)\n");
    int64_t nan_left = 0;
    for (int64_t i = 0; y->data && i < rv_tensor_numel(y); i++) nan_left += isnan(y->data[i]);
    if (nan_left)
        printf("    %lld values were never written: y holds anything on entry, so the "
               "zeros around the kernel must be written too\n",
               (long long)nan_left);
    return CASE_WRONG;
}

/* ---- exercise 4: the identity kernel ---------------------------------------------
 * p: C, groups, kh, kw. t: w want. */

static void identity_setup(case_state *s)
{
    const int *p = s->c->p;
    s->t[0] = host4(p[0], p[0] / p[1], p[2], p[3], "w");
    fill_nan(&s->t[0]);
}

static void identity_call(case_state *s) { s->st[0] = rv_identity_kernel(s->c->p[1], &s->t[0]); }

static void identity_want(case_state *s)
{
    const int *p = s->c->p;
    int64_t C = p[0], Cg = C / p[1], kh = p[2], kw = p[3];
    s->t[1] = host4(C, Cg, kh, kw, "want");
    rv_tensor_fill(&s->t[1], 0.0f);
    for (int64_t o = 0; o < C; o++)
        s->t[1].data[((o * Cg + o % Cg) * kh + kh / 2) * kw + kw / 2] = 1;
}

static int identity_io(case_state *s, wire *w)
{
    wire_status(w, &s->st[0], s->msg[0]);
    if (s->st[0] == RV_OK) wire_output(w, &s->t[0]);
    return 1;
}

static int identity_check(case_state *s)
{
    const int *p = s->c->p;
    int v = CASE_WRONG, C = p[0], groups = p[1], kh = p[2], kw = p[3], Cg = C / groups;
    if (!step_ok(s->st[0], s->msg[0], "rv_step_identity_kernel", &v)) return v;
    rv_tensor *w = &s->t[0];
    char what[96];
    snprintf(what, sizeof what, "the identity kernel, %d channels in %d group%s, %dx%d", C, groups,
             groups > 1 ? "s" : "", kh, kw);
    if (agree(what, w, &s->t[1],
              RV_TOL_EXACT)) { /* and what it is for: conv(x, I) = x, bit for bit */
        rv_tensor x = host4(2, C, 5, 6, "x"), y = host4(2, C, 5, 6, "conv(x, I)");
        rv_tensor_fill_uniform(&x, &s->rng, -1, 1);
        rv_conv_params cp = {.stride = 1, .pad_h = kh / 2, .pad_w = kw / 2, .groups = groups};
        need(rv_conv2d_ref(&x, w, NULL, cp, &y), "run the conv");
        int good = agree("conv(x, your kernel) against x", &y, &x, RV_TOL_EXACT);
        rv_tensor *t[2] = {&x, &y};
        free_all(t, 2);
        return good ? CASE_PASS : CASE_WRONG;
    }
    if (groups > 1 &&
        rv_tensor_same_shape(w, &s->t[1])) { /* the first group right, the others wrong */
        int first = 1, later = 1;
        for (int64_t o = 0; o < C; o++) {
            int right = w->data[((o * Cg + o % Cg) * kh + kh / 2) * kw + kw / 2] == 1.0f;
            if (o < Cg) first &= right;
            if (o >= Cg) later &= right;
        }
        if (first && !later)
            printf("    this looks like: right in the first group only; with groups, output "
                   "channel o reads the C/g channels of its own group, where its own channel "
                   "is number o mod (C/g), not o\n");
    }
    return CASE_WRONG;
}

/* ---- exercise 5: the identity rule -------------------------------------------------- */

static const struct {
    int64_t in, out;
    int stride, expect;
    const char *why;
} rule[4] = {{8, 8, 1, 1, "x has the output's shape"},
             {8, 16, 1, 0, "x has 8 channels, the output 16"},
             {8, 8, 2, 0, "identity kept at stride 2: the notebook's bug, lesson 06"},
             {3, 48, 2, 0, "the stem: neither"}};

static void wants_setup(case_state *s) { (void)s; }

static void wants_call(case_state *s)
{
    for (int i = 0; i < 4; i++) {
        s->yes[i] = -1;
        s->st[i] = rv_block_wants_identity(rule[i].in, rule[i].out, rule[i].stride, &s->yes[i]);
    }
}

static void wants_want(case_state *s) { (void)s; }

static int wants_io(case_state *s, wire *w)
{
    for (int i = 0; i < 4; i++) {
        wire_status(w, &s->st[i], s->msg[i]);
        wire_int(w, &s->yes[i]);
    }
    return 1;
}

static int wants_check(case_state *s)
{
    int v = CASE_PASS;
    for (int i = 0; i < 4; i++) {
        int e = CASE_WRONG;
        if (!step_ok(s->st[i], s->msg[i], "rv_step_wants_identity", &e)) return e;
        if (s->yes[i] == rule[i].expect) continue;
        printf("    %lld -> %lld channels at stride %d: got %d, want %d (%s)\n",
               (long long)rule[i].in, (long long)rule[i].out, rule[i].stride, s->yes[i],
               rule[i].expect, rule[i].why);
        v = CASE_WRONG;
    }
    return v;
}

/* ---- exercise 5: a block folded ----------------------------------------------------
 * p: the block (FOLD_*), in, out, stride, groups. st: the spec (RepVGG's asks the
 * student's rv_step_wants_identity), the spec's check, the fold. t: W, bias,
 * want W, want bias. */

enum { FOLD_REPVGG, FOLD_ACNET, FOLD_QAREPVGG, FOLD_BIASES };

static void fold_setup(case_state *s)
{
    const int *p = s->c->p;
    static const rv_branch_spec biased[2] = {
        {.kind = RV_BRANCH_CONV, .kh = 3, .kw = 3, .pad_h = 1, .pad_w = 1, .bias = 1},
        {.kind = RV_BRANCH_CONV, .kh = 1, .kw = 1, .bias = 1, .bn = 1}};
    memset(&s->spec, 0, sizeof s->spec);
    s->st[0] = RV_OK;
    if (p[0] == FOLD_REPVGG || p[0] == FOLD_QAREPVGG)
        s->st[0] = rv_repvgg_block_spec(p[1], p[2], p[3], p[4], &s->spec);
    else if (p[0] == FOLD_ACNET)
        s->spec = rv_acnet_block_spec(p[1], p[2], p[3], p[4]);
    else
        s->spec = rv_block_spec_list(p[1], p[2], p[3], p[4], 3, 2, biased);
    if (s->st[0] != RV_OK) return;
    if (p[0] == FOLD_QAREPVGG) { /* QARepVGG: no BN on the 1x1 and identity, one after the sum */
        for (int i = 1; i < s->spec.n_branches; i++) s->spec.branch[i].bn = 0;
        s->spec.post_bn = 1;
    }
    s->st[1] = rv_block_check(&s->spec);
    if (s->st[1] != RV_OK) return;
    need(rv_block_init_random(&s->block, s->spec, &s->rng, RV_CPU), "build the block");
    s->have_block = 1;
    int64_t O = s->spec.out_ch, Ig = s->spec.in_ch / s->spec.groups;
    s->t[0] = host4(O, Ig, s->spec.kh, s->spec.kw, "w");
    s->t[1] = host1(O, "bias");
    rv_tensor_fill(&s->t[0], 0.0f);
    rv_tensor_fill(&s->t[1], 0.0f);
}

static void fold_call(case_state *s)
{
    if (s->have_block) s->st[2] = rv_step_fold_block(&s->block, &s->t[0], &s->t[1]);
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

static void fold_want(case_state *s)
{
    if (!s->have_block) return;
    s->t[2] = host4(s->t[0].dim[0], s->t[0].dim[1], s->t[0].dim[2], s->t[0].dim[3], "want w");
    s->t[3] = host1(s->t[1].dim[0], "want bias");
    expected_fold(&s->block, -1, 1, 1, &s->t[2], &s->t[3]);
}

/* Every parameter of a block, as inputs the step must leave alone. */
static void block_inputs(wire *w, const rv_block *b, const char *whose)
{
    char name[96];
    for (int i = 0; i < b->spec.n_branches; i++) {
        const rv_branch *br = &b->branch[i];
        const rv_tensor *t[3] = {&br->w, &br->b, &br->w1};
        static const char *const part[3] = {"w", "b", "w1"};
        for (int k = 0; k < 3; k++)
            if (t[k]->data) {
                snprintf(name, sizeof name, "%sbranch[%d].%s", whose, i, part[k]);
                wire_input(w, t[k], name);
            }
        snprintf(name, sizeof name, "%sbranch[%d].bn.", whose, i);
        bn_inputs(w, &br->bn, name);
        snprintf(name, sizeof name, "%sbranch[%d].bn1.", whose, i);
        bn_inputs(w, &br->bn1, name);
    }
    snprintf(name, sizeof name, "%spost.", whose);
    bn_inputs(w, &b->post, name);
}

static int spec_equal(const rv_block_spec *a, const rv_block_spec *b)
{
    if (a->in_ch != b->in_ch || a->out_ch != b->out_ch || a->stride != b->stride ||
        a->groups != b->groups || a->kh != b->kh || a->kw != b->kw || a->pad_h != b->pad_h ||
        a->pad_w != b->pad_w || a->post_bn != b->post_bn || a->no_relu != b->no_relu ||
        a->n_branches != b->n_branches)
        return 0;
    for (int i = 0; i < a->n_branches && i < RV_MAX_BRANCHES; i++) {
        const rv_branch_spec *x = &a->branch[i], *y = &b->branch[i];
        if (x->kind != y->kind || x->kh != y->kh || x->kw != y->kw || x->pad_h != y->pad_h ||
            x->pad_w != y->pad_w || x->bn != y->bn || x->bias != y->bias ||
            x->mid_ch != y->mid_ch || x->zero_border != y->zero_border)
            return 0;
    }
    return 1;
}

/* The runner's spec against the judge's: 1 when they are one block. */
static int same_spec(case_state *s, wire *w, const rv_block_spec *mine, const char *why)
{
    rv_block_spec *sp = w->writing ? (rv_block_spec *)mine : &s->got_spec;
    wire_bytes(w, sp, sizeof *sp);
    if (w->writing || w->garbage || spec_equal(sp, mine)) return 1;
    s->differs = why;
    return 0;
}

static int fold_io(case_state *s, wire *w)
{
    wire_status(w, &s->st[0], s->msg[0]);
    if (s->st[0] != RV_OK) return 1;
    if (!same_spec(s, w, &s->spec,
                   "the RepVGG block made with your rv_step_wants_identity has other branches "
                   "than RepVGG's (the identity rule is wrong: see case 1)"))
        return 0;
    wire_status(w, &s->st[1], s->msg[1]);
    if (s->st[1] != RV_OK) return 1;
    wire_status(w, &s->st[2], s->msg[2]);
    if (s->st[2] != RV_OK) return 1;
    wire_output(w, &s->t[0]);
    wire_output(w, &s->t[1]);
    block_inputs(w, &s->block, "b->");
    return 1;
}

/* Names the usual mistake (a branch left out, the post-sum BN or a branch's
 * bias forgotten) when the student's w and bias are that. */
static void diagnose_fold(const rv_block *b, const rv_tensor *w, const rv_tensor *bias,
                          const rv_tensor *want_w, const rv_tensor *want_b)
{
    const rv_block_spec *s = &b->spec;
    static const char *const kind[] = {[RV_BRANCH_CONV] = "conv",
                                       [RV_BRANCH_AVGPOOL] = "average pool",
                                       [RV_BRANCH_1X1_KXK] = "1x1-then-kxk",
                                       [RV_BRANCH_1X1_AVG] = "1x1-then-average"};
    rv_tensor mw = {0}, mb = {0};
    need(rv_tensor_alloc(&mw, RV_CPU, 4, want_w->dim, "w"), "allocate");
    need(rv_tensor_alloc1(&mb, RV_CPU, want_b->dim[0], "b"), "allocate");
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

static int fold_check(case_state *s)
{
    int v = CASE_WRONG;
    if (!step_ok(s->st[0], s->msg[0], "rv_step_wants_identity", &v)) return v;
    if (s->st[1] != RV_OK) {
        printf("    the RepVGG block made with your rv_step_wants_identity is refused: %s\n",
               s->msg[1]);
        return CASE_WRONG;
    }
    if (!step_ok(s->st[2], s->msg[2], "rv_step_fold_block", &v)) return v;
    const rv_block_spec *spec = &s->spec;
    rv_tensor *w = &s->t[0], *bias = &s->t[1];
    int good = agree("the folded kernel W", w, &s->t[2], RV_TOL_FP32);
    good = good && agree("the folded bias b", bias, &s->t[3], RV_TOL_FP32);
    if (!good) {
        diagnose_fold(&s->block, w, bias, &s->t[2], &s->t[3]);
        return CASE_WRONG;
    }
    /* what the fold is for: one conv computes the block */
    rv_tensor x = host4(2, spec->in_ch, 7, 6, "x"), tmp = {0}, y = {0}, yf = {0};
    int64_t out[4];
    rv_tensor_fill_uniform(&x, &s->rng, -1, 1);
    need(rv_block_out_shape(spec, &x, out), "shape the output");
    rv_tensor *o[3] = {&tmp, &y, &yf};
    for (int k = 0; k < 3; k++) need(rv_tensor_alloc(o[k], RV_CPU, 4, out, "y"), "allocate");
    rv_block_plan bp;
    need(rv_block_plan_build(&bp, &s->block, x.dim, NULL), "plan the block");
    need(rv_block_run(&s->block, &bp, NULL, &x, &tmp, &y), "run the block");
    rv_block_plan_free(&bp);
    rv_conv_params p = rv_block_conv_params(spec);
    p.relu = !spec->no_relu;
    need(rv_conv2d_ref(&x, w, bias, p, &yf), "run the fused conv");
    good = agree("the fused conv's output against the block's", &yf, &y, RV_TOL_FP32);
    rv_tensor *t[4] = {&x, &tmp, &y, &yf};
    free_all(t, 4);
    return good ? CASE_PASS : CASE_WRONG;
}

/* ---- exercise 6: the network switched ---------------------------------------------
 * p: blocks (1 or 6). SWITCH_ERROR: a net whose block 1 cannot be switched. */

static rv_block_spec repvgg(int64_t in, int64_t out, int stride, int groups)
{
    rv_block_spec s = {0}; /* in exercise 6 the course's rv_step_wants_identity answers */
    need(rv_repvgg_block_spec(in, out, stride, groups, &s), "make RepVGG's block");
    return s;
}

static void switch_setup(case_state *s)
{
    rv_block_spec specs[6] = {repvgg(3, 4, 2, 1), repvgg(4, 6, 2, 1), repvgg(6, 6, 1, 2),
                              repvgg(6, 8, 2, 1), repvgg(8, 8, 1, 1), repvgg(8, 8, 1, 4)};
    rv_block_spec err[3] = {repvgg(3, 4, 2, 1), repvgg(4, 4, 1, 1), repvgg(4, 4, 1, 1)};
    int error = s->c->family == SWITCH_ERROR;
    need(rv_net_init_random(&s->net, error ? err : specs, error ? 3 : s->c->p[0], 0, &s->rng,
                            RV_CPU),
         "build the net");
    s->have_net = 1;
    if (error) s->net.blocks[1].spec.groups = 3; /* 4 channels do not split into 3 groups */
}

static void switch_call(case_state *s)
{
    s->st[0] = rv_net_switch_to_fast(&s->net, &s->fast);
    s->have_fast = s->st[0] == RV_OK;
}

static void switch_want(case_state *s)
{ /* the reference's deploy-time net: its structure; the student's weights go in */
    if (s->c->family == SWITCH_ERROR) return;
    need(rv_net_switch_to_fast(&s->net, &s->fast), "switch the net");
    s->have_fast = 1;
}

static int switch_io(case_state *s, wire *w)
{
    wire_status(w, &s->st[0], s->msg[0]);
    if (s->st[0] == RV_OK && s->c->family == SWITCH) {
        for (int i = 0; i < s->fast.n_blocks; i++) {
            rv_block *b = &s->fast.blocks[i];
            if (!same_spec(s, w, &b->spec,
                           "a block of the switched net is not the deploy-time form of its "
                           "train-time block"))
                return 0;
            wire_output(w, &b->branch[0].w);
            wire_output(w, &b->branch[0].b);
        }
    }
    for (int i = 0; i < s->net.n_blocks; i++) {
        char whose[32];
        snprintf(whose, sizeof whose, "train->blocks[%d].", i);
        block_inputs(w, &s->net.blocks[i], whose);
    }
    return 1;
}

static int switch_check(case_state *s)
{
    int v = CASE_WRONG;
    if (s->c->family == SWITCH_ERROR) { /* an error from one block must come back */
        if (s->st[0] == RV_ENOTIMPL) return step_ok(s->st[0], s->msg[0], "", &v), v;
        if (s->st[0] == RV_EINVAL && strstr(s->msg[0], "groups")) return CASE_PASS;
        printf("    block 1 cannot be switched (its channels do not split into its groups), "
               "but the error did not come back: got \"%s\"\n",
               s->st[0] == RV_OK ? "RV_OK" : s->msg[0]);
        return CASE_WRONG;
    }
    if (!step_ok(s->st[0], s->msg[0], "rv_step_switch_net", &v)) return v;
    for (int i = 0; i < s->fast.n_blocks; i++) {
        const rv_branch *b = &s->fast.blocks[i].branch[0];
        if (!b->w.data || !b->b.data) {
            printf("    block %d of the switched net has no weights\n", i);
            return CASE_WRONG;
        }
    }
    rv_tensor x = host4(2, s->net.blocks[0].spec.in_ch, 16, 12, "x"), y = {0}, yf = {0};
    int64_t out[4];
    int rank;
    rv_tensor_fill_uniform(&x, &s->rng, -1, 1);
    need(rv_net_out_shape(&s->net, &x, out, &rank), "shape the output");
    need(rv_tensor_alloc(&y, RV_CPU, rank, out, "y"), "allocate");
    need(rv_tensor_alloc(&yf, RV_CPU, rank, out, "yf"), "allocate");
    need(rv_net_forward(&s->net, &x, &y), "run the train-time net");
    need(rv_net_forward(&s->fast, &x, &yf), "run the deploy-time net");
    int ok = agree("the switched net's output against the train-time net's", &yf, &y, RV_TOL_FP32);
    rv_tensor *t[3] = {&x, &y, &yf};
    free_all(t, 3);
    return ok ? CASE_PASS : CASE_WRONG;
}

/* ---- the families, the exercises, their cases and hints ---------------------------- */

static const struct {
    void (*setup)(case_state *), (*call)(case_state *), (*want)(case_state *);
    int (*io)(case_state *, wire *), (*check)(case_state *);
} family[] = {
    [SUM] = {sum_setup, sum_call, sum_want, sum_io, sum_check},
    [FUSE] = {fuse_setup, fuse_call, fuse_want, fuse_io, fuse_check},
    [PAD] = {pad_setup, pad_call, pad_want, pad_io, pad_check},
    [IDENTITY] = {identity_setup, identity_call, identity_want, identity_io, identity_check},
    [WANTS] = {wants_setup, wants_call, wants_want, wants_io, wants_check},
    [FOLD] = {fold_setup, fold_call, fold_want, fold_io, fold_check},
    [SWITCH] = {switch_setup, switch_call, switch_want, switch_io, switch_check},
    [SWITCH_ERROR] = {switch_setup, switch_call, switch_want, switch_io, switch_check},
};

const exercise exercises[N_EXERCISES] = {
    {"the sum of two convs (rv_step_sum_convs)", "01_sum_convs.c",
     "lesson 01 (build/bin/01_two_branch_sum) prints the rule: add the weights, add the biases"},
    {"conv + BN folded (rv_step_fuse_conv_bn)", "02_fuse_conv_bn.c",
     "lesson 02 (build/bin/02_conv_bn_fusion) prints the formula for s and t; it is the "
     "running mean and variance, with eps, that make the BN a fixed scale and shift"},
    {"a kernel centred in a larger one (rv_step_pad_kernel)", "03_pad_kernel.c",
     "lesson 03 (build/bin/03_pad_1x1_to_3x3) prints a padded kernel: the 1x1 tap sits at the "
     "centre, everything around it is zero"},
    {"the identity kernel (rv_step_identity_kernel)", "04_identity_kernel.c",
     "lesson 04 (build/bin/04_identity_as_conv) prints the notebook's kernel and says which "
     "input channel each output channel reads when there are groups"},
    {"a block folded into one conv (rv_step_fold_block, rv_step_wants_identity)", "05_fold_block.c",
     "lesson 05 (build/bin/05_repvgg_block) prints W and b; every branch goes through "
     "rv_branch_kernel, its BN, rv_pad_kernel and rv_sum_convs"},
    {"the network switched block by block (rv_step_switch_net)", "06_switch_net.c",
     "lesson 06 (build/bin/06_network_switch) switches a whole RepVGG: one "
     "rv_block_switch_to_fast per block, every block"},
};

/* One line per case, `{.ex = N, .name = "..."` first: CMakeLists.txt reads the
 * names from here for the test's failure messages. */
/* clang-format off */
static const grade_case cases[] = {
    {.ex = 1, .name = "weights summed, biases zero", .family = SUM, .p = {1, 0, 6, 4, 3}, .seed = 11},
    {.ex = 1, .name = "biases summed too", .family = SUM, .p = {0, 0, 6, 4, 3}, .seed = 12},
    {.ex = 1, .name = "summed in place into w1 and b1", .family = SUM, .p = {0, 1, 5, 3, 3}, .seed = 13},
    {.ex = 1, .name = "summed in place into w2 and b2", .family = SUM, .p = {0, 2, 5, 3, 3}, .seed = 14},
    {.ex = 1, .name = "1x1 kernels", .family = SUM, .p = {0, 0, 7, 2, 1}, .seed = 15},
    {.ex = 2, .name = "a conv without bias, the notebook's", .family = FUSE, .p = {0, 0, 0}, .seed = 21},
    {.ex = 2, .name = "a conv with its own bias", .family = FUSE, .p = {1, 0, 0}, .seed = 22},
    {.ex = 2, .name = "variances near zero: eps matters", .family = FUSE, .p = {1, 1, 0}, .seed = 23},
    {.ex = 2, .name = "in place: w_out = w, b_out = b", .family = FUSE, .p = {1, 0, 1}, .seed = 24},
    {.ex = 3, .name = "1x1 into 3x3", .family = PAD, .p = {5, 3, 1, 1, 3, 3}, .seed = 31},
    {.ex = 3, .name = "1x3 into 3x3, ACNet's", .family = PAD, .p = {4, 2, 1, 3, 3, 3}, .seed = 32},
    {.ex = 3, .name = "3x1 into 3x3, ACNet's", .family = PAD, .p = {4, 2, 3, 1, 3, 3}, .seed = 33},
    {.ex = 3, .name = "3x3 into 5x5", .family = PAD, .p = {3, 2, 3, 3, 5, 5}, .seed = 34},
    {.ex = 3, .name = "3x3 into 3x3: a copy", .family = PAD, .p = {2, 3, 3, 3, 3, 3}, .seed = 35},
    {.ex = 4, .name = "one group", .family = IDENTITY, .p = {4, 1, 3, 3}, .seed = 41},
    {.ex = 4, .name = "two groups", .family = IDENTITY, .p = {6, 2, 3, 3}, .seed = 42},
    {.ex = 4, .name = "one channel per group, depthwise", .family = IDENTITY, .p = {5, 5, 3, 3}, .seed = 43},
    {.ex = 4, .name = "1x5 kernels in two groups", .family = IDENTITY, .p = {4, 2, 1, 5}, .seed = 44},
    {.ex = 4, .name = "5x3 kernels", .family = IDENTITY, .p = {3, 1, 5, 3}, .seed = 45},
    {.ex = 5, .name = "the identity rule", .family = WANTS, .seed = 50},
    {.ex = 5, .name = "RepVGG block, 3 branches", .family = FOLD, .p = {FOLD_REPVGG, 6, 6, 1, 1}, .seed = 51},
    {.ex = 5, .name = "RepVGG block at stride 2, 2 branches", .family = FOLD, .p = {FOLD_REPVGG, 6, 6, 2, 1}, .seed = 52},
    {.ex = 5, .name = "RepVGG block in 2 groups", .family = FOLD, .p = {FOLD_REPVGG, 8, 8, 1, 2}, .seed = 53},
    {.ex = 5, .name = "ACNet block: 3x3, 1x3 and 3x1", .family = FOLD, .p = {FOLD_ACNET, 5, 5, 1, 1}, .seed = 54},
    {.ex = 5, .name = "QARepVGG block: a BN after the sum", .family = FOLD, .p = {FOLD_QAREPVGG, 6, 6, 1, 1}, .seed = 55},
    {.ex = 5, .name = "convs with their own bias", .family = FOLD, .p = {FOLD_BIASES, 4, 6, 1, 1}, .seed = 56},
    {.ex = 6, .name = "a net of one block", .family = SWITCH, .p = {1}, .seed = 61},
    {.ex = 6, .name = "a net of six blocks", .family = SWITCH, .p = {6}, .seed = 62},
    {.ex = 6, .name = "an error from one block comes back", .family = SWITCH_ERROR, .seed = 63},
};
/* clang-format on */

const grade_case *exercise_cases(int n, int *count)
{
    const grade_case *first = NULL;
    *count = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (cases[i].ex == n) {
            if (!first) first = &cases[i];
            ++*count;
        }
    return first;
}

void case_setup(case_state *s, const grade_case *c)
{
    *s = (case_state){.c = c, .rng = rv_rng_seed(c->seed)};
    family[c->family].setup(s);
}

void case_call(case_state *s) { family[s->c->family].call(s); }
void case_want(case_state *s) { family[s->c->family].want(s); }
int case_io(case_state *s, wire *w) { return family[s->c->family].io(s, w); }
int case_check(case_state *s) { return family[s->c->family].check(s); }

void case_free(case_state *s)
{
    for (int i = 0; i < 8; i++) rv_tensor_free(&s->t[i]);
    if (s->bn.channels) rv_bn_free(&s->bn);
    if (s->have_block) rv_block_free(&s->block);
    if (s->have_fast) rv_net_free(&s->fast);
    if (s->have_net) {
        if (s->c->family == SWITCH_ERROR) s->net.blocks[1].spec.groups = 1;
        rv_net_free(&s->net);
    }
}
