/* test_optim.c - the SGD update (rv_sgd.h) and the learning-rate schedule (rv_schedule.h).
 *
 *   test_optim [--device cpu]    the checks below; exit 0 pass, 1 fail
 *   test_optim --dump DIR        writes what tests/torch/check_optim.py
 *                                compares with torch.optim: 10 SGD steps on
 *                                four parameters (.npy) and three schedules
 *                                (text, one lr a line, 17 digits)
 *
 * SGD: two steps of one number worked out by hand, from the formula of
 * rv_sgd.h in double (the first step must not read the buffer: it is NaN
 * here); the decay flag; plain momentum and momentum 0; bad settings and a
 * bad parameter late in the list leave every parameter as it was.
 * Schedule: its values where the formula says what they are (the start,
 * the peak, the cosine's middle, the end), its shape (up, then down), and
 * the settings it refuses.
 */
#include <math.h>
#include <string.h>

#include "rv_npy.h"
#include "rv_schedule.h"
#include "rv_sgd.h"
#include "rv_test.h"

/* Float32 steps against double arithmetic: a few roundings of numbers
 * near 1, so 1e-6 relative holds them (observed: at most 4e-8). */
static int near(double a, double b) { return fabs(a - b) <= 1e-6 * fmax(1.0, fabs(b)); }

static rv_tensor scalar(float v)
{
    rv_tensor t;
    CHECK_OK(rv_tensor_alloc1(&t, RV_CPU, 1, "scalar"));
    t.data[0] = v;
    return t;
}

/* p0 = 1.5, g = 0.5 on both steps, lr 0.1, momentum 0.9, wd 0.01 */
static void test_sgd_by_hand(int nesterov, int decay)
{
    const double p0 = 1.5, g = 0.5, lr = 0.1, mu = 0.9, wd = decay ? 0.01 : 0.0;
    rv_tensor p = scalar((float)p0), gr = scalar((float)g), b = scalar(NAN);
    rv_sgd opt = {.momentum = (float)mu, .weight_decay = 0.01f, .nesterov = nesterov};
    rv_sgd_param ps[1] = {{.name = "w", .param = &p, .grad = &gr, .buf = &b, .decay = decay}};
    double pw = p0, bw = 0.0;
    for (int step = 1; step <= 2; step++) {
        double gd = g + wd * pw;
        bw = step == 1 ? gd : mu * bw + gd;
        pw -= lr * (nesterov ? gd + mu * bw : bw);
        CHECK_OK(rv_sgd_step(&opt, (float)lr, ps, 1));
        printf("sgd nesterov %d decay %d step %d: p %.9g (by hand %.9g), buffer %.9g (%.9g) -> "
               "%s\n",
               nesterov, decay, step, p.data[0], pw, b.data[0], bw,
               near(p.data[0], pw) && near(b.data[0], bw) ? "ok" : "FAIL");
        CHECK(near(p.data[0], pw) && near(b.data[0], bw), "step %d", step);
    }
    CHECK(opt.steps == 2, "steps %lld after two", (long long)opt.steps);
    rv_tensor_free(&p);
    rv_tensor_free(&gr);
    rv_tensor_free(&b);
}

static void test_sgd_no_momentum(void)
{
    rv_tensor p = scalar(2.0f), g = scalar(0.25f);
    rv_sgd opt = {.momentum = 0.0f, .weight_decay = 0.5f};
    rv_sgd_param ps[1] = {{.param = &p, .grad = &g, .buf = NULL, .decay = 1}};
    CHECK_OK(rv_sgd_step(&opt, 0.5f, ps, 1));
    /* 2 - 0.5 * (0.25 + 0.5 * 2) = 1.375, exact in float */
    CHECK(p.data[0] == 1.375f, "momentum 0: p %.9g, want 1.375", p.data[0]);
    rv_tensor_free(&p);
    rv_tensor_free(&g);
}

static void test_sgd_errors(void)
{
    rv_tensor a = scalar(1.0f), ga = scalar(1.0f), ba = scalar(0.0f), w, gw, bw;
    CHECK_OK(rv_tensor_alloc1(&w, RV_CPU, 3, "w"));
    CHECK_OK(rv_tensor_alloc1(&gw, RV_CPU, 2, "gw")); /* the wrong shape */
    CHECK_OK(rv_tensor_alloc1(&bw, RV_CPU, 3, "bw"));
    CHECK_OK(rv_tensor_fill(&w, 1.0f));
    CHECK_OK(rv_tensor_fill(&gw, 1.0f));
    rv_sgd opt = {.momentum = 0.9f, .weight_decay = 5e-4f, .nesterov = 1};
    rv_sgd_param ps[2] = {{.name = "a", .param = &a, .grad = &ga, .buf = &ba, .decay = 1},
                          {.name = "stage1.conv.weight", .param = &w, .grad = &gw, .buf = &bw}};
    CHECK(rv_sgd_step(&opt, 0.1f, ps, 2) == RV_EINVAL, "a gradient of the wrong shape taken");
    CHECK(strstr(rv_last_error(), "stage1.conv.weight") != NULL, "error '%s' names no tensor",
          rv_last_error());
    CHECK(a.data[0] == 1.0f && opt.steps == 0, "a failed step changed a parameter before it");
    ps[1].grad = &ga;
    ps[1].param = &a;
    ps[1].buf = NULL;
    CHECK(rv_sgd_step(&opt, 0.1f, ps, 2) == RV_EINVAL, "a missing momentum buffer taken");
    ps[1] = ps[0];
    const struct {
        const char *what;
        rv_sgd opt;
        float lr;
    } bad[] = {
        {"momentum 1", {.momentum = 1.0f}, 0.1f},
        {"negative momentum", {.momentum = -0.1f}, 0.1f},
        {"negative weight decay", {.momentum = 0.9f, .weight_decay = -1e-4f}, 0.1f},
        {"Nesterov without momentum", {.momentum = 0.0f, .nesterov = 1}, 0.1f},
        {"negative learning rate", {.momentum = 0.9f}, -0.1f},
        {"NaN learning rate", {.momentum = 0.9f}, NAN},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rv_sgd o = bad[i].opt;
        CHECK(rv_sgd_step(&o, bad[i].lr, ps, 1) == RV_EINVAL, "%s taken", bad[i].what);
    }
    CHECK(a.data[0] == 1.0f, "a refused step changed the parameter");
    rv_tensor ts[6] = {a, ga, ba, w, gw, bw};
    for (int i = 0; i < 6; i++) rv_tensor_free(&ts[i]);
}

/* --- the schedule ------------------------------------------------------------------ */

static int close_rel(double a, double b) { return fabs(a - b) <= 1e-12 * fabs(b); }

static void test_schedule(void)
{
    const rv_schedule s = {
        .lr0 = 0.2, .lr_min = 0.002, .warm_start = 0.1, .warmup = 4, .total = 24};
    CHECK_OK(rv_schedule_check(&s));
    const struct {
        int64_t t;
        double want;
    } at[] = {
        {0, 0.02},                    /* f * lr0 */
        {2, 0.2 * (0.1 + 0.9 * 0.5)}, /* halfway up */
        {4, 0.2},                     /* the peak: the cosine starts at lr0 */
        {14, (0.2 + 0.002) / 2},      /* the cosine's middle */
        {24, 0.002},                  /* past the end: the floor */
        {1000, 0.002},
        {-3, 0.02},
    };
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
        double lr = rv_schedule_lr(&s, at[i].t);
        printf("schedule lr(%lld) = %.17g, want %.17g -> %s\n", (long long)at[i].t, lr, at[i].want,
               close_rel(lr, at[i].want) ? "ok" : "FAIL");
        CHECK(close_rel(lr, at[i].want), "lr(%lld)", (long long)at[i].t);
    }
    int shape = 1;
    for (int64_t t = 1; t < s.total; t++) {
        double a = rv_schedule_lr(&s, t - 1), b = rv_schedule_lr(&s, t);
        shape &= t <= s.warmup ? b > a : b < a;
    }
    CHECK(shape, "the schedule does not climb for 4 steps, then fall");
    CHECK(rv_schedule_lr(&s, s.total - 1) > s.lr_min, "the last step already at the floor");
    const rv_schedule plain = {.lr0 = 0.1, .warmup = 0, .total = 10};
    CHECK_OK(rv_schedule_check(&plain));
    CHECK(rv_schedule_lr(&plain, 0) == 0.1, "no warm-up: lr(0) = %.17g", rv_schedule_lr(&plain, 0));
    const struct {
        const char *what;
        rv_schedule s;
    } bad[] = {
        {"lr0 0", {.lr0 = 0.0, .total = 10}},
        {"lr_min above lr0", {.lr0 = 0.1, .lr_min = 0.2, .total = 10}},
        {"warm_start above 1", {.lr0 = 0.1, .warm_start = 1.5, .warmup = 2, .total = 10}},
        {"warm-up as long as the run", {.lr0 = 0.1, .warmup = 10, .total = 10}},
        {"no steps", {.lr0 = 0.1, .total = 0}},
        {"NaN lr0", {.lr0 = NAN, .total = 10}},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(rv_schedule_check(&bad[i].s) == RV_EINVAL, "%s accepted", bad[i].what);
}

/* --- --dump: what check_optim.py compares with torch.optim ---------------------------- */

#define DUMP_STEPS 10

static rv_status save(const char *dir, const char *name, int k, const rv_tensor *t)
{
    char path[4096];
    if (k >= 0)
        snprintf(path, sizeof path, "%s/sgd_%s_%d.npy", dir, name, k);
    else
        snprintf(path, sizeof path, "%s/sgd_%s.npy", dir, name);
    return rv_npy_write(path, t);
}

/* schedule_NAME.txt: "lr0 lr_min warm_start warmup total", then lr(t) a line */
static rv_status save_schedule(const char *dir, const char *name, const rv_schedule *s)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/schedule_%s.txt", dir, name);
    rv_status st = rv_schedule_check(s);
    if (st != RV_OK) return st;
    FILE *f = fopen(path, "w");
    if (!f) return rv_error(RV_EIO, "%s: cannot write", path);
    fprintf(f, "%.17g %.17g %.17g %lld %lld\n", s->lr0, s->lr_min, s->warm_start,
            (long long)s->warmup, (long long)s->total);
    for (int64_t t = 0; t < s->total; t++) fprintf(f, "%.17g\n", rv_schedule_lr(s, t));
    return fclose(f) == 0 ? RV_OK : rv_error(RV_EIO, "%s: cannot write", path);
}

static rv_status dump(const char *dir, rv_device dev)
{
    (void)dev;
    enum { NP = 4 };
    /* a conv weight and a linear weight decay; a bias and BN's gamma do not */
    const struct {
        const char *name;
        int ndim;
        int64_t dim[4];
        int decay;
    } spec[NP] = {
        {"conv_weight", 4, {5, 3, 3, 3}, 1},
        {"conv_bias", 1, {5}, 0},
        {"bn_gamma", 1, {5}, 0},
        {"fc_weight", 2, {10, 7}, 1},
    };
    rv_rng rng = rv_rng_seed(34);
    rv_tensor p[NP] = {0}, g[NP] = {0}, b[NP] = {0};
    rv_sgd_param ps[NP];
    rv_status st = RV_OK;
    for (int i = 0; i < NP && st == RV_OK; i++) {
        st = rv_tensor_random(&p[i], RV_CPU, spec[i].ndim, spec[i].dim, &rng, -1, 1, spec[i].name);
        if (st == RV_OK) st = rv_tensor_alloc(&g[i], RV_CPU, spec[i].ndim, spec[i].dim, "grad");
        if (st == RV_OK) st = rv_tensor_alloc(&b[i], RV_CPU, spec[i].ndim, spec[i].dim, "buffer");
        if (st == RV_OK) st = rv_tensor_fill(&b[i], NAN); /* the first step must not read it */
        if (st == RV_OK) st = save(dir, spec[i].name, 0, &p[i]);
        float flag = (float)spec[i].decay;
        rv_tensor decay = rv_tensor_view(&flag, RV_CPU, 1, (const int64_t[]){1});
        char name[64];
        snprintf(name, sizeof name, "%s_decay", spec[i].name);
        if (st == RV_OK) st = save(dir, name, -1, &decay);
        ps[i] = (rv_sgd_param){.name = spec[i].name,
                               .param = &p[i],
                               .grad = &g[i],
                               .buf = &b[i],
                               .decay = spec[i].decay};
    }
    /* the lr changes every step (a warm-up, then the cosine), as in a run */
    const rv_schedule s = {
        .lr0 = 0.1, .lr_min = 0.001, .warm_start = 0.2, .warmup = 3, .total = DUMP_STEPS};
    float lrs[DUMP_STEPS];
    rv_sgd opt = {.momentum = 0.9f, .weight_decay = 5e-4f, .nesterov = 1};
    for (int k = 1; k <= DUMP_STEPS && st == RV_OK; k++) {
        char name[64];
        for (int i = 0; i < NP && st == RV_OK; i++) {
            st = rv_tensor_fill_uniform(&g[i], &rng, -1, 1);
            snprintf(name, sizeof name, "%s_grad", spec[i].name);
            if (st == RV_OK) st = save(dir, name, k, &g[i]);
        }
        lrs[k - 1] = (float)rv_schedule_lr(&s, k - 1);
        if (st == RV_OK) st = rv_sgd_step(&opt, lrs[k - 1], ps, NP);
        for (int i = 0; i < NP && st == RV_OK; i++) {
            st = save(dir, spec[i].name, k, &p[i]);
            snprintf(name, sizeof name, "%s_buf", spec[i].name);
            if (st == RV_OK) st = save(dir, name, k, &b[i]);
        }
    }
    rv_tensor lr = rv_tensor_view(lrs, RV_CPU, 1, (const int64_t[]){DUMP_STEPS});
    if (st == RV_OK) st = save(dir, "lr", -1, &lr);
    for (int i = 0; i < NP; i++) {
        rv_tensor_free(&p[i]);
        rv_tensor_free(&g[i]);
        rv_tensor_free(&b[i]);
    }
    /* LinearLR then cosine; warm-up from 0 (LambdaLR's case); the cosine alone */
    const rv_schedule
        warm = {.lr0 = 0.1, .lr_min = 1e-4, .warm_start = 0.01, .warmup = 7, .total = 40},
        zero = {.lr0 = 0.05, .lr_min = 0.0, .warm_start = 0.0, .warmup = 5, .total = 23},
        cosine = {.lr0 = 0.4, .lr_min = 0.004, .warmup = 0, .total = 17};
    if (st == RV_OK) st = save_schedule(dir, "warm", &warm);
    if (st == RV_OK) st = save_schedule(dir, "zero_start", &zero);
    if (st == RV_OK) st = save_schedule(dir, "cosine_only", &cosine);
    return st;
}

int main(int argc, char **argv)
{
    int rc = rv_test_init_dump_cpu(argc, argv,
                                   "test_optim [--device cpu] [--dump DIR]: SGD and the "
                                   "learning-rate schedule",
                                   "the optimizer", dump);
    if (rc >= 0) return rc;
    test_sgd_by_hand(1, 1);
    test_sgd_by_hand(1, 0);
    test_sgd_by_hand(0, 1);
    test_sgd_no_momentum();
    test_sgd_errors();
    test_schedule();
    return rv_test_finish("test_optim");
}
