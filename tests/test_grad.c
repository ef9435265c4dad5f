/* test_grad.c - the backward ops (rv_grad.h) against finite differences and
 * the naive reference.
 *
 *   test_grad [--device cpu]      the checks below; exit 0 pass, 1 fail
 *   test_grad --dump DIR          the same, and every op's inputs and
 *                                 gradients written into DIR as .npy for
 *                                 tests/torch/check_grads.py (PyTorch's autograd)
 *
 * Each gradient g of a loss L is checked element by element against the
 * central difference (L(t + h) - L(t - h)) / (2 h) of L computed in double,
 * with L = sum dy * y for an op y (dy random), or the loss itself for
 * softmax cross-entropy. The fast conv backward is also checked against the
 * reference under the project's float32 tolerance. Shapes are odd (C = 3,
 * H = W = 7, kernels 5x3, stride 2, groups 2, depthwise, batch > 1), and
 * BN's inputs sit on a mean of 3, so a one-pass variance would show.
 */
#include <math.h>
#include <string.h>

#include "rv_grad.h"
#include "rv_npy.h"
#include "rv_test.h"

/* Central differences of float32 forwards with h = 1e-2 (the float rounding
 * of L, over 2 h, and h^2 terms for BN): the largest error observed is
 * 7.5e-5 (conv_5x3_g2's dw, of values up to 1.3) and the largest relative
 * L2 error 1.5e-5 (BN's dx); this tolerance leaves more than 10 times that.
 * A wrong term of a gradient (a lost term of BN's dx, a tap off by one) is
 * off by 1e-2 or more. */
#define TOL_FD ((rv_tol){.atol = 1e-3, .rtol = 1e-3, .max_rel_l2 = 2e-4})
#define FD_H 1e-2f

static const char *dump_dir; /* --dump DIR, or NULL */

static void save(const char *name, const rv_tensor *t)
{
    if (!dump_dir) return;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.npy", dump_dir, name);
    CHECK_OK(rv_npy_write(path, t));
}

static void save_f(const char *name, const float *v, int64_t n)
{
    rv_tensor t = rv_tensor_view((float *)v, RV_CPU, 1, (const int64_t[]){n});
    save(name, &t);
}

/* A loss of the op's inputs, in double: ctx holds them. */
typedef double (*loss_fn)(void *ctx);

/* g := dL/dt by central differences, element by element (t perturbed in
 * place and restored; the step actually taken, after rounding to float). */
static void finite_diff(loss_fn L, void *ctx, rv_tensor *t, rv_tensor *g)
{
    for (int64_t i = 0; i < rv_tensor_numel(t); i++) {
        float v = t->data[i], up = v + FD_H, down = v - FD_H;
        t->data[i] = up;
        double lu = L(ctx);
        t->data[i] = down;
        double ld = L(ctx);
        t->data[i] = v;
        g->data[i] = (float)((lu - ld) / ((double)up - (double)down));
    }
}

static void check_fd(const char *what, loss_fn L, void *ctx, rv_tensor *t, const rv_tensor *grad)
{
    rv_tensor g;
    CHECK_OK(rv_tensor_alloc(&g, RV_CPU, t->ndim, t->dim, "finite differences"));
    finite_diff(L, ctx, t, &g);
    char label[192];
    snprintf(label, sizeof label, "%s vs finite differences", what);
    CHECK(rv_expect_close(stdout, label, grad, &g, TOL_FD), "%s", label);
    rv_tensor_free(&g);
}

static double dot(const rv_tensor *a, const rv_tensor *b)
{
    double s = 0.0;
    for (int64_t i = 0; i < rv_tensor_numel(a); i++) s += (double)a->data[i] * b->data[i];
    return s;
}

static rv_tensor rand4(rv_rng *r, int64_t n, int64_t c, int64_t h, int64_t w, float lo, float hi)
{
    rv_tensor t;
    CHECK_OK(rv_tensor_random(&t, RV_CPU, 4, (const int64_t[]){n, c, h, w}, r, lo, hi, "input"));
    return t;
}

static rv_tensor rand_n(rv_rng *r, int ndim, const int64_t *dim, float lo, float hi)
{
    rv_tensor t;
    CHECK_OK(rv_tensor_random(&t, RV_CPU, ndim, dim, r, lo, hi, "input"));
    return t;
}

static rv_tensor like(const rv_tensor *t)
{
    rv_tensor u;
    CHECK_OK(rv_tensor_alloc(&u, RV_CPU, t->ndim, t->dim, "gradient"));
    CHECK_OK(rv_test_fill_nan(&u)); /* an element left unwritten fails */
    return u;
}

static void free_all(rv_tensor *t, int n)
{
    for (int i = 0; i < n; i++) rv_tensor_free(&t[i]);
}

/* --- conv2d ------------------------------------------------------------------ */

typedef struct {
    const char *name;
    int64_t n, c, o, h, w, kh, kw;
    rv_conv_params p;
} conv_case;

static const conv_case conv_cases[] = {
    {.name = "conv_3x3_s2",
     .n = 2,
     .c = 3,
     .o = 5,
     .h = 7,
     .w = 7,
     .kh = 3,
     .kw = 3,
     .p = {.stride = 2, .pad_h = 1, .pad_w = 0, .groups = 1}},
    {.name = "conv_5x3_g2",
     .n = 3,
     .c = 4,
     .o = 6,
     .h = 7,
     .w = 6,
     .kh = 5,
     .kw = 3,
     .p = {.stride = 1, .pad_h = 2, .pad_w = 1, .groups = 2}},
    {.name = "conv_3x3_s2_g2",
     .n = 2,
     .c = 6,
     .o = 4,
     .h = 7,
     .w = 7,
     .kh = 3,
     .kw = 3,
     .p = {.stride = 2, .pad_h = 1, .pad_w = 1, .groups = 2}},
    {.name = "conv_depthwise_s2",
     .n = 2,
     .c = 3,
     .o = 3,
     .h = 7,
     .w = 7,
     .kh = 3,
     .kw = 3,
     .p = {.stride = 2, .pad_h = 1, .pad_w = 1, .groups = 3}},
    {.name = "conv_1x1",
     .n = 2,
     .c = 3,
     .o = 4,
     .h = 7,
     .w = 7,
     .kh = 1,
     .kw = 1,
     .p = {.stride = 1, .groups = 1}},
};

typedef struct {
    rv_tensor *x, *w, *b, *dy, *y;
    rv_conv_params p;
} conv_ctx;

static double conv_loss(void *ctx)
{
    conv_ctx *c = ctx;
    CHECK_OK(rv_conv2d_ref(c->x, c->w, c->b, c->p, c->y));
    return dot(c->dy, c->y);
}

static void test_conv(const conv_case *k, rv_rng *r)
{
    int64_t out[4];
    rv_tensor t[11] = {0};
    rv_tensor *x = &t[0], *w = &t[1], *b = &t[2], *dy = &t[3], *y = &t[4];
    *x = rand4(r, k->n, k->c, k->h, k->w, -1, 1);
    *w = rand4(r, k->o, k->c / k->p.groups, k->kh, k->kw, -1, 1);
    *b = rand_n(r, 1, (const int64_t[]){k->o}, -1, 1);
    CHECK_OK(rv_conv2d_shape(x, w, b, k->p, out));
    *dy = rand_n(r, 4, out, -1, 1);
    *y = like(dy);
    rv_tensor *dx = &t[5], *dw = &t[6], *db = &t[7], *rdx = &t[8], *rdw = &t[9], *rdb = &t[10];
    *dx = like(x), *dw = like(w), *db = like(b), *rdx = like(x), *rdw = like(w), *rdb = like(b);
    CHECK_OK(rv_conv2d_backward_ref(x, w, dy, k->p, rdx, rdw, rdb));
    CHECK_OK(rv_conv2d_backward(x, w, dy, k->p, dx, dw, db));
    char what[160];
    conv_ctx ctx = {.x = x, .w = w, .b = b, .dy = dy, .y = y, .p = k->p};
    const char *names[3] = {"dx", "dw", "db"};
    rv_tensor *wrt[3] = {x, w, b}, *fast[3] = {dx, dw, db}, *ref[3] = {rdx, rdw, rdb};
    for (int i = 0; i < 3; i++) {
        snprintf(what, sizeof what, "%s %s reference", k->name, names[i]);
        check_fd(what, conv_loss, &ctx, wrt[i], ref[i]);
        snprintf(what, sizeof what, "%s %s im2col + OpenBLAS vs reference", k->name, names[i]);
        CHECK_CLOSE(what, fast[i], ref[i], RV_TOL_FP32);
    }
    /* only what is asked for: dx alone */
    rv_tensor dx2 = like(x);
    CHECK_OK(rv_conv2d_backward(x, w, dy, k->p, &dx2, NULL, NULL));
    snprintf(what, sizeof what, "%s dx alone", k->name);
    CHECK_CLOSE(what, &dx2, dx, RV_TOL_EXACT);
    rv_tensor_free(&dx2);
    const char *dumped[10] = {"x", "w", "b", "dy", NULL, "dx", "dw", "db", "dx_ref", "dw_ref"};
    for (int i = 0; i < 10; i++) {
        if (!dumped[i]) continue;
        snprintf(what, sizeof what, "%s_%s", k->name, dumped[i]);
        save(what, &t[i]);
    }
    const float params[4] = {(float)k->p.stride, (float)k->p.pad_h, (float)k->p.pad_w,
                             (float)k->p.groups};
    snprintf(what, sizeof what, "%s_params", k->name);
    save_f(what, params, 4);
    free_all(t, 11);
}

static void test_conv_errors(rv_rng *r)
{
    rv_tensor x = rand4(r, 2, 3, 7, 7, -1, 1), w = rand4(r, 4, 3, 3, 3, -1, 1);
    rv_tensor dy = rand4(r, 2, 4, 5, 4, -1, 1), dx = like(&x);
    rv_conv_params p = {.stride = 1, .groups = 1};
    CHECK(rv_conv2d_backward(&x, &w, &dy, p, &dx, NULL, NULL) == RV_EINVAL,
          "conv backward: dy of the wrong shape accepted");
    p.relu = 1;
    rv_tensor_free(&dy);
    dy = rand4(r, 2, 4, 5, 5, -1, 1);
    CHECK(rv_conv2d_backward(&x, &w, &dy, p, &dx, NULL, NULL) == RV_EINVAL,
          "conv backward: a fused ReLU accepted");
    rv_tensor ts[4] = {x, w, dy, dx};
    free_all(ts, 4);
}

/* --- batch norm in training mode -------------------------------------------------- */

typedef struct {
    rv_tensor *x, *dy, *y, *mean, *invstd;
    rv_bn *bn;
} bn_ctx;

static double bn_loss(void *ctx)
{
    bn_ctx *c = ctx;
    CHECK_OK(rv_bn_train_forward(c->x, c->bn, RV_BN_MOMENTUM, c->y, c->mean, c->invstd));
    return dot(c->dy, c->y);
}

static void test_bn(rv_rng *r)
{
    enum { N = 4, C = 3, H = 7, W = 7 };
    rv_bn bn;
    CHECK_OK(rv_bn_alloc(&bn, C));
    CHECK_OK(rv_bn_randomize(&bn, r));
    rv_tensor t[9] = {0};
    rv_tensor *x = &t[0], *dy = &t[1], *y = &t[2], *dx = &t[3];
    rv_tensor *mean = &t[4], *invstd = &t[5], *dg = &t[6], *dbeta = &t[7];
    *x = rand4(r, N, C, H, W, 2, 4); /* mean 3 */
    *dy = rand4(r, N, C, H, W, -1, 1);
    *y = like(x), *dx = like(x), *mean = like(&bn.gamma), *invstd = like(&bn.gamma);
    *dg = like(&bn.gamma), *dbeta = like(&bn.gamma);
    save("bn_x", x);
    save("bn_dy", dy);
    save("bn_gamma", &bn.gamma);
    save("bn_beta", &bn.beta);
    save("bn_running_mean0", &bn.mean);
    save("bn_running_var0", &bn.var);
    /* the running statistics from their definitions, in double */
    double m = N * H * W, want_mean[C], want_var[C];
    for (int c = 0; c < C; c++) {
        double s = 0, s2 = 0;
        for (int n = 0; n < N; n++)
            for (int i = 0; i < H * W; i++) s += x->data[(n * C + c) * H * W + i];
        double mu = s / m;
        for (int n = 0; n < N; n++)
            for (int i = 0; i < H * W; i++) {
                double d = x->data[(n * C + c) * H * W + i] - mu;
                s2 += d * d;
            }
        want_mean[c] = 0.9 * bn.mean.data[c] + 0.1 * mu;
        want_var[c] = 0.9 * bn.var.data[c] + 0.1 * s2 / (m - 1);
    }
    CHECK_OK(rv_bn_train_forward(x, &bn, RV_BN_MOMENTUM, y, mean, invstd));
    for (int c = 0; c < C; c++) {
        double em = fabs(bn.mean.data[c] - want_mean[c]), ev = fabs(bn.var.data[c] - want_var[c]);
        CHECK(em < 1e-6 && ev < 1e-6, "running statistics of channel %d: %g %g, want %g %g", c,
              bn.mean.data[c], bn.var.data[c], want_mean[c], want_var[c]);
    }
    printf("bn running mean and (unbiased) variance after one step: %s\n",
           rv_test_failures ? "see above" : "ok");
    save("bn_y", y);
    save("bn_running_mean1", &bn.mean);
    save("bn_running_var1", &bn.var);
    CHECK_OK(rv_bn_train_backward(x, dy, &bn, mean, invstd, dx, dg, dbeta));
    save("bn_dx", dx);
    save("bn_dgamma", dg);
    save("bn_dbeta", dbeta);
    bn_ctx ctx = {.x = x, .dy = dy, .y = y, .mean = mean, .invstd = invstd, .bn = &bn};
    check_fd("bn dx", bn_loss, &ctx, x, dx);
    check_fd("bn dgamma", bn_loss, &ctx, &bn.gamma, dg);
    check_fd("bn dbeta", bn_loss, &ctx, &bn.beta, dbeta);
    rv_tensor one = rand4(r, 1, C, 1, 1, -1, 1), one_y = like(&one);
    CHECK(rv_bn_train_forward(&one, &bn, RV_BN_MOMENTUM, &one_y, mean, invstd) == RV_EINVAL,
          "bn training on one value a channel accepted");
    rv_tensor_free(&one);
    rv_tensor_free(&one_y);
    free_all(t, 9);
    rv_bn_free(&bn);
}

/* --- ReLU, global average pooling, linear, the sum of branches -------------------- */

typedef struct {
    rv_tensor *x, *w, *b, *dy, *y;
    int op; /* 0 relu, 1 global average pool, 2 linear */
} simple_ctx;

static double simple_loss(void *ctx)
{
    simple_ctx *c = ctx;
    if (c->op == 0) CHECK_OK(rv_relu(c->x, c->y));
    if (c->op == 1) CHECK_OK(rv_global_avgpool(c->x, c->y));
    if (c->op == 2) CHECK_OK(rv_linear(c->x, c->w, c->b, c->y));
    return dot(c->dy, c->y);
}

static void test_relu(rv_rng *r)
{
    rv_tensor x = rand4(r, 2, 3, 7, 7, -1, 1), dy = rand4(r, 2, 3, 7, 7, -1, 1);
    /* away from the kink, which a central difference would straddle */
    for (int64_t i = 0; i < rv_tensor_numel(&x); i++) x.data[i] += x.data[i] < 0 ? -0.05f : 0.05f;
    rv_tensor y = like(&x), dx = like(&x);
    CHECK_OK(rv_relu(&x, &y));
    CHECK_OK(rv_relu_backward(&y, &dy, &dx));
    simple_ctx ctx = {.x = &x, .dy = &dy, .y = &y, .op = 0};
    check_fd("relu dx", simple_loss, &ctx, &x, &dx);
    /* exact zeros, where PyTorch's gradient is 0 (check_grads.py), and in place */
    for (int64_t i = 0; i < rv_tensor_numel(&x); i += 17) x.data[i] = 0.0f;
    CHECK_OK(rv_relu(&x, &y));
    CHECK_OK(rv_relu_backward(&y, &dy, &dx));
    save("relu_x", &x);
    save("relu_dy", &dy);
    save("relu_dx", &dx);
    CHECK_OK(rv_relu_backward(&y, &dy, &dy));
    CHECK_CLOSE("relu dx in place", &dy, &dx, RV_TOL_EXACT);
    rv_tensor ts[4] = {x, dy, y, dx};
    free_all(ts, 4);
}

static void test_gap(rv_rng *r)
{
    rv_tensor x = rand4(r, 2, 3, 7, 7, -1, 1), dy = rand_n(r, 2, (const int64_t[]){2, 3}, -1, 1);
    rv_tensor y = like(&dy), dx = like(&x);
    CHECK_OK(rv_global_avgpool_backward(&dy, &dx));
    simple_ctx ctx = {.x = &x, .dy = &dy, .y = &y, .op = 1};
    check_fd("global average pool dx", simple_loss, &ctx, &x, &dx);
    save("gap_x", &x);
    save("gap_dy", &dy);
    save("gap_dx", &dx);
    rv_tensor ts[4] = {x, dy, y, dx};
    free_all(ts, 4);
}

static void test_linear(rv_rng *r)
{
    enum { N = 3, K = 7, M = 5 };
    rv_tensor x = rand_n(r, 2, (const int64_t[]){N, K}, -1, 1);
    rv_tensor w = rand_n(r, 2, (const int64_t[]){M, K}, -1, 1);
    rv_tensor b = rand_n(r, 1, (const int64_t[]){M}, -1, 1);
    rv_tensor dy = rand_n(r, 2, (const int64_t[]){N, M}, -1, 1);
    rv_tensor y = like(&dy), dx = like(&x), dw = like(&w), db = like(&b);
    CHECK_OK(rv_linear_backward(&x, &w, &dy, &dx, &dw, &db));
    simple_ctx ctx = {.x = &x, .w = &w, .b = &b, .dy = &dy, .y = &y, .op = 2};
    check_fd("linear dx", simple_loss, &ctx, &x, &dx);
    check_fd("linear dw", simple_loss, &ctx, &w, &dw);
    check_fd("linear db", simple_loss, &ctx, &b, &db);
    const char *names[7] = {"linear_x",  "linear_w",  "linear_b", "linear_dy",
                            "linear_dx", "linear_dw", "linear_db"};
    rv_tensor ts[8] = {x, w, b, dy, dx, dw, db, y};
    for (int i = 0; i < 7; i++) save(names[i], &ts[i]);
    free_all(ts, 8);
}

/* y = conv3x3(x) + conv1x1(x) + x, RepVGG's block before its ReLU: each branch
 * gets dy, and dx = dx_3x3 + dx_1x1 + dy (rv_add). */
static void test_branches(rv_rng *r)
{
    rv_tensor x = rand4(r, 2, 3, 7, 7, -1, 1), w3 = rand4(r, 3, 3, 3, 3, -1, 1);
    rv_tensor w1 = rand4(r, 3, 3, 1, 1, -1, 1), dy = rand4(r, 2, 3, 7, 7, -1, 1);
    rv_tensor dx = like(&x), d1 = like(&x);
    CHECK_OK(rv_conv2d_backward(&x, &w3, &dy,
                                (rv_conv_params){.stride = 1, .pad_h = 1, .pad_w = 1, .groups = 1},
                                &dx, NULL, NULL));
    CHECK_OK(rv_conv2d_backward(&x, &w1, &dy, (rv_conv_params){.stride = 1, .groups = 1}, &d1, NULL,
                                NULL));
    CHECK_OK(rv_add(&dx, &d1, &dx));
    CHECK_OK(rv_add(&dx, &dy, &dx));
    save("branches_x", &x);
    save("branches_w3", &w3);
    save("branches_w1", &w1);
    save("branches_dy", &dy);
    save("branches_dx", &dx);
    rv_tensor ts[6] = {x, w3, w1, dy, dx, d1};
    free_all(ts, 6);
}

/* --- softmax cross-entropy --------------------------------------------------------- */

typedef struct {
    rv_tensor *z;
    const int32_t *labels;
} xent_ctx;

static double xent_loss(void *ctx)
{
    xent_ctx *c = ctx;
    double loss = 0.0;
    CHECK_OK(rv_softmax_xent(c->z, c->labels, &loss, NULL));
    return loss;
}

static void test_xent(rv_rng *r)
{
    enum { N = 4, M = 10 };
    const int32_t labels[N] = {3, 0, 9, 3};
    rv_tensor z = rand_n(r, 2, (const int64_t[]){N, M}, -3, 3), dz = like(&z);
    z.data[2 * M + 4] = 80.0f; /* exp(80) overflows float32: the shift by the maximum must work */
    double loss = 0.0;
    CHECK_OK(rv_softmax_xent(&z, labels, &loss, &dz));
    /* the loss from its definition, row 2 by hand: its log-sum-exp is 80 to 1e-30 */
    double want = 0.0;
    for (int n = 0; n < N; n++) {
        double s = 0.0;
        for (int j = 0; j < M; j++) s += n == 2 ? 0.0 : exp(z.data[n * M + j]);
        want += (n == 2 ? 80.0 : log(s)) - z.data[n * M + labels[n]];
    }
    want /= N;
    printf("softmax cross-entropy: loss %.9f, from the definition %.9f -> %s\n", loss, want,
           fabs(loss - want) < 1e-9 * fabs(want) ? "ok" : "FAIL");
    CHECK(fabs(loss - want) < 1e-9 * fabs(want), "loss %.12g vs %.12g", loss, want);
    xent_ctx ctx = {.z = &z, .labels = labels};
    check_fd("softmax cross-entropy dz", xent_loss, &ctx, &z, &dz);
    const int32_t bad[N] = {3, 0, 10, 3};
    CHECK(rv_softmax_xent(&z, bad, &loss, &dz) == RV_EINVAL, "label 10 of 10 classes accepted");
    const float flabels[N] = {3, 0, 9, 3}, floss[1] = {(float)loss};
    save("xent_z", &z);
    save_f("xent_labels", flabels, N);
    save_f("xent_loss", floss, 1);
    save("xent_dz", &dz);
    rv_tensor_free(&z);
    rv_tensor_free(&dz);
}

int main(int argc, char **argv)
{
    const char *device = "cpu";
    rv_opt opts[] = {{"device", RV_OPT_STR, &device, "cpu (the backward ops run on the CPU only)"},
                     {"dump", RV_OPT_STR, &dump_dir,
                      "also write the tensors tests/torch/check_grads.py reads (.npy) into DIR"}};
    int rc = rv_parse_args(argc, argv, "test_grad [--device cpu] [--dump DIR]: the backward ops",
                           opts, 2);
    if (rc >= 0) return rc;
    if (strcmp(device, "cpu") != 0) {
        fprintf(stderr, "test_grad: --device %s: the backward ops run on the CPU only\n", device);
        return 2;
    }
    rv_rng rng = rv_rng_seed(34);
    for (size_t i = 0; i < sizeof conv_cases / sizeof conv_cases[0]; i++)
        test_conv(&conv_cases[i], &rng);
    test_conv_errors(&rng);
    test_bn(&rng);
    test_relu(&rng);
    test_gap(&rng);
    test_linear(&rng);
    test_branches(&rng);
    test_xent(&rng);
    return rv_test_finish("test_grad");
}
