/* test_reparam.c - each rewrite computes the same function as what it replaces.
 *
 * conv+BN fusion (with and without the conv's own bias, groups 1 and 2),
 * 1x1 -> 3x3 padding at stride 1 and 2, and the identity kernel at groups
 * 1, 2 and 4 (bit-exact on integers). Forward passes run on --device.
 */
#include "rv_ops.h"
#include "rv_reparam.h"
#include "rv_test.h"

static void test_fuse_conv_bn(rv_device dev, int with_bias, int groups, rv_rng *rng)
{
    rv_tensor hx, hw, hb, x, w, b, t, y_bn, wf, bf, dwf, dbf, y_f;
    rv_bn bn;
    rv_conv_params p = {.stride = 1, .pad_h = 1, .pad_w = 1, .groups = groups};
    CHECK_OK(rv_tensor_alloc4(&hx, RV_CPU, 2, 4, 9, 7, "x"));
    CHECK_OK(rv_tensor_alloc4(&hw, RV_CPU, 6, 4 / groups, 3, 3, "w"));
    CHECK_OK(rv_tensor_alloc1(&hb, RV_CPU, 6, "b"));
    rv_tensor_fill_uniform(&hx, rng, -1, 1);
    rv_tensor_fill_uniform(&hw, rng, -1, 1);
    rv_tensor_fill_uniform(&hb, rng, -1, 1);
    CHECK_OK(rv_bn_alloc(&bn, 6));
    CHECK_OK(rv_bn_randomize(&bn, rng));
    CHECK_OK(rv_bn_prepare(&bn, dev));
    CHECK_OK(rv_tensor_clone(&x, &hx, dev, "x"));
    CHECK_OK(rv_tensor_clone(&w, &hw, dev, "w"));
    CHECK_OK(rv_tensor_clone(&b, &hb, dev, "b"));
    CHECK_OK(rv_tensor_alloc4(&t, dev, 2, 6, 9, 7, "conv out"));
    CHECK_OK(rv_tensor_alloc4(&y_bn, dev, 2, 6, 9, 7, "bn out"));
    CHECK_OK(rv_conv2d(&x, &w, with_bias ? &b : NULL, p, &t));
    CHECK_OK(rv_batchnorm(&t, &bn, &y_bn));

    CHECK_OK(rv_tensor_alloc4(&wf, RV_CPU, 6, 4 / groups, 3, 3, "w fused"));
    CHECK_OK(rv_tensor_alloc1(&bf, RV_CPU, 6, "b fused"));
    CHECK_OK(rv_fuse_conv_bn(&hw, with_bias ? &hb : NULL, &bn, &wf, &bf));
    CHECK_OK(rv_tensor_clone(&dwf, &wf, dev, "w fused"));
    CHECK_OK(rv_tensor_clone(&dbf, &bf, dev, "b fused"));
    CHECK_OK(rv_tensor_alloc4(&y_f, dev, 2, 6, 9, 7, "fused out"));
    CHECK_OK(rv_conv2d(&x, &dwf, &dbf, p, &y_f));
    char what[64];
    snprintf(what, sizeof what, "fuse conv+bn, %s bias, groups %d", with_bias ? "with" : "no",
             groups);
    CHECK_CLOSE(what, &y_f, &y_bn, RV_TOL_FP32);
    rv_tensor *all[13] = {&hx, &hw, &hb, &x, &w, &b, &t, &y_bn, &wf, &bf, &dwf, &dbf, &y_f};
    for (int i = 0; i < 13; i++) rv_tensor_free(all[i]);
    rv_bn_free(&bn);
}

static void test_pad_1x1(rv_device dev, int stride, rv_rng *rng)
{
    rv_tensor hx, hw, x, w1, w3, y1, y3;
    CHECK_OK(rv_tensor_alloc4(&hx, RV_CPU, 2, 3, 7, 7, "x"));
    CHECK_OK(rv_tensor_alloc4(&hw, RV_CPU, 5, 3, 1, 1, "w1x1"));
    rv_tensor_fill_int(&hx, rng, -3, 3);
    rv_tensor_fill_int(&hw, rng, -3, 3);
    CHECK_OK(rv_tensor_clone(&x, &hx, dev, "x"));
    CHECK_OK(rv_tensor_clone(&w1, &hw, dev, "w1x1"));
    CHECK_OK(rv_tensor_alloc4(&w3, dev, 5, 3, 3, 3, "w3x3"));
    CHECK_OK(rv_pad_kernel(&w1, &w3));
    int64_t P = (7 - 1) / stride + 1;
    CHECK_OK(rv_tensor_alloc4(&y1, dev, 2, 5, P, P, "y 1x1"));
    CHECK_OK(rv_tensor_alloc4(&y3, dev, 2, 5, P, P, "y 3x3"));
    CHECK_OK(rv_conv2d(&x, &w1, NULL,
                       (rv_conv_params){.stride = stride, .pad_h = 0, .pad_w = 0, .groups = 1},
                       &y1));
    CHECK_OK(rv_conv2d(&x, &w3, NULL,
                       (rv_conv_params){.stride = stride, .pad_h = 1, .pad_w = 1, .groups = 1},
                       &y3));
    char what[64];
    snprintf(what, sizeof what, "1x1 pad 0 == padded 3x3 pad 1, stride %d", stride);
    CHECK_CLOSE(what, &y3, &y1, RV_TOL_EXACT);
    rv_tensor *all[7] = {&hx, &hw, &x, &w1, &w3, &y1, &y3};
    for (int i = 0; i < 7; i++) rv_tensor_free(all[i]);
}

static void test_identity(rv_device dev, int groups, rv_rng *rng)
{
    rv_tensor hx, hw, x, w, y;
    CHECK_OK(rv_tensor_alloc4(&hx, RV_CPU, 2, 8, 5, 7, "x"));
    rv_tensor_fill_int(&hx, rng, -9, 9);
    CHECK_OK(rv_tensor_alloc4(&hw, RV_CPU, 8, 8 / groups, 3, 3, "identity"));
    CHECK_OK(rv_identity_kernel(groups, &hw));
    CHECK_OK(rv_tensor_clone(&x, &hx, dev, "x"));
    CHECK_OK(rv_tensor_clone(&w, &hw, dev, "identity"));
    CHECK_OK(rv_tensor_alloc4(&y, dev, 2, 8, 5, 7, "y"));
    CHECK_OK(rv_conv2d(
        &x, &w, NULL, (rv_conv_params){.stride = 1, .pad_h = 1, .pad_w = 1, .groups = groups}, &y));
    char what[64];
    snprintf(what, sizeof what, "identity kernel, groups %d", groups);
    CHECK_CLOSE(what, &y, &hx, RV_TOL_EXACT);
    rv_tensor *all[5] = {&hx, &hw, &x, &w, &y};
    for (int i = 0; i < 5; i++) rv_tensor_free(all[i]);
}

int main(int argc, char **argv)
{
    rv_device dev;
    int rc = rv_test_init(argc, argv, "test_reparam --device cpu|cuda: the rewrites", &dev);
    if (rc >= 0) return rc;
    rv_rng rng = rv_rng_seed(11);
    for (int g = 1; g <= 2; g++) {
        test_fuse_conv_bn(dev, 0, g, &rng);
        test_fuse_conv_bn(dev, 1, g, &rng);
    }
    test_pad_1x1(dev, 1, &rng);
    test_pad_1x1(dev, 2, &rng);
    for (int g = 1; g <= 4; g *= 2) test_identity(dev, g, &rng);
    return rv_test_finish("test_reparam");
}
