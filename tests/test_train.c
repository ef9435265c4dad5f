/* test_train.c - the training plan (rv_train.h): its gradients against
 * finite differences, its memory, its repeatability.
 *
 *   test_train [--device cpu]     the checks below; exit 0 pass, 1 fail
 *   test_train --dump DIR         writes, for a RepVGG, a QARepVGG and a plain
 *                                 VGG network, the weights, the batch, the labels,
 *                                 the running statistics before and after one
 *                                 step, the loss and every gradient into DIR as
 *                                 .npy, for tests/torch/check_train_net.py
 *
 * Finite differences: on a tiny network of every kind of block (RepVGG's
 * with and without its identity, QARepVGG's with its post-sum BN, the
 * plain VGG block, a conv with bias and no BN, stride 2), every parameter
 * tensor t is moved along its own gradient g, and the derivative of the
 * loss (in double, of the training-mode forward) there, from central
 * differences, must be |g| (the tolerance is explained below).
 * Memory: building allocates exactly what the plan says it holds; a step
 * (forward + backward) allocates nothing, not even the library's shared
 * workspace; freeing gives it all back. Repeatability: a second step on the
 * same batch gives the same loss and gradients, bit for bit (the running
 * statistics, which a training forward does not read, have moved).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rv_alloc.h"
#include "rv_npy.h"
#include "rv_test.h"
#include "rv_train.h"

typedef enum { FAMILY_REPVGG, FAMILY_QAREPVGG, FAMILY_VGG } family;
static const char *const family_name[] = {"repvgg", "qarepvgg", "vgg"};

/* The small network of the PyTorch check: widths 8, 8, 16, 16, depths 1, 2,
 * 2, 1, the first stage at stride 1 (a 16x16 image is small), the others'
 * first block at stride 2: 16x16 -> 16, 8, 4, 2. */
static rv_status family_spec(family f, int64_t in, int64_t out, int stride, rv_block_spec *s)
{
    if (f == FAMILY_REPVGG) return rv_repvgg_block_spec(in, out, stride, 1, s);
    if (f == FAMILY_QAREPVGG) return rv_qarepvgg_block_spec(in, out, stride, 1, s);
    *s = rv_vgg_block_spec(in, out, stride, 1);
    return RV_OK;
}

static rv_status small_net(family f, rv_rng *r, rv_net *net)
{
    const int64_t widths[4] = {8, 8, 16, 16};
    const int depths[4] = {1, 2, 2, 1};
    rv_block_spec specs[6];
    int n = 0;
    int64_t in = 1;
    for (int s = 0; s < 4; s++)
        for (int d = 0; d < depths[s]; d++) {
            rv_status st = family_spec(f, in, widths[s], d == 0 && s > 0 ? 2 : 1, &specs[n++]);
            if (st != RV_OK) return st;
            in = widths[s];
        }
    return rv_net_init_random(net, specs, n, 10, r, RV_CPU);
}

/* A batch of n images uniform in [-1, 1] and labels in [0, classes). */
static void batch(rv_rng *r, const int64_t in[4], int64_t classes, rv_tensor *x, int32_t *labels)
{
    CHECK_OK(rv_tensor_random(x, RV_CPU, 4, in, r, -1, 1, "batch"));
    for (int64_t n = 0; n < in[0]; n++) labels[n] = (int32_t)rv_rng_int(r, 0, (int)classes - 1);
}

static rv_train_param *params_of(rv_train_plan *p, rv_net *net)
{
    rv_train_param *ps = calloc((size_t)p->n_params, sizeof *ps);
    CHECK(ps != NULL, "cannot hold the parameter list");
    if (ps) CHECK_OK(rv_train_params(p, net, ps));
    return ps;
}

/* --- finite differences -------------------------------------------------------- */

typedef struct {
    rv_train_plan *plan;
    rv_net *net;
    const rv_tensor *x;
    const int32_t *labels;
} fd_ctx;

static double loss_of(const fd_ctx *c)
{
    double loss = 0.0;
    CHECK_OK(rv_train_forward(c->plan, c->net, c->x, c->labels, &loss));
    return loss;
}

/* The derivative of the loss along the unit direction u of parameter t:
 * central differences at steps h and 2 h, extrapolated (Richardson:
 * (4 D(h) - D(2 h)) / 3 cancels the h^2 term); t restored. */
static double directional(const fd_ctx *c, rv_tensor *t, const float *keep, const double *u,
                          double h)
{
    int64_t n = rv_tensor_numel(t);
    double d[2];
    for (int k = 0; k < 2; k++) {
        double step = h * (k + 1), l[2];
        for (int s = 0; s < 2; s++) {
            for (int64_t i = 0; i < n; i++)
                t->data[i] = (float)(keep[i] + (s ? -step : step) * u[i]);
            l[s] = loss_of(c);
        }
        d[k] = (l[0] - l[1]) / (2.0 * step);
    }
    memcpy(t->data, keep, (size_t)n * sizeof *keep);
    return (4.0 * d[0] - d[1]) / 3.0;
}

/* The tiny network: RepVGG without and with its identity, QARepVGG, the
 * plain block at stride 2, a conv with bias and no BN; 3 images of 1x6x6,
 * 5 classes. check_train_net.py checks it against PyTorch too. */
static rv_status tiny_net(rv_rng *r, rv_net *net)
{
    rv_block_spec s[5];
    rv_status st = rv_repvgg_block_spec(1, 4, 1, 1, &s[0]);
    if (st == RV_OK) st = rv_repvgg_block_spec(4, 4, 1, 1, &s[1]);
    if (st == RV_OK) st = rv_qarepvgg_block_spec(4, 4, 1, 1, &s[2]);
    s[3] = rv_vgg_block_spec(4, 6, 2, 1);
    s[4] = rv_fused_block_spec(&(rv_block_spec){.in_ch = 6,
                                                .out_ch = 6,
                                                .stride = 1,
                                                .groups = 1,
                                                .kh = 3,
                                                .kw = 3,
                                                .pad_h = 1,
                                                .pad_w = 1});
    return st == RV_OK ? rv_net_init_random(net, s, 5, 5, r, RV_CPU) : st;
}

/* Each parameter tensor t is moved along its own gradient, u = g / |g|:
 * the derivative there is |g|. The step makes the loss move by 3e-5,
 * (h = 3e-5 / |g|): the loss of a float32 forward is rounded at about 1e-7,
 * so the differences carry about 1 % of noise, and the first blocks'
 * gradients (|g| ~ 1e-3) can be checked no closer: the largest relative error
 * observed is 3.5e-2 (blocks.1.branches.0.bn.weight, |g| = 1.6e-3), 3.1e-2
 * next; smaller steps give more noise, larger ones more curvature. PyTorch's
 * autograd, not these, is the precise check (check_train_net.py: 1e-6 on
 * this net). A mistake in the chain rule is far larger: with the identity
 * branch's dx dropped, 14 checks fail, by relative errors of 0.8 to 1.2.
 * Gradients that are zero in real arithmetic (a BN's beta before another BN;
 * a 1x1 conv of one channel before its BN, which undoes its scale but for
 * eps) are checked to be so: the derivative along a random unit direction
 * is then within noise of 0. */
#define FD_REL 5e-2
#define FD_LOSS_STEP 3e-5
#define FD_ZERO 1e-5 /* a gradient norm below this is "zero" */

static void test_finite_differences(rv_rng *r)
{
    rv_net net;
    CHECK_OK(tiny_net(r, &net));
    const int64_t in[4] = {3, 1, 6, 6};
    rv_tensor x;
    int32_t labels[3];
    batch(r, in, 5, &x, labels);
    rv_train_plan p;
    CHECK_OK(rv_train_plan_build(&p, &net, in));
    rv_train_param *ps = params_of(&p, &net);
    double loss = 0.0;
    CHECK_OK(rv_train_forward(&p, &net, &x, labels, &loss));
    CHECK_OK(rv_train_backward(&p));
    fd_ctx c = {.plan = &p, .net = &net, .x = &x, .labels = labels};
    int kinds[4] = {0}, zeros = 0;
    double worst = 0.0;
    /* the finite differences' forwards overwrite the gradients: each is read first */
    for (int i = 0; i < p.n_params; i++) {
        rv_tensor *t = ps[i].param;
        int64_t n = rv_tensor_numel(t);
        float *keep = malloc((size_t)n * sizeof *keep);
        double *u = malloc((size_t)n * sizeof *u), norm = 0.0;
        memcpy(keep, t->data, (size_t)n * sizeof *keep);
        for (int64_t j = 0; j < n; j++) norm += (double)ps[i].grad->data[j] * ps[i].grad->data[j];
        norm = sqrt(norm);
        int zero = norm < FD_ZERO;
        double rn = 0.0;
        for (int64_t j = 0; j < n; j++) {
            u[j] =
                zero ? (rv_rng_uniform(r, 0, 1) < 0.5f ? -1.0 : 1.0) : ps[i].grad->data[j] / norm;
            rn += u[j] * u[j];
        }
        for (int64_t j = 0; zero && j < n; j++) u[j] /= sqrt(rn);
        double h = zero ? 1e-2 : FD_LOSS_STEP / norm;
        double fd = directional(&c, t, keep, u, h > 0.5 ? 0.5 : h);
        if (zero) {
            zeros++;
            CHECK(fabs(fd) <= 1e-4,
                  "%s: gradient |g| = %.3g (zero), finite differences along a "
                  "random direction %.3g",
                  ps[i].name, norm, fd);
        } else {
            double err = fabs(fd - norm) / norm;
            worst = err > worst ? err : worst;
            CHECK(err <= FD_REL,
                  "%s: |g| = %.9g, finite differences along g %.9g (relative "
                  "error %.3g)",
                  ps[i].name, norm, fd, err);
        }
        kinds[ps[i].kind]++;
        free(keep);
        free(u);
    }
    printf("finite differences: %d parameter tensors (%d weights, %d BN, %d biases; %d with "
           "gradient 0), largest relative error %.3g (allowed %.3g)\n",
           p.n_params, kinds[RV_PARAM_WEIGHT], kinds[RV_PARAM_BN], kinds[RV_PARAM_BIAS], zeros,
           worst, FD_REL);
    /* every parameter the net has, each listed once */
    CHECK(kinds[RV_PARAM_WEIGHT] > 0 && kinds[RV_PARAM_BIAS] >= 2 && kinds[RV_PARAM_BN] > 0,
          "the list misses a kind of parameter");
    int64_t listed = 0;
    for (int i = 0; i < p.n_params; i++) listed += rv_tensor_numel(ps[i].param);
    CHECK(listed == rv_net_params(&net), "%lld parameters listed, the net has %lld",
          (long long)listed, (long long)rv_net_params(&net));
    free(ps);
    rv_train_plan_free(&p);
    rv_tensor_free(&x);
    rv_net_free(&net);
}

/* --- memory and repeatability ------------------------------------------------------ */

static void test_step(family f, rv_rng *r)
{
    const char *name = family_name[f];
    rv_net net;
    CHECK_OK(small_net(f, r, &net));
    const int64_t in[4] = {4, 1, 16, 16};
    rv_tensor x;
    int32_t labels[4];
    batch(r, in, 10, &x, labels);
    size_t live = rv_mem(RV_CPU).current;
    rv_train_plan p;
    CHECK_OK(rv_train_plan_build(&p, &net, in));
    CHECK(rv_mem(RV_CPU).current - live == rv_train_plan_bytes(&p),
          "%s: building allocated %zu bytes, the plan says it holds %zu", name,
          rv_mem(RV_CPU).current - live, rv_train_plan_bytes(&p));
    rv_train_param *ps = params_of(&p, &net);
    CHECK(rv_train_backward(&p) == RV_EINVAL, "%s: a backward with no forward accepted", name);
    rv_workspace_release(RV_CPU);
    size_t ready = rv_mem(RV_CPU).current;
    rv_mem_reset_peak(RV_CPU);
    double loss[2] = {0};
    CHECK_OK(rv_train_forward(&p, &net, &x, labels, &loss[0]));
    CHECK_OK(rv_train_backward(&p));
    CHECK(rv_mem(RV_CPU).current == ready && rv_mem(RV_CPU).peak == ready,
          "%s: a step allocated memory: live %zu -> %zu, peak %zu", name, ready,
          rv_mem(RV_CPU).current, rv_mem(RV_CPU).peak);
    printf("%s: plan of %zu bytes, %d parameter tensors, loss %.6f; a step allocated nothing\n",
           name, rv_train_plan_bytes(&p), p.n_params, loss[0]);
    rv_tensor *g = calloc((size_t)p.n_params, sizeof *g);
    for (int i = 0; i < p.n_params; i++)
        CHECK_OK(rv_tensor_clone(&g[i], ps[i].grad, RV_CPU, "gradient"));
    CHECK_OK(rv_train_forward(&p, &net, &x, labels, &loss[1]));
    CHECK_OK(rv_train_backward(&p));
    CHECK(loss[0] == loss[1], "%s: the same step twice: loss %.17g, then %.17g", name, loss[0],
          loss[1]);
    for (int i = 0; i < p.n_params; i++) {
        char what[128];
        snprintf(what, sizeof what, "%s %s: the second step's gradient", name, ps[i].name);
        CHECK(rv_compare(ps[i].grad->data, g[i].data, rv_tensor_numel(&g[i]), RV_TOL_EXACT).pass,
              "%s differs", what);
        rv_tensor_free(&g[i]);
    }
    free(g);
    rv_tensor wrong;
    CHECK_OK(rv_tensor_alloc4(&wrong, RV_CPU, 5, 1, 16, 16, "batch of another size"));
    CHECK(rv_train_forward(&p, &net, &wrong, labels, &loss[0]) == RV_EINVAL,
          "%s: a batch of another shape accepted", name);
    rv_tensor_free(&wrong);
    int32_t bad[4] = {0, 1, 10, 2};
    CHECK(rv_train_forward(&p, &net, &x, bad, &loss[0]) == RV_EINVAL,
          "%s: label 10 of 10 classes accepted", name);
    free(ps);
    rv_train_plan_free(&p);
    CHECK(rv_mem(RV_CPU).current == live, "%s: the plan left %zu bytes behind", name,
          rv_mem(RV_CPU).current - live);
    rv_tensor_free(&x);
    rv_net_free(&net);
}

/* A net the plan cannot train is refused, naming why. */
static void test_refused(rv_rng *r)
{
    rv_net net;
    rv_block_spec s = rv_dbb_block_spec(2, 2, 1, 1);
    CHECK_OK(rv_net_init_random(&net, &s, 1, 3, r, RV_CPU));
    rv_train_plan p;
    CHECK(rv_train_plan_build(&p, &net, (const int64_t[]){2, 2, 5, 5}) == RV_EINVAL &&
              strstr(rv_last_error(), "branch") != NULL,
          "a DBB block (1x1-then-kxk branches) accepted: %s", rv_last_error());
    rv_net_free(&net);
    s = rv_vgg_block_spec(2, 2, 1, 1);
    CHECK_OK(rv_net_init_random(&net, &s, 1, 0, r, RV_CPU));
    CHECK(rv_train_plan_build(&p, &net, (const int64_t[]){2, 2, 5, 5}) == RV_EINVAL,
          "a net without a head accepted");
    rv_net_free(&net);
}

/* --- the dump for check_train_net.py ---------------------------------------------------- */

static rv_status save(const char *dir, const char *fam, const char *name, const rv_tensor *t)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.%s.npy", dir, fam, name);
    return rv_npy_write(path, t);
}

/* Every BN of the net's running statistics, suffixed (before, after). */
static rv_status save_running(const char *dir, const char *fam, const rv_net *net, const char *when)
{
    rv_status st = RV_OK;
    char name[160];
    for (int i = 0; i < net->n_blocks && st == RV_OK; i++) {
        const rv_block *b = &net->blocks[i];
        for (int k = 0; k <= b->spec.n_branches && st == RV_OK; k++) {
            int post = k == b->spec.n_branches;
            if (post ? !b->spec.post_bn : !b->spec.branch[k].bn) continue;
            const rv_bn *bn = post ? &b->post : &b->branch[k].bn;
            char at[64];
            if (post)
                snprintf(at, sizeof at, "blocks.%d.post_bn", i);
            else
                snprintf(at, sizeof at, "blocks.%d.branches.%d.bn", i, k);
            snprintf(name, sizeof name, "%s.running_mean.%s", at, when);
            st = save(dir, fam, name, &bn->mean);
            snprintf(name, sizeof name, "%s.running_var.%s", at, when);
            if (st == RV_OK) st = save(dir, fam, name, &bn->var);
        }
    }
    return st;
}

/* One row per branch: block, kind (1 conv, 2 identity), kh, kw, pad_h, pad_w,
 * bn, bias, the block's stride, groups, post-sum BN, in and out channels. */
static rv_status save_spec(const char *dir, const char *fam, const rv_net *net)
{
    enum { COLS = 13 };
    int rows = 0;
    for (int i = 0; i < net->n_blocks; i++) rows += net->blocks[i].spec.n_branches;
    float *v = calloc((size_t)rows * COLS, sizeof *v);
    if (!v) return rv_error(RV_ENOMEM, "dump: cannot hold the spec table");
    float *row = v;
    for (int i = 0; i < net->n_blocks; i++) {
        const rv_block_spec *s = &net->blocks[i].spec;
        for (int k = 0; k < s->n_branches; k++, row += COLS) {
            const rv_branch_spec *b = &s->branch[k];
            const float r[COLS] = {i,          b->kind,  b->kh,    b->kw,     b->pad_h,
                                   b->pad_w,   b->bn,    b->bias,  s->stride, s->groups,
                                   s->post_bn, s->in_ch, s->out_ch};
            memcpy(row, r, sizeof r);
        }
    }
    rv_tensor t = rv_tensor_view(v, RV_CPU, 2, (const int64_t[]){rows, COLS});
    rv_status st = save(dir, fam, "spec", &t);
    free(v);
    return st;
}

/* One step of net on a batch of shape in, everything written as "fam.NAME.npy". */
static rv_status dump_net(const char *dir, const char *fam, rv_net *net, const int64_t in[4],
                          rv_rng *r)
{
    rv_tensor x;
    int32_t labels[4];
    batch(r, in, net->head_w.dim[0], &x, labels);
    rv_status st;
    rv_train_plan p;
    st = rv_train_plan_build(&p, net, in);
    rv_train_param *ps = st == RV_OK ? params_of(&p, net) : NULL;
    if (st == RV_OK) st = save(dir, fam, "x", &x);
    float flabels[4];
    for (int n = 0; n < in[0]; n++) flabels[n] = (float)labels[n];
    rv_tensor tl = rv_tensor_view(flabels, RV_CPU, 1, (const int64_t[]){in[0]});
    if (st == RV_OK) st = save(dir, fam, "labels", &tl);
    if (st == RV_OK) st = save_spec(dir, fam, net);
    for (int i = 0; ps && i < p.n_params && st == RV_OK; i++)
        st = save(dir, fam, ps[i].name, ps[i].param);
    if (st == RV_OK) st = save_running(dir, fam, net, "before");
    double loss = 0.0;
    if (st == RV_OK) st = rv_train_forward(&p, net, &x, labels, &loss);
    if (st == RV_OK) st = rv_train_backward(&p);
    if (st == RV_OK) st = save_running(dir, fam, net, "after");
    float floss = (float)loss;
    rv_tensor tloss = rv_tensor_view(&floss, RV_CPU, 1, (const int64_t[]){1});
    if (st == RV_OK) st = save(dir, fam, "loss", &tloss);
    char name[96];
    for (int i = 0; ps && i < p.n_params && st == RV_OK; i++) {
        snprintf(name, sizeof name, "grad.%s", ps[i].name);
        st = save(dir, fam, name, ps[i].grad);
    }
    free(ps);
    rv_train_plan_free(&p);
    rv_tensor_free(&x);
    return st;
}

static rv_status dump(const char *dir, rv_device dev)
{
    (void)dev;
    rv_rng r = rv_rng_seed(3434);
    rv_status st = RV_OK;
    rv_net net;
    for (int f = 0; f < 3 && st == RV_OK; f++) {
        st = small_net((family)f, &r, &net);
        if (st == RV_OK)
            st = dump_net(dir, family_name[f], &net, (const int64_t[]){4, 1, 16, 16}, &r);
        rv_net_free(&net);
    }
    /* the finite differences' tiny net of every kind of block */
    if (st == RV_OK) st = tiny_net(&r, &net);
    if (st == RV_OK) st = dump_net(dir, "mixed", &net, (const int64_t[]){3, 1, 6, 6}, &r);
    rv_net_free(&net);
    return st;
}

int main(int argc, char **argv)
{
    int rc = rv_test_init_dump_cpu(
        argc, argv, "test_train [--device cpu] [--dump DIR]: the training plan", "training", dump);
    if (rc >= 0) return rc;
    rv_rng r = rv_rng_seed(34);
    test_finite_differences(&r);
    for (int f = 0; f < 3; f++) test_step((family)f, &r);
    test_refused(&r);
    return rv_test_finish("test_train");
}
