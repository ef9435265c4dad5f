/* test_tolerance.c - the tolerance model itself must be able to say no.
 *
 * Identical data passes even under RV_TOL_EXACT; one element perturbed past
 * atol + rtol*|r| fails and is reported as the worst; a NaN fails; errors that
 * each pass per element but add up past the relative L2 bound fail; the
 * boundary |a-r| == atol + rtol*|r| passes.
 */
#include <math.h>

#include "rv_test.h"

enum { N = 1000 };
static float ref[N], a[N];

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

    reset();
    rv_tol edge = {0.5, 0.0, INFINITY};
    a[0] = ref[0] + 0.5f;
    CHECK(fabsf(a[0] - ref[0]) == 0.5f, "setup: the error must be exactly 0.5");
    CHECK(rv_compare(a, ref, N, edge).pass, "an error equal to the bound fails");
    return rv_test_finish("test_tolerance");
}
