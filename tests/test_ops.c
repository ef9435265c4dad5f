/* test_ops.c - batch norm, ReLU, add, border padding, average pooling and the classifier head
 * (global average pooling, linear) against naive formulas.
 *
 * The naive versions here are written from the definitions (BN straight from
 * (x - mean) / sqrt(var + eps) * gamma + beta in float), not from the shared
 * rv_*_elem bodies, so a wrong body or index fails. --device picks where the
 * library op runs; the expectations are always computed on the CPU.
 */
#include <math.h>

#include "rv_ops.h"
#include "rv_test.h"

static void test_batchnorm(rv_device dev, rv_rng *rng)
{
    rv_tensor hx, x, y, expect;
    rv_bn bn;
    CHECK_OK(rv_tensor_alloc4(&hx, RV_CPU, 3, 5, 7, 6, "x"));
    rv_tensor_fill_uniform(&hx, rng, -2.0f, 2.0f);
    CHECK_OK(rv_bn_alloc(&bn, 5));
    CHECK_OK(rv_bn_randomize(&bn, rng));
    bn.var.data[2] = 1e-4f; /* a variance near eps: a lost or doubled eps shows */
    CHECK_OK(rv_bn_prepare(&bn, dev));
    CHECK_OK(rv_tensor_clone(&x, &hx, dev, "x"));
    CHECK_OK(rv_tensor_alloc4(&y, dev, 3, 5, 7, 6, "y"));
    CHECK_OK(rv_tensor_alloc4(&expect, RV_CPU, 3, 5, 7, 6, "expect"));
    for (int64_t i = 0; i < rv_tensor_numel(&hx); i++) {
        int64_t c = (i / 42) % 5;
        expect.data[i] = (hx.data[i] - bn.mean.data[c]) / sqrtf(bn.var.data[c] + (float)bn.eps) *
                             bn.gamma.data[c] +
                         bn.beta.data[c];
    }
    CHECK_OK(rv_batchnorm(&x, &bn, &y));
    CHECK_CLOSE("batchnorm 3x5x7x6", &y, &expect, RV_TOL_FP32);
    rv_tensor wrong;
    CHECK_OK(rv_tensor_alloc4(&wrong, dev, 3, 4, 7, 6, "wrong"));
    CHECK(rv_batchnorm(&wrong, &bn, &wrong) == RV_EINVAL, "channel mismatch accepted");
    rv_tensor_free(&wrong);
    rv_tensor_free(&hx);
    rv_tensor_free(&x);
    rv_tensor_free(&y);
    rv_tensor_free(&expect);
    rv_bn_free(&bn);
}

static void test_relu_add(rv_device dev, rv_rng *rng)
{
    rv_tensor ha, hb, a, b, y, expect;
    CHECK_OK(rv_tensor_alloc4(&ha, RV_CPU, 2, 3, 5, 7, "a"));
    CHECK_OK(rv_tensor_alloc4(&hb, RV_CPU, 2, 3, 5, 7, "b"));
    CHECK_OK(rv_tensor_alloc4(&expect, RV_CPU, 2, 3, 5, 7, "expect"));
    rv_tensor_fill_int(&ha, rng, -4, 4);
    rv_tensor_fill_int(&hb, rng, -4, 4);
    CHECK_OK(rv_tensor_clone(&a, &ha, dev, "a"));
    CHECK_OK(rv_tensor_clone(&b, &hb, dev, "b"));
    CHECK_OK(rv_tensor_alloc4(&y, dev, 2, 3, 5, 7, "y"));
    int64_t n = rv_tensor_numel(&ha);

    for (int64_t i = 0; i < n; i++) expect.data[i] = ha.data[i] + hb.data[i];
    CHECK_OK(rv_add(&a, &b, &y));
    CHECK_CLOSE("add", &y, &expect, RV_TOL_EXACT);

    for (int64_t i = 0; i < n; i++) expect.data[i] = ha.data[i] > 0 ? ha.data[i] : 0.0f;
    CHECK_OK(rv_relu(&a, &a)); /* in place */
    CHECK_CLOSE("relu in place", &a, &expect, RV_TOL_EXACT);

    /* a NaN stays NaN through ReLU (as in PyTorch), on every device */
    ha.data[5] = NAN;
    CHECK_OK(rv_tensor_copy(&a, &ha));
    CHECK_OK(rv_relu(&a, &y));
    CHECK_OK(rv_tensor_copy(&expect, &y));
    CHECK(isnan(expect.data[5]), "relu(NaN) = %g, not NaN", expect.data[5]);

    rv_tensor *all[6] = {&ha, &hb, &a, &b, &y, &expect};
    for (int i = 0; i < 6; i++) rv_tensor_free(all[i]);
}

/* Border padding with per-channel values and a 3x3 average pool (its zeros
 * counted), against loops written from the definitions. */
static void test_pad_pool(rv_device dev, rv_rng *rng)
{
    enum { N = 2, C = 3, H = 5, W = 4 };
    rv_tensor hx, hv, x, v, padded, pooled, ep, eq;
    CHECK_OK(rv_tensor_alloc4(&hx, RV_CPU, N, C, H, W, "x"));
    CHECK_OK(rv_tensor_alloc1(&hv, RV_CPU, C, "value"));
    rv_tensor_fill_int(&hx, rng, -9, 9);
    rv_tensor_fill_int(&hv, rng, 10, 20); /* unlike any pixel, so a misplaced one shows */
    CHECK_OK(rv_tensor_clone(&x, &hx, dev, "x"));
    CHECK_OK(rv_tensor_clone(&v, &hv, dev, "value"));
    CHECK_OK(rv_tensor_alloc4(&padded, dev, N, C, H + 2, W + 4, "padded"));
    CHECK_OK(rv_tensor_alloc4(&ep, RV_CPU, N, C, H + 2, W + 4, "expect padded"));
    for (int64_t n = 0, k = 0; n < N; n++)
        for (int64_t c = 0; c < C; c++)
            for (int64_t h = -1; h < H + 1; h++)
                for (int64_t w = -2; w < W + 2; w++, k++)
                    ep.data[k] = h < 0 || h >= H || w < 0 || w >= W
                                     ? hv.data[c]
                                     : hx.data[((n * C + c) * H + h) * W + w];
    CHECK_OK(rv_pad_border(&x, 1, 2, &v, &padded));
    CHECK_CLOSE("pad border 1 x 2 with per-channel values", &padded, &ep, RV_TOL_EXACT);
    rv_pool_params p = {.kh = 3, .kw = 3, .stride = 2, .pad_h = 1, .pad_w = 1};
    int64_t P = (H + 2 - 3) / 2 + 1, Q = (W + 2 - 3) / 2 + 1;
    CHECK_OK(rv_tensor_alloc4(&pooled, dev, N, C, P, Q, "pooled"));
    CHECK_OK(rv_tensor_alloc4(&eq, RV_CPU, N, C, P, Q, "expect pooled"));
    for (int64_t nc = 0, k = 0; nc < N * C; nc++)
        for (int64_t i = 0; i < P; i++)
            for (int64_t j = 0; j < Q; j++, k++) {
                float sum = 0.0f;
                for (int64_t h = 2 * i - 1; h <= 2 * i + 1; h++)
                    for (int64_t w = 2 * j - 1; w <= 2 * j + 1; w++)
                        if (h >= 0 && h < H && w >= 0 && w < W)
                            sum += hx.data[(nc * H + h) * W + w];
                eq.data[k] = sum / 9.0f;
            }
    CHECK_OK(rv_avgpool2d(&x, p, &pooled));
    CHECK_CLOSE("3x3 average pool, stride 2, padding counted", &pooled, &eq, RV_TOL_FP32);
    CHECK(rv_avgpool2d(&x, p, &padded) == RV_EINVAL, "a wrongly shaped pool output accepted");
    CHECK(rv_pad_border(&x, 1, 1, &v, &padded) == RV_EINVAL, "a wrongly shaped border accepted");
    rv_tensor *all[8] = {&hx, &hv, &x, &v, &padded, &pooled, &ep, &eq};
    for (int i = 0; i < 8; i++) rv_tensor_free(all[i]);
}

/* Global average pooling then linear, against sums written out here. */
static void test_head(rv_device dev, rv_rng *rng)
{
    enum { N = 3, C = 5, HW = 6, M = 4 };
    rv_tensor hx, hw, hb, x, w, b, pooled, y;
    int64_t pdim[2] = {N, C}, wdim[2] = {M, C}, ydim[2] = {N, M};
    CHECK_OK(rv_tensor_alloc4(&hx, RV_CPU, N, C, 2, 3, "x"));
    CHECK_OK(rv_tensor_alloc(&hw, RV_CPU, 2, wdim, "w"));
    CHECK_OK(rv_tensor_alloc1(&hb, RV_CPU, M, "b"));
    rv_tensor_fill_int(&hx, rng, -5, 5);
    rv_tensor_fill_int(&hw, rng, -3, 3);
    rv_tensor_fill_int(&hb, rng, -3, 3);
    float expect_pool[N * C], expect_y[N * M];
    for (int i = 0; i < N * C; i++) {
        float sum = 0;
        for (int k = 0; k < HW; k++) sum += hx.data[i * HW + k];
        expect_pool[i] = sum / HW;
    }
    for (int n = 0; n < N; n++)
        for (int m = 0; m < M; m++) {
            double acc = hb.data[m];
            for (int c = 0; c < C; c++) acc += (double)expect_pool[n * C + c] * hw.data[m * C + c];
            expect_y[n * M + m] = (float)acc;
        }
    CHECK_OK(rv_tensor_clone(&x, &hx, dev, "x"));
    CHECK_OK(rv_tensor_clone(&w, &hw, dev, "w"));
    CHECK_OK(rv_tensor_clone(&b, &hb, dev, "b"));
    CHECK_OK(rv_tensor_alloc(&pooled, dev, 2, pdim, "pooled"));
    CHECK_OK(rv_tensor_alloc(&y, dev, 2, ydim, "y"));
    CHECK_OK(rv_global_avgpool(&x, &pooled));
    CHECK_OK(rv_linear(&pooled, &w, &b, &y));
    rv_tensor ep = {.data = expect_pool, .ndim = 2, .dim = {N, C}};
    rv_tensor ey = {.data = expect_y, .ndim = 2, .dim = {N, M}};
    CHECK_CLOSE("global average pool", &pooled, &ep, RV_TOL_FP32);
    CHECK_CLOSE("linear", &y, &ey, RV_TOL_FP32);
    CHECK(rv_linear(&x, &w, &b, &y) == RV_EINVAL, "rank-4 input to linear accepted");
    rv_tensor *all[8] = {&hx, &hw, &hb, &x, &w, &b, &pooled, &y};
    for (int i = 0; i < 8; i++) rv_tensor_free(all[i]);
}

int main(int argc, char **argv)
{
    rv_device dev;
    int rc = rv_test_init(
        argc, argv, "test_ops --device cpu|cuda: BN, ReLU, add, border padding, pooling, head",
        &dev);
    if (rc >= 0) return rc;
    rv_rng rng = rv_rng_seed(7);
    test_batchnorm(dev, &rng);
    test_relu_add(dev, &rng);
    test_pad_pool(dev, &rng);
    test_head(dev, &rng);
    return rv_test_finish("test_ops");
}
