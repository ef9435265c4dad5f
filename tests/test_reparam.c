/* test_reparam.c - each rewrite computes the same function as what it replaces.
 *
 * conv+BN fusion (with and without the conv's own bias, groups 1 and 2),
 * 1x1, 1x3 and 3x1 kernels centred in 3x3 at stride 1 and 2, the sum of
 * two convs, and the identity kernel at groups 1, 2 and 4 (bit-exact on
 * integers); an average pool as a conv, a 1x1 conv then a 3x3 conv merged
 * (stride 1 and 2, groups 1 and 2), convs concatenated. Forward passes run
 * on --device.
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

/* A kh x kw conv (padding 1 - (3 - kh) / 2 x 1 - (3 - kw) / 2) against its kernel
 * centred in a 3x3 (padding 1): 1x1, 1x3 and 3x1, bit-exact on integers. */
static void test_pad(rv_device dev, int kh, int kw, int stride, rv_rng *rng)
{
    rv_tensor hx, hw, h3, x, w, w3, y, y3;
    CHECK_OK(rv_tensor_alloc4(&hx, RV_CPU, 2, 3, 7, 6, "x"));
    CHECK_OK(rv_tensor_alloc4(&hw, RV_CPU, 5, 3, kh, kw, "small kernel"));
    rv_tensor_fill_int(&hx, rng, -3, 3);
    rv_tensor_fill_int(&hw, rng, -3, 3);
    CHECK_OK(rv_tensor_alloc4(&h3, RV_CPU, 5, 3, 3, 3, "w3x3"));
    CHECK_OK(rv_pad_kernel(&hw, &h3));
    CHECK_OK(rv_tensor_clone(&x, &hx, dev, "x"));
    CHECK_OK(rv_tensor_clone(&w, &hw, dev, "small kernel"));
    CHECK_OK(rv_tensor_clone(&w3, &h3, dev, "w3x3"));
    int64_t P = (7 - 1) / stride + 1, Q = (6 - 1) / stride + 1;
    CHECK_OK(rv_tensor_alloc4(&y, dev, 2, 5, P, Q, "y small"));
    CHECK_OK(rv_tensor_alloc4(&y3, dev, 2, 5, P, Q, "y 3x3"));
    rv_conv_params p = {
        .stride = stride, .pad_h = 1 - (3 - kh) / 2, .pad_w = 1 - (3 - kw) / 2, .groups = 1};
    CHECK_OK(rv_conv2d(&x, &w, NULL, p, &y));
    p.pad_h = p.pad_w = 1;
    CHECK_OK(rv_conv2d(&x, &w3, NULL, p, &y3));
    char what[64];
    snprintf(what, sizeof what, "%dx%d == centred in 3x3, stride %d", kh, kw, stride);
    CHECK_CLOSE(what, &y3, &y, RV_TOL_EXACT);
    CHECK(rv_pad_kernel(&h3, &hw) == RV_EINVAL || (kh == 3 && kw == 3),
          "a 3x3 kernel centred in a smaller one accepted");
    rv_tensor odd;
    CHECK_OK(rv_tensor_alloc4(&odd, RV_CPU, 5, 3, 2, 3, "w2x3"));
    CHECK(rv_pad_kernel(&hw, &odd) == RV_EINVAL || kh == 2, "an odd difference accepted");
    rv_tensor *all[9] = {&hx, &hw, &h3, &x, &w, &w3, &y, &y3, &odd};
    for (int i = 0; i < 9; i++) rv_tensor_free(all[i]);
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

/* conv(x, W1) + b1 + conv(x, W2) + b2 == conv(x, W1 + W2) + (b1 + b2), exact
 * on integers, also summed in place */
static void test_sum(rv_device dev, rv_rng *rng)
{
    rv_tensor h[6], d[6], x, y1, y2, y;
    int64_t wd[4] = {4, 3, 3, 3};
    for (int i = 0; i < 6; i++) {
        CHECK_OK(i % 2 ? rv_tensor_alloc1(&h[i], RV_CPU, 4, "bias")
                       : rv_tensor_alloc(&h[i], RV_CPU, 4, wd, "weight"));
        rv_tensor_fill_int(&h[i], rng, -3, 3);
    }
    CHECK_OK(rv_sum_convs(&h[0], &h[1], &h[2], &h[3], &h[4], &h[5]));
    CHECK_OK(rv_tensor_alloc4(&x, RV_CPU, 2, 3, 6, 5, "x"));
    rv_tensor_fill_int(&x, rng, -3, 3);
    rv_tensor dx;
    CHECK_OK(rv_tensor_clone(&dx, &x, dev, "x"));
    for (int i = 0; i < 6; i++) CHECK_OK(rv_tensor_clone(&d[i], &h[i], dev, "weights"));
    rv_conv_params p = {.stride = 1, .pad_h = 1, .pad_w = 1, .groups = 1};
    rv_tensor *ys[3] = {&y1, &y2, &y};
    for (int i = 0; i < 3; i++) {
        CHECK_OK(rv_tensor_alloc4(ys[i], dev, 2, 4, 6, 5, "y"));
        CHECK_OK(rv_conv2d(&dx, &d[2 * i], &d[2 * i + 1], p, ys[i]));
    }
    CHECK_OK(rv_add(&y1, &y2, &y1));
    CHECK_CLOSE("sum of two convs == one conv of the summed weights", &y, &y1, RV_TOL_EXACT);
    CHECK_OK(rv_sum_convs(&h[0], &h[1], &h[2], &h[3], &h[0], &h[1])); /* in place */
    CHECK_CLOSE("summed in place", &h[0], &h[4], RV_TOL_EXACT);
    CHECK(rv_sum_convs(&h[0], &h[1], &h[2], &h[3], &h[4], &h[0]) == RV_EINVAL,
          "a weight passed as the bias accepted");
    for (int i = 0; i < 6; i++) {
        rv_tensor_free(&h[i]);
        rv_tensor_free(&d[i]);
    }
    rv_tensor *rest[5] = {&x, &dx, &y1, &y2, &y};
    for (int i = 0; i < 5; i++) rv_tensor_free(rest[i]);
}

/* A 3x3 average pool (padding 1, its zeros counted) == a conv with
 * rv_avgpool_kernel, stride 1 and 2, groups 1 and 2 */
static void test_avgpool(rv_device dev, int stride, int groups, rv_rng *rng)
{
    rv_tensor hx, hw, x, w, yp, yc;
    CHECK_OK(rv_tensor_alloc4(&hx, RV_CPU, 2, 4, 7, 6, "x"));
    rv_tensor_fill_uniform(&hx, rng, -1, 1);
    CHECK_OK(rv_tensor_alloc4(&hw, RV_CPU, 4, 4 / groups, 3, 3, "pool kernel"));
    CHECK_OK(rv_avgpool_kernel(groups, &hw));
    CHECK_OK(rv_tensor_clone(&x, &hx, dev, "x"));
    CHECK_OK(rv_tensor_clone(&w, &hw, dev, "pool kernel"));
    rv_conv_params p = {.stride = stride, .pad_h = 1, .pad_w = 1, .groups = groups};
    int64_t P = (7 - 1) / stride + 1, Q = (6 - 1) / stride + 1;
    CHECK_OK(rv_tensor_alloc4(&yp, dev, 2, 4, P, Q, "pooled"));
    CHECK_OK(rv_tensor_alloc4(&yc, dev, 2, 4, P, Q, "conv"));
    rv_pool_params pool = {.kh = 3, .kw = 3, .stride = stride, .pad_h = 1, .pad_w = 1};
    CHECK_OK(rv_avgpool2d(&x, pool, &yp));
    CHECK_OK(rv_conv2d(&x, &w, NULL, p, &yc));
    char what[64];
    snprintf(what, sizeof what, "3x3 average pool == conv, stride %d, groups %d", stride, groups);
    CHECK_CLOSE(what, &yc, &yp, RV_TOL_FP32);
    rv_tensor *all[6] = {&hx, &hw, &x, &w, &yp, &yc};
    for (int i = 0; i < 6; i++) rv_tensor_free(all[i]);
}

/* conv3x3(pad_border(conv1x1(x) + b1, b1)) + b2 == one 3x3 conv
 * (rv_merge_1x1_kxk), stride on the 3x3, groups on both */
static void test_merge(rv_device dev, int stride, int groups, rv_rng *rng)
{
    enum { N = 2, C = 4, M = 6, O = 4, H = 7, W = 6 };
    rv_tensor h1, hb1, h2, hb2, hw, hb, hx;
    CHECK_OK(rv_tensor_alloc4(&h1, RV_CPU, M, C / groups, 1, 1, "w1"));
    CHECK_OK(rv_tensor_alloc1(&hb1, RV_CPU, M, "b1"));
    CHECK_OK(rv_tensor_alloc4(&h2, RV_CPU, O, M / groups, 3, 3, "w2"));
    CHECK_OK(rv_tensor_alloc1(&hb2, RV_CPU, O, "b2"));
    CHECK_OK(rv_tensor_alloc4(&hw, RV_CPU, O, C / groups, 3, 3, "merged"));
    CHECK_OK(rv_tensor_alloc1(&hb, RV_CPU, O, "merged bias"));
    CHECK_OK(rv_tensor_alloc4(&hx, RV_CPU, N, C, H, W, "x"));
    rv_tensor *fill[5] = {&h1, &hb1, &h2, &hb2, &hx};
    for (int i = 0; i < 5; i++) rv_tensor_fill_uniform(fill[i], rng, -1, 1);
    CHECK_OK(rv_merge_1x1_kxk(&h1, &hb1, &h2, &hb2, groups, &hw, &hb));
    rv_tensor d[7], mid, padded, y, ym;
    rv_tensor *src[7] = {&h1, &hb1, &h2, &hb2, &hw, &hb, &hx};
    for (int i = 0; i < 7; i++) CHECK_OK(rv_tensor_clone(&d[i], src[i], dev, "copy"));
    int64_t P = (H - 1) / stride + 1, Q = (W - 1) / stride + 1;
    CHECK_OK(rv_tensor_alloc4(&mid, dev, N, M, H, W, "middle"));
    CHECK_OK(rv_tensor_alloc4(&padded, dev, N, M, H + 2, W + 2, "padded middle"));
    CHECK_OK(rv_tensor_alloc4(&y, dev, N, O, P, Q, "two convs"));
    CHECK_OK(rv_tensor_alloc4(&ym, dev, N, O, P, Q, "merged conv"));
    CHECK_OK(rv_conv2d(&d[6], &d[0], &d[1], (rv_conv_params){.stride = 1, .groups = groups}, &mid));
    CHECK_OK(rv_pad_border(&mid, 1, 1, &d[1], &padded));
    CHECK_OK(
        rv_conv2d(&padded, &d[2], &d[3], (rv_conv_params){.stride = stride, .groups = groups}, &y));
    CHECK_OK(rv_conv2d(&d[6], &d[4], &d[5],
                       (rv_conv_params){.stride = stride, .pad_h = 1, .pad_w = 1, .groups = groups},
                       &ym));
    char what[80];
    snprintf(what, sizeof what, "1x1 then 3x3 (border = b1) == merged, stride %d, groups %d",
             stride, groups);
    CHECK_CLOSE(what, &ym, &y, RV_TOL_FP32);
    for (int i = 0; i < 7; i++) {
        rv_tensor_free(src[i]);
        rv_tensor_free(&d[i]);
    }
    rv_tensor *rest[4] = {&mid, &padded, &y, &ym};
    for (int i = 0; i < 4; i++) rv_tensor_free(rest[i]);
}

/* Two convs of one input, concatenated along channels, == one conv with the
 * kernels stacked: compared channel block by channel block */
static void test_concat(rv_device dev, rv_rng *rng)
{
    rv_tensor hw[2], hb[2], w, b;
    for (int i = 0; i < 2; i++) {
        CHECK_OK(rv_tensor_alloc4(&hw[i], RV_CPU, 2 + i, 3, 3, 3, "w"));
        CHECK_OK(rv_tensor_alloc1(&hb[i], RV_CPU, 2 + i, "b"));
        rv_tensor_fill_int(&hw[i], rng, -3, 3);
        rv_tensor_fill_int(&hb[i], rng, -3, 3);
    }
    CHECK_OK(rv_tensor_alloc4(&w, RV_CPU, 5, 3, 3, 3, "concatenated"));
    CHECK_OK(rv_tensor_alloc1(&b, RV_CPU, 5, "concatenated bias"));
    const rv_tensor *ws[2] = {&hw[0], &hw[1]}, *bs[2] = {&hb[0], &hb[1]};
    CHECK_OK(rv_concat_kernels(ws, bs, 2, &w, &b));
    rv_tensor hx, x, dw, db, y, yi, dwi, dbi;
    CHECK_OK(rv_tensor_alloc4(&hx, RV_CPU, 1, 3, 5, 5, "x"));
    rv_tensor_fill_int(&hx, rng, -3, 3);
    CHECK_OK(rv_tensor_clone(&x, &hx, dev, "x"));
    CHECK_OK(rv_tensor_clone(&dw, &w, dev, "w"));
    CHECK_OK(rv_tensor_clone(&db, &b, dev, "b"));
    rv_conv_params p = {.stride = 1, .pad_h = 1, .pad_w = 1, .groups = 1};
    CHECK_OK(rv_tensor_alloc4(&y, dev, 1, 5, 5, 5, "y"));
    CHECK_OK(rv_conv2d(&x, &dw, &db, p, &y));
    rv_tensor hy;
    CHECK_OK(rv_tensor_clone(&hy, &y, RV_CPU, "y"));
    for (int i = 0, c0 = 0; i < 2; c0 += 2 + i, i++) {
        CHECK_OK(rv_tensor_clone(&dwi, &hw[i], dev, "wi"));
        CHECK_OK(rv_tensor_clone(&dbi, &hb[i], dev, "bi"));
        CHECK_OK(rv_tensor_alloc4(&yi, dev, 1, 2 + i, 5, 5, "yi"));
        CHECK_OK(rv_conv2d(&x, &dwi, &dbi, p, &yi));
        rv_tensor part = {.data = hy.data + c0 * 25, .ndim = 4, .dim = {1, 2 + i, 5, 5}};
        CHECK_CLOSE(i ? "concatenated: second conv's channels"
                      : "concatenated: first conv's "
                        "channels",
                    &part, &yi, RV_TOL_EXACT);
        rv_tensor_free(&dwi);
        rv_tensor_free(&dbi);
        rv_tensor_free(&yi);
    }
    rv_tensor *all[11] = {&hw[0], &hw[1], &hb[0], &hb[1], &w, &b, &hx, &x, &dw, &db, &y};
    for (int i = 0; i < 11; i++) rv_tensor_free(all[i]);
    rv_tensor_free(&hy);
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
    test_pad(dev, 1, 1, 1, &rng);
    test_pad(dev, 1, 1, 2, &rng);
    test_pad(dev, 1, 3, 1, &rng);
    test_pad(dev, 3, 1, 2, &rng);
    test_sum(dev, &rng);
    for (int g = 1; g <= 2; g++) {
        test_avgpool(dev, 1, g, &rng);
        test_avgpool(dev, 2, g, &rng);
        test_merge(dev, 1, g, &rng);
        test_merge(dev, 2, g, &rng);
    }
    test_concat(dev, &rng);
    for (int g = 1; g <= 4; g *= 2) test_identity(dev, g, &rng);
    return rv_test_finish("test_reparam");
}
