/* test_branches.c - the branch algebra: any list of branches folds into one
 * conv that computes what the branches summed compute.
 *
 * Each case builds a block of seeded random weights and BN statistics, runs
 * the multi-branch forward and the folded conv on the same input, and holds
 * them to RV_TOL_FP32: RepVGG's blocks (stride 1 and 2, groups), ACNet's
 * (3x3 + 1x3 + 3x1), DBB-like lists (1x1-then-3x3 with the BN-shift border,
 * average pool), QARepVGG's (no BN on the 1x1 and identity, a BN after the
 * sum), MobileOne's depthwise and pointwise halves, a 5x5 target, convs with
 * their own bias; odd sizes, batch > 1; and, for each, that its branches as
 * convs with their BN folded in (rv_branch_kernel_fused) sum to the folded
 * conv. Then what the spec check refuses, and
 * the 1x1-then-3x3 and 1x1-then-average branches padded with zeros, which
 * fold wrongly along the border and only there.
 * With --dump DIR it runs nothing of that and writes, as .npy files into DIR,
 * blocks of every family in its table (ACNet's, DBB's) of seeded random
 * parameters: every branch's weights and BN statistics, the input, both
 * forms' outputs and the folded kernel, with a list of the blocks (cases.txt)
 * that tests/torch/check_family.py reads to rebuild each block in PyTorch.
 */
#include <string.h>

#include "rv_block.h"
#include "rv_file.h"
#include "rv_npy.h"
#include "rv_reparam.h"
#include "rv_test.h"

#define CONV(k_h, k_w, p_h, p_w)                                                                   \
    {                                                                                              \
        .kind = RV_BRANCH_CONV, .kh = k_h, .kw = k_w, .pad_h = p_h, .pad_w = p_w, .bn = 1          \
    }

typedef struct {
    const char *name;
    rv_block_spec spec;
    int n, size;
} branch_case;

static branch_case cases[32];
static int n_cases;

/* RepVGG's block, whose spec comes from a step */
static rv_block_spec repvgg(int64_t in, int64_t out, int stride, int groups)
{
    rv_block_spec s = {0};
    CHECK_OK(rv_repvgg_block_spec(in, out, stride, groups, &s));
    return s;
}

static void add(const char *name, rv_block_spec spec, int n, int size)
{
    cases[n_cases++] = (branch_case){.name = name, .spec = spec, .n = n, .size = size};
}

/* The lists the course teaches, each as a block spec. */
static void make_cases(void)
{
    add("RepVGG 8->8 s1", repvgg(8, 8, 1, 1), 2, 7);
    add("RepVGG 8->8 s2 (no identity)", repvgg(8, 8, 2, 1), 2, 9);
    add("RepVGG 3->16 s2", repvgg(3, 16, 2, 1), 1, 15);
    add("RepVGG 8->8 s1 g2", repvgg(8, 8, 1, 2), 3, 5);
    add("RepVGG 16->16 s1 g4", repvgg(16, 16, 1, 4), 2, 6);
    add("RepVGG 8->16 s1 g4", repvgg(8, 16, 1, 4), 2, 7);
    add("ACNet 8->8 s1", rv_acnet_block_spec(8, 8, 1, 1), 2, 7);
    add("ACNet 6->12 s2 g2", rv_acnet_block_spec(6, 12, 2, 2), 2, 9);
    add("ACNet 5->5 s1", rv_acnet_block_spec(5, 5, 1, 1), 1, 11);
    rv_branch_spec one_k = {
        .kind = RV_BRANCH_1X1_KXK, .kh = 3, .kw = 3, .pad_h = 1, .pad_w = 1, .bn = 1, .mid_ch = 6};
    rv_branch_spec pool = {
        .kind = RV_BRANCH_AVGPOOL, .kh = 3, .kw = 3, .pad_h = 1, .pad_w = 1, .bn = 1};
    rv_branch_spec id = {.kind = RV_BRANCH_IDENTITY, .bn = 1};
    const rv_branch_spec dbb[4] = {CONV(3, 3, 1, 1), CONV(1, 1, 0, 0), one_k, pool};
    add("DBB-like 8->8 s1", rv_block_spec_list(8, 8, 1, 1, 3, 4, dbb), 2, 7);
    add("DBB-like 8->8 s2", rv_block_spec_list(8, 8, 2, 1, 3, 4, dbb), 2, 9);
    add("DBB-like 8->8 s1 g2", rv_block_spec_list(8, 8, 1, 2, 3, 4, dbb), 1, 6);
    add("DBB 8->8 s1", rv_dbb_block_spec(8, 8, 1, 1), 2, 7);
    add("DBB 6->10 s2 g2", rv_dbb_block_spec(6, 10, 2, 2), 2, 9);
    add("DBB depthwise 6 s1", rv_dbb_block_spec(6, 6, 1, 6), 2, 7);
    add("DBB depthwise 6 s2", rv_dbb_block_spec(6, 6, 2, 6), 1, 8);
    rv_block_spec qa = repvgg(8, 8, 1, 1);
    qa.branch[1].bn = 0;
    qa.branch[2].bn = 0;
    qa.post_bn = 1;
    add("QARepVGG 8->8 s1", qa, 2, 7);
    const rv_branch_spec dw[5] = {CONV(3, 3, 1, 1), CONV(3, 3, 1, 1), CONV(3, 3, 1, 1),
                                  CONV(1, 1, 0, 0), id};
    add("MobileOne depthwise k=3", rv_block_spec_list(6, 6, 1, 6, 3, 5, dw), 2, 7);
    add("MobileOne depthwise k=3 s2 (no identity)", rv_block_spec_list(6, 6, 2, 6, 3, 4, dw), 1, 9);
    const rv_branch_spec pw[3] = {CONV(1, 1, 0, 0), CONV(1, 1, 0, 0), id};
    add("MobileOne pointwise k=2", rv_block_spec_list(6, 6, 1, 1, 1, 3, pw), 2, 5);
    const rv_branch_spec five[3] = {CONV(5, 5, 2, 2), CONV(3, 3, 1, 1), CONV(1, 1, 0, 0)};
    add("5x5 + 3x3 + 1x1, s2 g2", rv_block_spec_list(4, 6, 2, 2, 5, 3, five), 2, 11);
    const rv_branch_spec own_bias[2] = {
        {.kind = RV_BRANCH_CONV, .kh = 3, .kw = 3, .pad_h = 1, .pad_w = 1, .bias = 1},
        {.kind = RV_BRANCH_CONV, .kh = 1, .kw = 3, .pad_h = 0, .pad_w = 1, .bias = 1, .bn = 1}};
    rv_block_spec biased = rv_block_spec_list(5, 7, 1, 1, 3, 2, own_bias);
    biased.no_relu = 1;
    add("convs with their own bias, no ReLU", biased, 2, 6);
}

typedef struct {
    rv_block_pair p;
    rv_tensor y, yf; /* host copies */
} built;

static int build(built *b, const branch_case *c, rv_device dev, uint64_t seed)
{
    memset(b, 0, sizeof *b);
    if (rv_block_pair_build(&b->p, c->spec, dev, c->n, c->size, seed) != RV_OK ||
        rv_block_pair_train(&b->p) != RV_OK || rv_block_pair_fast(&b->p) != RV_OK ||
        rv_tensor_clone(&b->y, &b->p.y, RV_CPU, "y") != RV_OK ||
        rv_tensor_clone(&b->yf, &b->p.yf, RV_CPU, "yf") != RV_OK) {
        CHECK(0, "%s: %s", c->name, rv_last_error());
        return 0;
    }
    return 1;
}

static void unbuild(built *b)
{
    rv_block_pair_free(&b->p);
    rv_tensor_free(&b->y);
    rv_tensor_free(&b->yf);
}

/* Each branch as a conv with its BN folded in (rv_branch_kernel_fused),
 * centred, summed, the BN after the sum folded in once: the folded conv that
 * rv_block_switch_to_fast made. */
static void test_contributions(const built *b, const char *name)
{
    const rv_block *t = &b->p.train;
    rv_tensor w = {0}, bias = {0}, fw = {0}, fb = {0};
    CHECK_OK(rv_tensor_clone(&fw, &b->p.fast.branch[0].w, RV_CPU, "folded kernel"));
    CHECK_OK(rv_tensor_clone(&fb, &b->p.fast.branch[0].b, RV_CPU, "folded bias"));
    CHECK_OK(rv_tensor_alloc(&w, RV_CPU, 4, fw.dim, "summed kernel"));
    CHECK_OK(rv_tensor_alloc(&bias, RV_CPU, 1, fb.dim, "summed bias"));
    CHECK_OK(rv_tensor_fill(&w, 0.0f));
    CHECK_OK(rv_tensor_fill(&bias, 0.0f));
    for (int i = 0; i < t->spec.n_branches; i++) {
        rv_tensor wi = {0}, bi = {0}, wp = {0};
        CHECK_OK(rv_branch_kernel_fused(t, i, &wi, &bi));
        CHECK_OK(rv_tensor_alloc(&wp, RV_CPU, 4, fw.dim, "centred kernel"));
        CHECK_OK(rv_pad_kernel(&wi, &wp));
        CHECK_OK(rv_sum_convs(&w, &bias, &wp, &bi, &w, &bias));
        rv_tensor *each[3] = {&wi, &bi, &wp};
        for (int k = 0; k < 3; k++) rv_tensor_free(each[k]);
    }
    if (t->spec.post_bn) CHECK_OK(rv_fuse_conv_bn(&w, &bias, &t->post, &w, &bias));
    char what[160];
    snprintf(what, sizeof what, "%s, its branches' BN-folded kernels summed vs the folded kernel",
             name);
    CHECK_CLOSE(what, &w, &fw, RV_TOL_FP32);
    snprintf(what, sizeof what, "%s, their biases summed vs the folded bias", name);
    CHECK_CLOSE(what, &bias, &fb, RV_TOL_FP32);
    rv_tensor *all[4] = {&w, &bias, &fw, &fb};
    for (int k = 0; k < 4; k++) rv_tensor_free(all[k]);
}

/* The train-time form again, on a workspace of exactly the size its plan
 * asks for (rv_block_plan_workspace_bytes), the one a network's plan
 * allocates: the same output, bit for bit (the same code on the same data). */
static void test_exact_workspace(built *b, const char *name)
{
    const rv_block_plan *bp = &b->p.plan[0];
    size_t bytes = rv_block_plan_workspace_bytes(bp, &b->p.train);
    rv_tensor ws = {0}, y = {0}, hy = {0};
    if (bytes)
        CHECK_OK(
            rv_tensor_alloc1(&ws, b->p.x.device, (int64_t)(bytes / sizeof(float)), "workspace"));
    CHECK_OK(rv_tensor_alloc(&y, b->p.x.device, 4, b->p.y.dim, "y"));
    CHECK_OK(rv_block_run(&b->p.train, bp, bytes ? &ws : NULL, &b->p.x, &b->p.tmp, &y));
    CHECK_OK(rv_tensor_clone(&hy, &y, RV_CPU, "y"));
    char what[160];
    snprintf(what, sizeof what, "%s, on a workspace of exactly %zu bytes vs the shared one", name,
             bytes);
    CHECK_CLOSE(what, &hy, &b->y, RV_TOL_EXACT);
    rv_tensor *all[3] = {&ws, &y, &hy};
    for (int k = 0; k < 3; k++) rv_tensor_free(all[k]);
}

static void test_cases(rv_device dev)
{
    for (int i = 0; i < n_cases; i++) {
        built b;
        if (build(&b, &cases[i], dev, 100 + (uint64_t)i)) {
            char what[128];
            snprintf(what, sizeof what, "%s, %d branches, folded vs summed", cases[i].name,
                     cases[i].spec.n_branches);
            CHECK_CLOSE(what, &b.yf, &b.y, RV_TOL_FP32);
            CHECK(rv_block_is_fused(&b.p.fast.spec), "%s: the folded block is not one conv",
                  cases[i].name);
            test_contributions(&b, cases[i].name);
            test_exact_workspace(&b, cases[i].name);
        }
        unbuild(&b);
    }
}

/* The 1x1-then-3x3 (or 1x1-then-average) branch with its middle padded with
 * zeros: the fold assumes the BN's shift there, so the two differ on the
 * output's border ring and agree inside it. */
static void test_zero_border(rv_device dev, rv_branch_kind kind, const char *name)
{
    const rv_branch_spec zero = {
        .kind = kind, .kh = 3, .kw = 3, .pad_h = 1, .pad_w = 1, .bn = 1, .zero_border = 1};
    rv_block_spec s = rv_block_spec_list(4, 4, 1, 1, 3, 1, &zero);
    branch_case c = {.name = name, .spec = s, .n = 2, .size = 8};
    built b;
    if (build(&b, &c, dev, 7)) {
        int64_t N = b.y.dim[0] * b.y.dim[1], H = b.y.dim[2], W = b.y.dim[3];
        double worst_in = 0, worst_edge = 0;
        for (int64_t k = 0; k < N; k++)
            for (int64_t h = 0; h < H; h++)
                for (int64_t w = 0; w < W; w++) {
                    double d = fabs(b.y.data[(k * H + h) * W + w] - b.yf.data[(k * H + h) * W + w]);
                    int edge = h == 0 || w == 0 || h == H - 1 || w == W - 1;
                    if (edge && d > worst_edge) worst_edge = d;
                    if (!edge && d > worst_in) worst_in = d;
                }
        printf("%s: worst |difference| inside %.3g, on the border ring %.3g\n", name, worst_in,
               worst_edge);
        CHECK(worst_in < 1e-5, "inside the border the fold should hold: %g", worst_in);
        CHECK(worst_edge > 1e-2, "on the border the zero padding should show: %g", worst_edge);
    }
    unbuild(&b);
}

/* What rv_block_check refuses, each with a message naming the problem: a
 * RepVGG block 4 -> 4 with one thing changed. */
static void test_refused(void)
{
    const char *why[] = {"1x3 padded 1x1 does not line up",
                         "identity at stride 2 (the notebook's bug)",
                         "identity with in != out",
                         "a kernel larger than the block's",
                         "a branch left zero",
                         "channels that do not split into groups",
                         "a 1x1-then-average whose middle is not the output"};
    const char *message[] = {"line up",      "stride 1", "in == out",         "does not fit",
                             "no such kind", "groups",   "keeps the channels"};
    for (int i = 0; i < 7; i++) {
        rv_block_spec s = repvgg(4, 4, 1, i == 5 ? 3 : 1);
        if (i == 0) s.branch[1] = (rv_branch_spec)CONV(1, 3, 1, 1);
        if (i == 1) s.stride = 2;
        if (i == 2) s.out_ch = 8;
        if (i == 3) s.branch[0] = (rv_branch_spec)CONV(5, 5, 2, 2);
        if (i == 4) s.branch[2] = (rv_branch_spec){0};
        if (i == 6)
            s.branch[1] =
                (rv_branch_spec){.kind = RV_BRANCH_1X1_AVG, .kh = 1, .kw = 1, .bn = 1, .mid_ch = 8};
        rv_status st = rv_block_check(&s);
        CHECK(st == RV_EINVAL && strstr(rv_last_error(), message[i]),
              "%s: accepted or unclear (%s)", why[i], rv_last_error());
        printf("refused, %s: %s\n", why[i], rv_last_error());
    }
}

/* ---- --dump: the blocks tests/torch/check_family.py rebuilds ---------------- */

/* The block families check_family.py rebuilds in PyTorch from their papers'
 * equations, one row each: the name its table (FAMILIES) knows the family by,
 * and the family's spec constructor. A new family is a row here, its cases
 * below and a row there. */
typedef struct {
    const char *name;
    rv_block_spec (*spec)(int64_t in_ch, int64_t out_ch, int stride, int groups);
} block_family;

static const block_family families[] = {
    {.name = "acnet", .spec = rv_acnet_block_spec},
    {.name = "dbb", .spec = rv_dbb_block_spec},
};
enum { N_FAMILIES = sizeof families / sizeof families[0] };

/* Odd sizes, batch > 1, stride 1 and 2, groups, DBB's depthwise form. No ReLU:
 * ACNet's and DBB's blocks end at the sum (the network's ReLU follows), and
 * every output value is then compared, none clipped to 0. */
typedef struct {
    const char *name, *family; /* family: a name in families[] */
    int64_t in, out;
    int stride, groups, n, size;
} family_case;

#define FAMILY(name_, family_, in_, out_, stride_, groups_, n_, size_)                             \
    {                                                                                              \
        .name = name_, .family = family_, .in = in_, .out = out_, .stride = stride_,               \
        .groups = groups_, .n = n_, .size = size_                                                  \
    }

/* name, family, in -> out channels, stride, groups, batch, size */
static const family_case family_cases[] = {
    FAMILY("acnet_s1", "acnet", 5, 7, 1, 1, 2, 9),
    FAMILY("acnet_s2_g2", "acnet", 6, 8, 2, 2, 3, 11),
    FAMILY("dbb_s1", "dbb", 6, 6, 1, 1, 2, 9),
    FAMILY("dbb_s2", "dbb", 5, 7, 2, 1, 2, 13),
    FAMILY("dbb_s2_g2", "dbb", 4, 8, 2, 2, 3, 10),
    FAMILY("dbb_depthwise_s1", "dbb", 6, 6, 1, 6, 2, 7),
    FAMILY("dbb_depthwise_s2", "dbb", 6, 6, 2, 6, 2, 9),
};

/* *spec = the case's block, without ReLU, from its family's row */
static rv_status family_spec(const family_case *c, rv_block_spec *spec)
{
    for (int f = 0; f < N_FAMILIES; f++)
        if (strcmp(c->family, families[f].name) == 0) {
            *spec = families[f].spec(c->in, c->out, c->stride, c->groups);
            spec->no_relu = 1;
            return RV_OK;
        }
    return rv_error(RV_EINVAL, "case %s: no block family \"%s\"", c->name, c->family);
}

/* DIR/<prefix>.<name>.npy = t, when t holds data */
static rv_status dump_tensor(const char *dir, const char *prefix, const char *name,
                             const rv_tensor *t)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.%s.npy", dir, prefix, name);
    return t->data ? rv_npy_write(path, t) : RV_OK;
}

/* <prefix>.gamma, .beta, .mean, .var of a BN, when the branch has it */
static rv_status dump_bn(const char *dir, const char *prefix, const rv_bn *bn)
{
    const rv_tensor *t[4] = {&bn->gamma, &bn->beta, &bn->mean, &bn->var};
    static const char *const what[4] = {"gamma", "beta", "mean", "var"};
    rv_status st = RV_OK;
    for (int k = 0; k < 4 && st == RV_OK && bn->channels; k++)
        st = dump_tensor(dir, prefix, what[k], t[k]);
    return st;
}

/* One block: x, y (multi-branch), yf (folded), w and b (the folded conv), and
 * per branch i: <i>.w, <i>.w1, <i>.bn.*, <i>.bn1.* (those it has). */
static rv_status dump_case(const char *dir, const family_case *c, const rv_block_spec *spec,
                           rv_device dev, uint64_t seed)
{
    rv_block_pair p;
    rv_status st = rv_block_pair_build(&p, *spec, dev, c->n, c->size, seed);
    if (st != RV_OK) return st;
    st = rv_block_pair_train(&p);
    if (st == RV_OK) st = rv_block_pair_fast(&p);
    const rv_tensor *t[5] = {&p.x, &p.y, &p.yf, &p.fast.branch[0].w, &p.fast.branch[0].b};
    static const char *const what[5] = {"x", "y", "yf", "w", "b"};
    for (int k = 0; k < 5 && st == RV_OK; k++) st = dump_tensor(dir, c->name, what[k], t[k]);
    for (int i = 0; i < spec->n_branches && st == RV_OK; i++) {
        const rv_branch *br = &p.train.branch[i];
        char prefix[128];
        snprintf(prefix, sizeof prefix, "%s.%d", c->name, i);
        st = dump_tensor(dir, prefix, "w", &br->w);
        if (st == RV_OK) st = dump_tensor(dir, prefix, "w1", &br->w1);
        snprintf(prefix, sizeof prefix, "%s.%d.bn", c->name, i);
        if (st == RV_OK) st = dump_bn(dir, prefix, &br->bn);
        snprintf(prefix, sizeof prefix, "%s.%d.bn1", c->name, i);
        if (st == RV_OK) st = dump_bn(dir, prefix, &br->bn1);
    }
    rv_block_pair_free(&p);
    return st;
}

/* Every block, then DIR/cases.txt naming them, one a line:
 * name family in out stride groups batch size branches kh kw pad_h pad_w
 * (the last four: the folded conv's kernel and padding). */
static rv_status dump(const char *dir, rv_device dev)
{
    enum { N = sizeof family_cases / sizeof family_cases[0] };
    char list[N * 160];
    size_t len = 0;
    rv_status st = RV_OK;
    for (int k = 0; k < N && st == RV_OK; k++) {
        const family_case *c = &family_cases[k];
        rv_block_spec s;
        st = family_spec(c, &s);
        if (st == RV_OK) st = dump_case(dir, c, &s, dev, 200 + (uint64_t)k);
        if (st == RV_OK)
            len += (size_t)snprintf(
                list + len, sizeof list - len, "%s %s %lld %lld %d %d %d %d %d %d %d %d %d\n",
                c->name, c->family, (long long)c->in, (long long)c->out, c->stride, c->groups, c->n,
                c->size, s.n_branches, s.kh, s.kw, s.pad_h, s.pad_w);
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/cases.txt", dir);
    rv_atomic_file af;
    if (st == RV_OK) st = rv_atomic_open(&af, path);
    if (st == RV_OK) st = rv_atomic_write(&af, list, len);
    if (st == RV_OK) st = rv_atomic_commit(&af);
    return st;
}

int main(int argc, char **argv)
{
    const char *usage = "test_branches --device cpu|cuda [--dump DIR]: any list of branches "
                        "folds into one conv";
    const char *device = "cpu", *dir = NULL;
    rv_opt opts[] = {{"device", RV_OPT_STR, &device, "cpu or cuda"},
                     {"dump", RV_OPT_STR, &dir,
                      "write ACNet and DBB blocks for the PyTorch check (.npy) into DIR"}};
    rv_device dev;
    int rc = rv_parse_args(argc, argv, usage, opts, 2);
    if (rc < 0) rc = rv_cli_device(argv[0], device, &dev);
    if (rc >= 0) return rc;
    if (dir) {
        rv_status st = dump(dir, dev);
        if (st != RV_OK) fprintf(stderr, "test_branches: --dump %s: %s\n", dir, rv_last_error());
        return st == RV_OK ? 0 : 1;
    }
    make_cases();
    test_cases(dev);
    test_zero_border(dev, RV_BRANCH_1X1_KXK, "1x1-then-3x3, zero border");
    test_zero_border(dev, RV_BRANCH_1X1_AVG, "1x1-then-average, zero border");
    test_refused();
    return rv_test_finish("test_branches");
}
