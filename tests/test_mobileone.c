/* test_mobileone.c - MobileOne's block (rv_mobileone.h) against its definition.
 *
 *   - the two parts' branch lists, as the paper builds them: the depthwise
 *     part C groups, k 3x3 conv-BN (padding 1), the 1x1 conv-BN scale branch,
 *     the identity BN at stride 1 only; the pointwise part one group, k 1x1
 *     conv-BN, the identity BN where in == out only;
 *   - both forms on seeded weights and BN statistics, odd sizes, batch > 1,
 *     stride 1 and 2, k = 1 to 4, in == out and not: the folded depthwise part
 *     against the multi-branch one on the same input, the folded block
 *     against the multi-branch block, held to RV_TOL_FP32; each folded part
 *     is one conv;
 *   - what is refused (k out of range), with a message that says why.
 * With --dump DIR it runs nothing of that and writes, as .npy files into DIR,
 * every case's input, the train-time parameters of every branch, the folded
 * convs and the outputs of both forms, and a list of the cases (cases.tsv):
 * tests/torch/check_mobileone.py builds the block in PyTorch from the
 * paper's equations and compares.
 */
#include <string.h>

#include "rv_file.h"
#include "rv_mobileone.h"
#include "rv_npy.h"
#include "rv_test.h"

typedef struct {
    const char *name;
    rv_mobileone m;
    int n, size;
} mo_case;

/* clang-format off */
static const mo_case cases[] = {
    {"6 -> 6, stride 1, k = 1", {.in_ch = 6, .out_ch = 6, .stride = 1, .k = 1}, 2, 9},
    {"8 -> 8, stride 1, k = 3", {.in_ch = 8, .out_ch = 8, .stride = 1, .k = 3}, 3, 7},
    {"4 -> 7, stride 1, k = 3 (no pointwise identity)",
     {.in_ch = 4, .out_ch = 7, .stride = 1, .k = 3}, 2, 15},
    {"6 -> 10, stride 2, k = 3 (no identity)", {.in_ch = 6, .out_ch = 10, .stride = 2, .k = 3}, 2, 11},
    {"5 -> 5, stride 2, k = 1 (no depthwise identity)",
     {.in_ch = 5, .out_ch = 5, .stride = 2, .k = 1}, 2, 13},
    {"16 -> 16, stride 1, k = 4, rows wider than a vector",
     {.in_ch = 16, .out_ch = 16, .stride = 1, .k = 4}, 2, 37},
};
/* clang-format on */
#define N_CASES ((int)(sizeof cases / sizeof cases[0]))

/* The paper's lists, branch by branch: kinds, kernels, padding, BN, groups. */
static void test_specs(void)
{
    for (int c = 0; c < N_CASES; c++) {
        rv_mobileone m = cases[c].m;
        rv_block_spec dw, pw;
        CHECK_OK(rv_mobileone_specs(m, &dw, &pw));
        int id_dw = m.stride == 1, id_pw = m.in_ch == m.out_ch;
        CHECK(dw.n_branches == m.k + 1 + id_dw && pw.n_branches == m.k + id_pw,
              "%s: %d and %d branches, expected %d and %d", cases[c].name, dw.n_branches,
              pw.n_branches, m.k + 1 + id_dw, m.k + id_pw);
        CHECK(dw.in_ch == m.in_ch && dw.out_ch == m.in_ch && dw.groups == m.in_ch &&
                  dw.stride == m.stride && dw.kh == 3 && dw.kw == 3 && dw.pad_h == 1 &&
                  dw.pad_w == 1 && !dw.post_bn && !dw.no_relu,
              "%s: the depthwise part is not C -> C in C groups, 3x3 padding 1, the stride, "
              "ReLU",
              cases[c].name);
        CHECK(pw.in_ch == m.in_ch && pw.out_ch == m.out_ch && pw.groups == 1 && pw.stride == 1 &&
                  pw.kh == 1 && pw.kw == 1 && pw.pad_h == 0 && pw.pad_w == 0 && !pw.post_bn &&
                  !pw.no_relu,
              "%s: the pointwise part is not C -> O, 1x1, one group, stride 1, ReLU",
              cases[c].name);
        for (int i = 0; i < dw.n_branches; i++) {
            const rv_branch_spec *b = &dw.branch[i];
            int want_k = i < m.k ? 3 : 1;
            rv_branch_kind want = i <= m.k ? RV_BRANCH_CONV : RV_BRANCH_IDENTITY;
            CHECK(b->kind == want && b->bn && !b->bias &&
                      (want == RV_BRANCH_IDENTITY ||
                       (b->kh == want_k && b->kw == want_k && b->pad_h == want_k / 2 &&
                        b->pad_w == want_k / 2)),
                  "%s: depthwise branch %d is not a %s", cases[c].name, i,
                  i < m.k    ? "3x3 conv-BN, padding 1"
                  : i == m.k ? "1x1 conv-BN (the scale branch)"
                             : "identity BN");
        }
        for (int i = 0; i < pw.n_branches; i++) {
            const rv_branch_spec *b = &pw.branch[i];
            rv_branch_kind want = i < m.k ? RV_BRANCH_CONV : RV_BRANCH_IDENTITY;
            CHECK(b->kind == want && b->bn && !b->bias &&
                      (want == RV_BRANCH_IDENTITY || (b->kh == 1 && b->kw == 1 && !b->pad_h)),
                  "%s: pointwise branch %d is not a %s", cases[c].name, i,
                  i < m.k ? "1x1 conv-BN" : "identity BN");
        }
        CHECK_OK(rv_block_check(&dw));
        CHECK_OK(rv_block_check(&pw));
    }
}

static void test_forms(rv_device dev)
{
    for (int c = 0; c < N_CASES; c++) {
        rv_mobileone_pair p;
        char what[160];
        if (rv_mobileone_pair_build(&p, cases[c].m, dev, cases[c].n, cases[c].size,
                                    100 + (uint64_t)c) != RV_OK) {
            CHECK(0, "%s: %s", cases[c].name, rv_last_error());
            continue;
        }
        CHECK_OK(rv_mobileone_pair_train(&p));
        CHECK_OK(rv_mobileone_pair_fast(&p));
        snprintf(what, sizeof what, "%s, %dx%lldx%dx%d: depthwise part folded vs multi-branch",
                 cases[c].name, cases[c].n, (long long)cases[c].m.in_ch, cases[c].size,
                 cases[c].size);
        CHECK_CLOSE(what, &p.midf, &p.mid, RV_TOL_FP32);
        snprintf(what, sizeof what, "%s: the block folded vs multi-branch", cases[c].name);
        CHECK_CLOSE(what, &p.yf, &p.y, RV_TOL_FP32);
        for (int i = 0; i < 2; i++)
            CHECK(rv_block_is_fused(&p.fast[i].spec), "%s: folded part %d is not one conv",
                  cases[c].name, i);
        rv_mobileone_pair_free(&p);
    }
}

static void test_refused(void)
{
    rv_block_spec dw, pw;
    for (int k = 0; k <= RV_MOBILEONE_MAX_K + 1; k += RV_MOBILEONE_MAX_K + 1) {
        rv_mobileone m = {.in_ch = 4, .out_ch = 4, .stride = 1, .k = k};
        CHECK(rv_mobileone_specs(m, &dw, &pw) == RV_EINVAL && strstr(rv_last_error(), "k = "),
              "k = %d accepted or unclear (%s)", k, rv_last_error());
        printf("refused, k = %d: %s\n", k, rv_last_error());
    }
    rv_mobileone m = {.in_ch = 4, .out_ch = 4, .stride = 1, .k = RV_MOBILEONE_MAX_K};
    CHECK_OK(rv_mobileone_specs(m, &dw, &pw)); /* the largest k fits */
}

/* ---- --dump: what tests/torch/check_mobileone.py compares with PyTorch ---- */
static rv_status write_npy(const char *dir, int c, const char *name, const rv_tensor *t)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/c%d_%s.npy", dir, c, name);
    return rv_npy_write(path, t);
}

/* Part `part` ("dw" or "pw") of case c: each branch's conv weight and BN
 * statistics (<part>_b<i>_w, _gamma, _beta, _mean, _var), then the folded
 * conv (<part>_fused_w, _fused_b). */
static rv_status dump_part(const char *dir, int c, const char *part, const rv_block *train,
                           const rv_block *fast)
{
    rv_status st = RV_OK;
    char name[64];
    for (int i = 0; i < train->spec.n_branches && st == RV_OK; i++) {
        const rv_branch *b = &train->branch[i];
        const rv_tensor *t[5] = {&b->w, &b->bn.gamma, &b->bn.beta, &b->bn.mean, &b->bn.var};
        static const char *const what[5] = {"w", "gamma", "beta", "mean", "var"};
        for (int k = 0; k < 5 && st == RV_OK; k++) {
            if (!t[k]->data) continue; /* the identity has no weight */
            snprintf(name, sizeof name, "%s_b%d_%s", part, i, what[k]);
            st = write_npy(dir, c, name, t[k]);
        }
    }
    snprintf(name, sizeof name, "%s_fused_w", part);
    if (st == RV_OK) st = write_npy(dir, c, name, &fast->branch[0].w);
    snprintf(name, sizeof name, "%s_fused_b", part);
    if (st == RV_OK) st = write_npy(dir, c, name, &fast->branch[0].b);
    return st;
}

static rv_status dump(const char *dir, rv_device dev)
{
    char list[4096] = "name\tin_ch\tout_ch\tstride\tk\tbatch\tsize\n";
    rv_status st = RV_OK;
    for (int c = 0; c < N_CASES && st == RV_OK; c++) {
        const mo_case *mc = &cases[c];
        rv_mobileone_pair p;
        st = rv_mobileone_pair_build(&p, mc->m, dev, mc->n, mc->size, 100 + (uint64_t)c);
        if (st != RV_OK) break;
        st = rv_mobileone_pair_train(&p);
        if (st == RV_OK) st = rv_mobileone_pair_fast(&p);
        const rv_tensor *t[5] = {&p.x, &p.mid, &p.y, &p.midf, &p.yf};
        static const char *const what[5] = {"x", "mid", "y", "midf", "yf"};
        for (int k = 0; k < 5 && st == RV_OK; k++) st = write_npy(dir, c, what[k], t[k]);
        if (st == RV_OK) st = dump_part(dir, c, "dw", &p.train[0], &p.fast[0]);
        if (st == RV_OK) st = dump_part(dir, c, "pw", &p.train[1], &p.fast[1]);
        rv_mobileone_pair_free(&p);
        size_t len = strlen(list);
        snprintf(list + len, sizeof list - len, "%s\t%lld\t%lld\t%d\t%d\t%d\t%d\n", mc->name,
                 (long long)mc->m.in_ch, (long long)mc->m.out_ch, mc->m.stride, mc->m.k, mc->n,
                 mc->size);
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/cases.tsv", dir);
    rv_atomic_file af;
    if (st == RV_OK) st = rv_atomic_open(&af, path);
    if (st == RV_OK) st = rv_atomic_write(&af, list, strlen(list));
    if (st == RV_OK) st = rv_atomic_commit(&af);
    return st;
}

int main(int argc, char **argv)
{
    const char *usage = "test_mobileone --device cpu|cuda [--dump DIR]: MobileOne's block, "
                        "multi-branch and folded";
    rv_device dev;
    int rc = rv_test_init_dump(argc, argv, usage, &dev, dump);
    if (rc >= 0) return rc;
    test_specs();
    test_forms(dev);
    test_refused();
    return rv_test_finish("test_mobileone");
}
