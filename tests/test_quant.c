/* test_quant.c - simulated INT8 quantization (rv_quant.h) against its definition.
 *
 * The library ops run on the device --device picks; the expectations are
 * written out here from the definitions, on the CPU:
 *   - values already on the grid (q * s for every q in [-128, 127], several
 *     scales) come back bit for bit;
 *   - ties round half to even (s a power of two, so x * (1/s) is exactly k + 0.5);
 *   - an activation scale calibrated on three seeded batches is the running
 *     max |x| / 127.5; a wider input clamps to -128 s and 127 s at the edges
 *     (infinities too), a NaN stays NaN, every other value lands on the grid
 *     within half a step;
 *   - per output channel: each channel's scale is its own max |w| / 127.5, an
 *     all-zero channel gets FLT_EPSILON and comes back zeros (no NaN), each
 *     channel equals the per-tensor fake quantization of that channel alone,
 *     and on channels of very different sizes it beats one scale per tensor;
 *   - SQNR and relative L2 of cases worked out by hand;
 *   - bad arguments are errors that name what is wrong.
 * With --dump DIR it runs nothing of that and writes, as .npy files into DIR,
 * the tensors, scales and results that tests/torch/check_quant.py compares
 * with PyTorch's observers and fake-quantize functions.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "rv_npy.h"
#include "rv_quant.h"
#include "rv_test.h"

/* A CPU tensor over a caller's array (not freed). */
static rv_tensor host_view(float *data, int64_t n) { return rv_tensor_view(data, RV_CPU, 1, &n); }

/* hy = rv_fake_quant_tensor(hx, s) run on dev (hx, hy on the CPU). */
static void fake_quant_on(rv_device dev, const rv_tensor *hx, float s, rv_tensor *hy)
{
    rv_tensor x = {0}, y = {0};
    CHECK_OK(rv_tensor_clone(&x, hx, dev, "x"));
    CHECK_OK(rv_tensor_clone(&y, hx, dev, "y"));
    CHECK_OK(rv_fake_quant_tensor(&x, s, &y));
    CHECK_OK(rv_tensor_copy(hy, &y));
    rv_tensor_free(&x);
    rv_tensor_free(&y);
}

/* Every grid point q * s, q = -128 .. 127, is its own fake quantization. */
static void test_grid_exact(rv_device dev)
{
    const float scales[] = {0.25f, 0.0371f, 1.7e-3f, 3.3f, FLT_EPSILON};
    float x[256], y[256];
    rv_tensor hx = host_view(x, 256), hy = host_view(y, 256);
    for (int k = 0; k < 5; k++) {
        for (int q = RV_QINT8_MIN; q <= RV_QINT8_MAX; q++)
            x[q - RV_QINT8_MIN] = (float)q * scales[k];
        fake_quant_on(dev, &hx, scales[k], &hy);
        char what[64];
        snprintf(what, sizeof what, "grid points of s = %g", scales[k]);
        CHECK_CLOSE(what, &hy, &hx, RV_TOL_EXACT);
    }
}

/* Halfway cases, s = 1/4: x * 4 is exactly k + 0.5, and goes to the even k. */
static void test_ties(rv_device dev)
{
    const struct {
        float x, expect;
    } t[] = {
        {.x = 0.125f, .expect = 0.0f},    /* 0.5 -> 0 */
        {.x = 0.375f, .expect = 0.5f},    /* 1.5 -> 2 */
        {.x = 0.625f, .expect = 0.5f},    /* 2.5 -> 2 */
        {.x = 0.875f, .expect = 1.0f},    /* 3.5 -> 4 */
        {.x = -0.125f, .expect = 0.0f},   /* -0.5 -> 0 (+0, not -0) */
        {.x = -0.375f, .expect = -0.5f},  /* -1.5 -> -2 */
        {.x = -0.625f, .expect = -0.5f},  /* -2.5 -> -2 */
        {.x = 31.625f, .expect = 31.5f},  /* 126.5 -> 126 */
        {.x = 31.875f, .expect = 31.75f}, /* 127.5 -> 128, clamped to 127 */
        {.x = -32.125f, .expect = -32.0f} /* -128.5 -> -128 */
    };
    enum { N = sizeof t / sizeof t[0] };
    float x[N], y[N], e[N];
    for (int i = 0; i < N; i++) x[i] = t[i].x, e[i] = t[i].expect;
    rv_tensor hx = host_view(x, N), hy = host_view(y, N), he = host_view(e, N);
    fake_quant_on(dev, &hx, 0.25f, &hy);
    CHECK_CLOSE("ties round half to even (s = 1/4)", &hy, &he, RV_TOL_EXACT);
    CHECK(y[4] == 0.0f && !signbit(y[4]), "-0.125 with s = 1/4 came back %g, not +0", y[4]);

    /* x times the float reciprocal, as PyTorch: for x = -12.15f and s = 0.1f,
     * x * (1/s) is -121.5 in float32 and rounds to -122 (PyTorch's answer),
     * while x / s is -121.49999 and would round to -121 */
    float nx = -12.15f, ny;
    rv_tensor hnx = host_view(&nx, 1), hny = host_view(&ny, 1);
    fake_quant_on(dev, &hnx, 0.1f, &hny);
    CHECK(ny == -122 * 0.1f, "-12.15 with s = 0.1 came back %.9g, not -122 s = %.9g", ny,
          -122 * 0.1f);
}

/* Observes a few seeded batches into c; returns their max |x|, computed here. */
static float calibrate(rv_calib *c, rv_device dev, rv_rng *rng, int batches, const float *range)
{
    float amax = 0.0f;
    for (int b = 0; b < batches; b++) {
        rv_tensor h, d;
        CHECK_OK(rv_tensor_alloc4(&h, RV_CPU, 2, 3, 5, 5, "calibration batch"));
        rv_tensor_fill_uniform(&h, rng, -range[b], range[b]);
        for (int64_t i = 0; i < rv_tensor_numel(&h); i++) amax = fmaxf(amax, fabsf(h.data[i]));
        CHECK_OK(rv_tensor_clone(&d, &h, dev, "calibration batch"));
        CHECK_OK(rv_calib_observe(c, &d));
        rv_tensor_free(&h);
        rv_tensor_free(&d);
    }
    return amax;
}

/* An activation scale calibrated smaller than the tensor it then quantizes. */
static void test_calibrate_and_clamp(rv_device dev, rv_rng *rng)
{
    rv_calib c = {0};
    float s = 0.0f;
    CHECK(rv_calib_scale(&c, &s) == RV_EINVAL, "a scale from no calibration batch at all");
    const float range[3] = {1.0f, 0.5f, 0.8f}; /* the largest first: later ones must not lower it */
    float amax = calibrate(&c, dev, rng, 3, range);
    CHECK_OK(rv_calib_scale(&c, &s));
    CHECK(c.batches == 3 && c.amax == amax && s == amax / 127.5f,
          "calibration: %d batches, amax %.9g, s %.9g; expected 3, %.9g, %.9g", c.batches, c.amax,
          s, amax, amax / 127.5f);

    rv_tensor hx, hy;
    CHECK_OK(rv_tensor_alloc4(&hx, RV_CPU, 2, 3, 7, 7, "x"));
    CHECK_OK(rv_tensor_alloc4(&hy, RV_CPU, 2, 3, 7, 7, "y"));
    rv_tensor_fill_uniform(&hx, rng, -2.0f * amax, 2.0f * amax);
    hx.data[0] = INFINITY;
    hx.data[1] = -INFINITY;
    hx.data[2] = NAN;
    fake_quant_on(dev, &hx, s, &hy);
    CHECK(hy.data[0] == 127 * s && hy.data[1] == -128 * s, "+-inf -> %g, %g; expected %g, %g",
          hy.data[0], hy.data[1], 127 * s, -128 * s);
    CHECK(isnan(hy.data[2]), "NaN -> %g, not NaN", hy.data[2]);
    int64_t clamped = 0, bad = 0, n = rv_tensor_numel(&hx);
    for (int64_t i = 3; i < n; i++) {
        double x = hx.data[i], y = hy.data[i], q = nearbyint(y / s);
        int ok;
        if (x > 128.0 * s || x < -129.0 * s) { /* clearly beyond the grid's ends */
            ok = y == (x > 0 ? 127 * s : -128 * s);
            clamped++;
        } else { /* on the grid, within half a step of x */
            ok = (float)y == (float)q * s && q >= RV_QINT8_MIN && q <= RV_QINT8_MAX &&
                 fabs(x - y) <= 0.5 * s * (1 + 1e-6);
        }
        if (!ok && bad++ < 4) printf("  [%lld] %.9g -> %.9g (s = %.9g)\n", (long long)i, x, y, s);
    }
    printf("calibrated s = %.9g: %lld of %lld values clamped, %lld wrong\n", s, (long long)clamped,
           (long long)n, (long long)bad);
    CHECK(bad == 0, "%lld values neither clamped nor on the grid within half a step",
          (long long)bad);
    CHECK(clamped > n / 4, "only %lld values beyond the calibrated range: the test data is wrong",
          (long long)clamped);

    rv_calib before = c;
    CHECK(rv_calib_observe(&c, &hx) == RV_EINVAL, "a batch holding inf and NaN was observed");
    CHECK(c.amax == before.amax && c.batches == before.batches, "a rejected batch changed c");
    rv_tensor_free(&hx);
    rv_tensor_free(&hy);
}

/* Channels of very different sizes, one of them all zeros. */
static void test_per_channel(rv_device dev, rv_rng *rng)
{
    enum { O = 5, INNER = 3 * 3 * 3 };
    const float size[O] = {1.0f, 0.01f, 0.0f, 100.0f, 0.3f};
    rv_tensor hw, w, ds, hs, y, hy, wt;
    CHECK_OK(rv_tensor_alloc4(&hw, RV_CPU, O, 3, 3, 3, "w"));
    rv_tensor_fill_uniform(&hw, rng, -1.0f, 1.0f);
    for (int64_t i = 0; i < O * INNER; i++) hw.data[i] *= size[i / INNER];
    CHECK_OK(rv_tensor_clone(&w, &hw, dev, "w"));
    CHECK_OK(rv_tensor_alloc1(&ds, dev, O, "scales"));
    CHECK_OK(rv_tensor_alloc1(&hs, RV_CPU, O, "scales"));
    CHECK_OK(rv_tensor_clone(&y, &w, dev, "y"));
    CHECK_OK(rv_tensor_clone(&hy, &hw, RV_CPU, "y"));

    CHECK_OK(rv_quant_channel_scales(&w, &ds));
    CHECK_OK(rv_tensor_copy(&hs, &ds));
    for (int o = 0; o < O; o++) {
        float amax = 0.0f;
        for (int k = 0; k < INNER; k++) amax = fmaxf(amax, fabsf(hw.data[o * INNER + k]));
        float expect = o == 2 ? FLT_EPSILON : amax / 127.5f;
        CHECK(hs.data[o] == expect, "scale of channel %d: %.9g, expected %.9g", o, hs.data[o],
              expect);
    }
    CHECK_OK(rv_fake_quant_channel(&w, &ds, &y));
    CHECK_OK(rv_tensor_copy(&hy, &y));
    for (int k = 0; k < INNER; k++)
        CHECK(hy.data[2 * INNER + k] == 0.0f, "all-zero channel: element %d is %g, not 0", k,
              hy.data[2 * INNER + k]);
    for (int o = 0; o < O; o++) { /* each channel alone, on its own grid */
        float alone[INNER];
        rv_tensor ho = host_view(hw.data + o * INNER, INNER), ha = host_view(alone, INNER);
        rv_tensor got = host_view(hy.data + o * INNER, INNER);
        fake_quant_on(dev, &ho, hs.data[o], &ha);
        char what[64];
        snprintf(what, sizeof what, "channel %d = that channel alone per tensor", o);
        CHECK_CLOSE(what, &got, &ha, RV_TOL_EXACT);
    }

    /* one scale for the whole weight rounds the small channels away */
    float st = 0.0f;
    rv_quant_err per_channel = {0}, per_tensor = {0};
    CHECK_OK(rv_quant_error(&y, &w, &per_channel));
    CHECK_OK(rv_quant_tensor_scale(&w, &st));
    CHECK_OK(rv_tensor_clone(&wt, &w, dev, "w per tensor"));
    CHECK_OK(rv_fake_quant_tensor(&w, st, &wt));
    CHECK_OK(rv_quant_error(&wt, &w, &per_tensor));
    printf("weight %dx3x3x3, channels of sizes 1, 0.01, 0, 100, 0.3: SQNR %.2f dB per channel, "
           "%.2f dB per tensor\n",
           O, per_channel.sqnr_db, per_tensor.sqnr_db);
    CHECK(per_channel.sqnr_db > per_tensor.sqnr_db, "per channel no better than per tensor");
    /* channel 1 (|w| <= 0.01) on the grid of channel 3 (s = max |w| / 127.5, about 0.8):
     * every value rounds to 0, the error is the signal itself, SQNR exactly 0 dB */
    rv_tensor c1 = {.data = w.data + INNER, .ndim = 1, .dim = {INNER}, .device = dev};
    rv_tensor c1_channel = c1, c1_tensor = c1;
    c1_channel.data = y.data + INNER;
    c1_tensor.data = wt.data + INNER;
    CHECK_OK(rv_quant_error(&c1_channel, &c1, &per_channel));
    CHECK_OK(rv_quant_error(&c1_tensor, &c1, &per_tensor));
    printf("its channel 1 alone: SQNR %.2f dB on its own grid, %.2f dB on the weight's\n",
           per_channel.sqnr_db, per_tensor.sqnr_db);
    CHECK(per_tensor.sqnr_db == 0.0 && per_channel.sqnr_db > 30.0,
          "channel 1: %g dB per tensor (expected 0), %g dB per channel (expected > 30)",
          per_tensor.sqnr_db, per_channel.sqnr_db);

    /* bad arguments */
    rv_tensor short_s = {.data = ds.data, .ndim = 1, .dim = {O - 1}, .device = dev};
    CHECK(rv_fake_quant_channel(&w, &short_s, &y) == RV_EINVAL, "%d scales for %d channels", O - 1,
          O);
    CHECK(rv_fake_quant_channel(&ds, &ds, &ds) == RV_EINVAL,
          "per-channel quantization of a vector");
    hs.data[3] = 0.0f;
    CHECK_OK(rv_tensor_copy(&ds, &hs));
    CHECK(rv_fake_quant_channel(&w, &ds, &y) == RV_EINVAL, "a zero scale accepted");
    CHECK(strstr(rv_last_error(), "scale 3") != NULL, "error does not name scale 3: %s",
          rv_last_error());
    hw.data[3 * INNER + 5] = INFINITY;
    CHECK_OK(rv_tensor_copy(&w, &hw));
    CHECK(rv_quant_channel_scales(&w, &ds) == RV_EINVAL, "a channel holding inf got a scale");
    CHECK(strstr(rv_last_error(), "channel 3") != NULL, "error does not name channel 3: %s",
          rv_last_error());
    const float bad_scales[] = {0.0f, -1.0f, NAN, INFINITY};
    for (int k = 0; k < 4; k++)
        CHECK(rv_fake_quant_tensor(&w, bad_scales[k], &y) == RV_EINVAL, "scale %g accepted",
              bad_scales[k]);
    rv_tensor *all[] = {&hw, &w, &ds, &hs, &y, &hy, &wt};
    for (int i = 0; i < 7; i++) rv_tensor_free(all[i]);
}

/* rv_quant_error of a and r against its value worked out by hand. */
static void expect_error(rv_device dev, const char *what, float *a, float *r, int n, double sqnr_db,
                         double rel_l2)
{
    rv_tensor ha = host_view(a, n), hr = host_view(r, n), da, dr;
    rv_quant_err e = {0};
    CHECK_OK(rv_tensor_clone(&da, &ha, dev, "a"));
    CHECK_OK(rv_tensor_clone(&dr, &hr, dev, "r"));
    CHECK_OK(rv_quant_error(&da, &dr, &e));
    /* worked out in real numbers; the library's double sums are good to a few ulps */
    int ok = (isinf(sqnr_db) ? e.sqnr_db == sqnr_db
                             : fabs(e.sqnr_db - sqnr_db) <= 1e-13 * fabs(sqnr_db)) &&
             (isinf(rel_l2) ? e.rel_l2 == rel_l2 : fabs(e.rel_l2 - rel_l2) <= 1e-13 * rel_l2);
    printf("%s: SQNR %.15g dB (expected %.15g), rel L2 %.15g (expected %.15g) -> %s\n", what,
           e.sqnr_db, sqnr_db, e.rel_l2, rel_l2, ok ? "ok" : "FAIL");
    CHECK(ok, "%s", what);
    rv_tensor_free(&da);
    rv_tensor_free(&dr);
}

static void test_error(rv_device dev)
{
    /* sum r^2 = 9 + 16 = 25, sum (a - r)^2 = 0.25: 10 log10(100) = 20 dB, sqrt(0.01) = 0.1 */
    float a1[] = {3.0f, 4.5f}, r1[] = {3.0f, 4.0f};
    expect_error(dev, "error of (3, 4.5) against (3, 4)", a1, r1, 2, 20.0, 0.1);
    /* sum r^2 = 1 + 4 + 4 = 9, sum (a - r)^2 = 1: 10 log10(9) dB, rel L2 1/3 */
    float a2[] = {1.0f, 2.0f, 3.0f}, r2[] = {1.0f, 2.0f, 2.0f};
    expect_error(dev, "error of (1, 2, 3) against (1, 2, 2)", a2, r2, 3, 10.0 * log10(9.0),
                 1.0 / 3.0);
    float a3[] = {-1.5f, 0.0f}, r3[] = {-1.5f, 0.0f};
    expect_error(dev, "no error", a3, r3, 2, INFINITY, 0.0);
    float a4[] = {0.5f, 0.0f}, r4[] = {0.0f, 0.0f};
    expect_error(dev, "error against a zero reference", a4, r4, 2, -INFINITY, INFINITY);
    rv_tensor h3 = host_view(a3, 2), h2 = host_view(a2, 3);
    rv_quant_err e;
    CHECK(rv_quant_error(&h3, &h2, &e) == RV_EINVAL, "error of tensors of different shapes");
}

/* --dump: the tensors tests/torch/check_quant.py compares with PyTorch. */
static rv_status write_npy(const char *dir, const char *name, const rv_tensor *t)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.npy", dir, name);
    return rv_npy_write(path, t);
}

/* *t on dev: a (2, 3, 5, 5) batch of seeded values, uniform in [-r, r). */
static rv_status uniform_batch(rv_tensor *t, rv_device dev, rv_rng *rng, float r, const char *what)
{
    return rv_tensor_random(t, dev, 4, (const int64_t[]){2, 3, 5, 5}, rng, -r, r, what);
}

static rv_status dump(const char *dir, rv_device dev)
{
    enum { O = 6, INNER = 3 * 3 * 3, NT = 72, NN = 256 * 7, NF = 15 };
    const char *names[NF] = {"w",       "w_scales", "w_fq_channel", "w_fq_tensor", "a",
                             "a_fq",    "calib0",   "calib1",       "calib2",      "ties",
                             "ties_fq", "scales",   "errors",       "near_ties",   "near_ties_fq"};
    rv_tensor t[NF] = {0}, hw = {0};
    rv_tensor *w = &t[0], *ws = &t[1], *wq = &t[2], *wt = &t[3], *a = &t[4], *aq = &t[5];
    rv_tensor *cb = &t[6] /* 3 batches */, *ties = &t[9], *tq = &t[10];
    rv_tensor *sc = &t[11] /* (2): the weight's and the activation's per-tensor scales */;
    rv_tensor *err = &t[12] /* (4): SQNR dB and rel L2 of w per channel, then of a */;
    rv_tensor *near = &t[13], *nq = &t[14];
    const float size[O] = {1.0f, 0.05f, 0.0f, 4.0f, 0.5f, 1.0f}, range[3] = {1.0f, 0.7f, 1.3f};
    rv_rng rng = rv_rng_seed(10);

    /* w: channels of different sizes, channel 2 all zeros, channel 5 with max |w| =
     * 127.5 / 16, so that its scale is exactly 1/16, and all its other values ties */
    rv_status st = rv_tensor_alloc4(&hw, RV_CPU, O, 3, 3, 3, "w");
    if (st == RV_OK) {
        rv_tensor_fill_uniform(&hw, &rng, -1.0f, 1.0f);
        for (int64_t i = 0; i < O * INNER; i++) hw.data[i] *= size[i / INNER];
        float *c5 = hw.data + 5 * INNER;
        c5[0] = 127.5f / 16, c5[1] = -127.5f / 16;
        for (int j = 2; j < INNER; j++) c5[j] = (j % 2 ? -1.0f : 1.0f) * (2 * j + 1) / 32.0f;
        st = rv_tensor_clone(w, &hw, dev, "w");
    }
    rv_tensor_free(&hw);
    /* ties and edges on the grid of s = 1/4 */
    float tv[NT];
    for (int k = 0; k < 64; k++) tv[k] = (k - 32 + 0.5f) * 0.25f;
    const float edges[8] = {31.75f, 31.875f, -32.0f, -32.125f, 40.0f, -40.0f, 1e6f, -1e6f};
    memcpy(tv + 64, edges, sizeof edges);
    rv_tensor htv = host_view(tv, NT);
    if (st == RV_OK) st = rv_tensor_clone(ties, &htv, dev, "ties");
    /* (k + 0.5) s in float32 and the 3 floats either side of it, s = 0.1: among
     * them the x where x * (1/s) and x / s round to different integers */
    float nv[NN];
    for (int k = 0; k < NN / 7; k++)
        for (int d = -3; d <= 3; d++) {
            float x = (k - 128 + 0.5f) * 0.1f;
            for (int j = 0; j < (d < 0 ? -d : d); j++)
                x = nextafterf(x, d < 0 ? -INFINITY : INFINITY);
            nv[7 * k + d + 3] = x;
        }
    rv_tensor hnv = host_view(nv, NN);
    if (st == RV_OK) st = rv_tensor_clone(near, &hnv, dev, "near ties");
    rv_calib c = {0};
    for (int b = 0; b < 3 && st == RV_OK; b++) {
        st = uniform_batch(&cb[b], dev, &rng, range[b], "calibration batch");
        if (st == RV_OK) st = rv_calib_observe(&c, &cb[b]);
    }
    /* an activation wider than the calibration batches */
    if (st == RV_OK) st = uniform_batch(a, dev, &rng, 2.5f, "activation");
    if (st == RV_OK) st = rv_tensor_clone(wq, w, dev, "w per channel");
    if (st == RV_OK) st = rv_tensor_clone(wt, w, dev, "w per tensor");
    if (st == RV_OK) st = rv_tensor_clone(aq, a, dev, "activation quantized");
    if (st == RV_OK) st = rv_tensor_clone(tq, ties, dev, "ties quantized");
    if (st == RV_OK) st = rv_tensor_clone(nq, near, dev, "near ties quantized");
    if (st == RV_OK) st = rv_tensor_alloc1(ws, dev, O, "w scales");
    if (st == RV_OK) st = rv_tensor_alloc1(sc, RV_CPU, 2, "per-tensor scales");
    if (st == RV_OK) st = rv_tensor_alloc1(err, RV_CPU, 4, "errors");

    rv_quant_err e[2] = {{0}};
    if (st == RV_OK) st = rv_quant_channel_scales(w, ws);
    if (st == RV_OK) st = rv_fake_quant_channel(w, ws, wq);
    if (st == RV_OK) st = rv_quant_tensor_scale(w, &sc->data[0]);
    if (st == RV_OK) st = rv_fake_quant_tensor(w, sc->data[0], wt);
    if (st == RV_OK) st = rv_calib_scale(&c, &sc->data[1]);
    if (st == RV_OK) st = rv_fake_quant_tensor(a, sc->data[1], aq);
    if (st == RV_OK) st = rv_fake_quant_tensor(ties, 0.25f, tq);
    if (st == RV_OK) st = rv_fake_quant_tensor(near, 0.1f, nq);
    if (st == RV_OK) st = rv_quant_error(wq, w, &e[0]);
    if (st == RV_OK) st = rv_quant_error(aq, a, &e[1]);
    for (int k = 0; k < 2 && st == RV_OK; k++) { /* as float32, numpy recomputes them */
        err->data[2 * k] = (float)e[k].sqnr_db;
        err->data[2 * k + 1] = (float)e[k].rel_l2;
    }
    for (int k = 0; k < NF && st == RV_OK; k++) st = write_npy(dir, names[k], &t[k]);
    for (int k = 0; k < NF; k++) rv_tensor_free(&t[k]);
    return st;
}

int main(int argc, char **argv)
{
    const char *usage = "test_quant --device cpu|cuda [--dump DIR]: simulated INT8 quantization";
    rv_device dev;
    int rc = rv_test_init_dump(argc, argv, usage, &dev, dump);
    if (rc >= 0) return rc;
    rv_rng rng = rv_rng_seed(11);
    test_grid_exact(dev);
    test_ties(dev);
    test_calibrate_and_clamp(dev, &rng);
    test_per_channel(dev, &rng);
    test_error(dev);
    return rv_test_finish("test_quant");
}
