/* test_tolerance.c - the tolerance model itself must be able to say no.
 *
 * Identical data passes even under RV_TOL_EXACT; one element perturbed past
 * atol + rtol*|r| fails and is reported as the worst; a NaN fails; errors that
 * each pass per element but add up past the relative L2 bound fail; the
 * boundary |a-r| == atol * s + rtol*|r| passes; atol scales with the largest
 * |r| (s), and only with it. A masked comparison sees its own elements
 * only: an error outside the mask passes, one inside fails, reported at its
 * place among the compared values.
 */
#include <math.h>

#include "rv_test.h"

enum { N = 1000 };
static float ref[N], a[N], a_sel[N], ref_sel[N];
static unsigned char mask[N];

static void reset(void)
{
    rv_rng r = rv_rng_seed(3);
    for (int i = 0; i < N; i++) a[i] = ref[i] = rv_rng_uniform(&r, -2.0f, 2.0f);
}

int main(int argc, char **argv)
{
    rv_device dev;
    int rc = rv_test_init(argc, argv, "test_tolerance: the tolerance model", &dev);
    if (rc >= 0) return rc;
    rv_tol exact = RV_TOL_EXACT, fp32 = RV_TOL_FP32;

    reset();
    CHECK(rv_compare(a, ref, N, exact).pass, "identical data fails RV_TOL_EXACT");

    a[417] = nextafterf(ref[417], INFINITY);
    rv_cmp c = rv_compare(a, ref, N, exact);
    CHECK(!c.pass && c.failures == 1 && c.worst == 417, "one-ulp change passes RV_TOL_EXACT");
    CHECK(rv_compare(a, ref, N, fp32).pass, "one-ulp change fails RV_TOL_FP32");

    reset();
    a[9] = ref[9] + 1e-3f;
    c = rv_compare(a, ref, N, fp32);
    CHECK(!c.pass && c.worst == 9, "1e-3 error passes RV_TOL_FP32 (worst %lld)",
          (long long)c.worst);

    reset();
    a[500] = NAN;
    c = rv_compare(a, ref, N, fp32);
    CHECK(!c.pass && c.worst == 500, "NaN passes");

    /* every element just inside its bound, but together past rel L2 */
    reset();
    rv_tol loose_elem = {1e-3, 0.0, 1e-5};
    for (int i = 0; i < N; i++) a[i] = ref[i] + 0.9e-3f;
    c = rv_compare(a, ref, N, loose_elem);
    CHECK(c.failures == 0 && !c.pass, "rel L2 bound not enforced (rel L2 %g)", c.rel_l2);

    /* a near-zero element of a tensor whose largest |r| is 100: bound 1e-5 * 100 */
    reset();
    ref[7] = a[7] = 100.0f;
    ref[8] = 0.0f;
    a[8] = 5e-4f;
    c = rv_compare(a, ref, N, fp32);
    CHECK(c.pass && c.atol == 1e-5 * 100.0, "atol not scaled by the largest |r| (%g)", c.atol);
    ref[7] = a[7] = 1.0f; /* now s = 2 (the data's own range): 5e-4 > 2e-5 */
    CHECK(!rv_compare(a, ref, N, fp32).pass, "atol scaled by more than the largest |r|");

    /* s = max(1, max|r|): small data keep atol itself */
    for (int i = 0; i < N; i++) a[i] = ref[i] = 1e-3f * (float)(i % 7);
    a[3] += 0.9e-5f;
    c = rv_compare(a, ref, N, (rv_tol){.atol = 1e-5, .rtol = 0.0, .max_rel_l2 = INFINITY});
    CHECK(c.pass && c.atol == 1e-5, "atol shrunk below itself for small data (%g)", c.atol);

    reset();
    rv_tol edge = {0.25, 0.0, INFINITY};
    ref[1] = a[1] = 2.0f; /* s = 2 exactly: the bound is 0.5 */
    a[0] = ref[0] + 0.5f;
    CHECK(fabsf(a[0] - ref[0]) == 0.5f, "setup: the error must be exactly 0.5");
    CHECK(rv_compare(a, ref, N, edge).pass, "an error equal to the bound fails");
    a[0] = nextafterf(a[0], INFINITY);
    CHECK(!rv_compare(a, ref, N, edge).pass, "an error past the bound passes");

    /* the mask: every third element is 1 (334 of them), the others 0 */
    reset();
    for (int i = 0; i < N; i++) mask[i] = i % 3 == 0;
    a[301] = ref[301] + 1e-3f; /* 301 % 3 == 1: outside the mask's 1s, 201st of its 0s */
    c = rv_compare_masked(a, ref, N, mask, 1, fp32, a_sel, ref_sel);
    CHECK(c.pass && c.n == 334, "an error outside the mask counted (n %lld)", (long long)c.n);
    CHECK(a_sel[5] == a[15] && ref_sel[5] == ref[15], "masked values not gathered in order");
    c = rv_compare_masked(a, ref, N, mask, 0, fp32, a_sel, ref_sel);
    CHECK(!c.pass && c.n == 666 && c.failures == 1 && c.worst == 200 && a_sel[200] == a[301],
          "an error inside the mask missed (n %lld, worst %lld)", (long long)c.n,
          (long long)c.worst);
    /* the same on tensors, printed: 1 agree, 0 differ (as expected or not), -1 not compared */
    const int64_t n = N, half = N / 2;
    rv_tensor ta = rv_tensor_view(a, RV_CPU, 1, &n), tr = rv_tensor_view(ref, RV_CPU, 1, &n);
    rv_tensor short_r = rv_tensor_view(ref, RV_CPU, 1, &half);
    CHECK(rv_expect_close_masked(stdout, "  mask 1s", &ta, &tr, mask, 1, fp32, 1) == 1,
          "tensors: an error outside the mask counted");
    CHECK(rv_expect_close_masked(stdout, "  mask 0s (expected to differ)", &ta, &tr, mask, 0, fp32,
                                 0) == 0,
          "tensors: an error inside the mask missed");
    CHECK(rv_expect_close_masked(stdout, "  shapes differ", &ta, &short_r, mask, 0, fp32, 0) == -1,
          "tensors: shapes that differ compared");
    return rv_test_finish("test_tolerance");
}
