/* test_concat.c - DBB's transform IV (rv_concat.h): the folded 3x3 conv
 * computes what the unit computes.
 *
 * Odd shapes that make a misplaced channel or tap visible: 3 input channels,
 * branches of 5 and 2 channels (unequal, so a swapped stack is caught), 7
 * output channels, 7x7 and 6x6 inputs, stride 1 and 2, batch 2, BN
 * statistics randomised. The border is in the comparison: a middle padded
 * with zeros, or the shifts concatenated in the wrong order, fail there.
 * Bad sizes are refused with RV_EINVAL.
 */
#include "rv_concat.h"
#include "rv_test.h"

int main(int argc, char **argv)
{
    rv_device dev;
    int rc = rv_test_init(argc, argv, "test_concat: concatenated 1x1 conv-BNs, then 3x3", &dev);
    if (rc >= 0) return rc;
    static const struct {
        int n, s, stride;
        int64_t c, m1, m2, out;
    } cases[] = {
        {.n = 2, .s = 7, .stride = 1, .c = 3, .m1 = 5, .m2 = 2, .out = 7},
        {.n = 2, .s = 7, .stride = 2, .c = 3, .m1 = 5, .m2 = 2, .out = 7},
        {.n = 1, .s = 6, .stride = 2, .c = 4, .m1 = 1, .m2 = 6, .out = 3},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rv_concat_unit u;
        char what[128];
        snprintf(what, sizeof what, "  %lld -> %lld + %lld -> %lld channels, %dx%d, stride %d",
                 (long long)cases[i].c, (long long)cases[i].m1, (long long)cases[i].m2,
                 (long long)cases[i].out, cases[i].s, cases[i].s, cases[i].stride);
        rv_status st = rv_concat_build(&u, dev, cases[i].n, cases[i].s, cases[i].c, cases[i].m1,
                                       cases[i].m2, cases[i].out, cases[i].stride, 40 + i);
        CHECK_OK(st);
        if (st != RV_OK) continue;
        CHECK_OK(rv_test_fill_nan(&u.y));
        CHECK_OK(rv_test_fill_nan(&u.yf));
        CHECK_OK(rv_concat_forward(&u));
        CHECK_OK(rv_concat_fused(&u));
        CHECK_CLOSE(what, &u.yf, &u.y, RV_TOL_FP32);
        rv_concat_free(&u);
    }
    rv_concat_unit u;
    CHECK(rv_concat_build(&u, dev, 1, 5, 3, 0, 2, 3, 1, 1) == RV_EINVAL,
          "a branch of 0 channels accepted");
    return rv_test_finish("test_concat");
}
