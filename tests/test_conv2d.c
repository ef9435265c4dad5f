/* test_conv2d.c - conv2d against the naive reference.
 *
 * --device cpu:  im2col + OpenBLAS against rv_conv2d_ref; im2col with the
 *                weights packed for each kernel this CPU runs; Winograd
 *                F(2x2, 3x3) and F(4x4, 3x3) for the shapes they apply to
 *                (3x3, stride 1, pad 1, one group), also in several chunks
 *                of images; each prepared path again on a workspace of
 *                exactly rv_conv2d_workspace_bytes (a plan's), and refused on
 *                one a float short.
 * --device cuda: im2col + cuBLAS against rv_conv2d_ref, also with the column
 *                budget (rv_conv_exec.cuda_col_bytes) lowered so that a batch
 *                runs in chunks of one image, then of two.
 * Both: TF32 against FP32 (test_tf32; on the CPU with TF32 emulated).
 * Shapes that make index bugs visible: odd sizes, C=3, K=5, stride 2, padding
 * 0/1/2, groups 2 and 4, batch > 1, bias or not, ReLU; depthwise convs
 * (groups == C == O, the CPU's direct loop) of every kernel shape its sweeps
 * tell apart, strides 1 to 3. Each shape runs twice:
 * with small integers (every product and sum exact in float, so the result
 * must be bit-identical; F(4x4), whose transforms divide by 3, to RV_TOL_FP32)
 * and with uniform floats (RV_TOL_FP32).
 */
#include <string.h>

#include "rv_gemm.h"
#include "rv_ops.h"
#include "rv_test.h"
#include "rv_winograd.h"
#ifdef RV_HAVE_CUDA
#include "rv_cuda.h"
#endif

typedef struct {
    int64_t n, c, h, w; /* input */
    int64_t o, kh, kw;  /* weight (o, c / groups, kh, kw) */
    int stride, pad_h, pad_w, groups, bias, relu;
} conv_case;

/* clang-format off */
static const conv_case cases[] = {
    {.n = 2, .c = 3, .h = 7, .w = 7, .o = 5, .kh = 3, .kw = 3,
     .stride = 1, .pad_h = 1, .pad_w = 1, .groups = 1, .bias = 1},
    {.n = 1, .c = 4, .h = 9, .w = 7, .o = 8, .kh = 3, .kw = 3,
     .stride = 2, .pad_h = 1, .pad_w = 1, .groups = 2},
    {.n = 3, .c = 8, .h = 5, .w = 6, .o = 8, .kh = 1, .kw = 1,
     .stride = 1, .pad_h = 0, .pad_w = 0, .groups = 4, .bias = 1},
    {.n = 2, .c = 6, .h = 8, .w = 8, .o = 4, .kh = 5, .kw = 5,
     .stride = 2, .pad_h = 2, .pad_w = 2, .groups = 2, .bias = 1, .relu = 1},
    {.n = 1, .c = 3, .h = 7, .w = 7, .o = 5, .kh = 1, .kw = 1,
     .stride = 2, .pad_h = 0, .pad_w = 0, .groups = 1, .bias = 1},
    {.n = 2, .c = 8, .h = 7, .w = 7, .o = 8, .kh = 3, .kw = 3,
     .stride = 1, .pad_h = 0, .pad_w = 0, .groups = 4, .relu = 1},
    {.n = 1, .c = 16, .h = 14, .w = 14, .o = 32, .kh = 3, .kw = 3,
     .stride = 2, .pad_h = 1, .pad_w = 1, .groups = 1, .bias = 1, .relu = 1},
    {.n = 4, .c = 5, .h = 3, .w = 3, .o = 7, .kh = 3, .kw = 3,
     .stride = 1, .pad_h = 1, .pad_w = 1, .groups = 1, .bias = 1},
    {.n = 1, .c = 16, .h = 14, .w = 14, .o = 32, .kh = 3, .kw = 3,
     .stride = 1, .pad_h = 1, .pad_w = 1, .groups = 1, .bias = 1, .relu = 1},
    /* 4 x 4 tiles of F(4x4) on planes of 13 and 16 rows and columns: the
     * edges of winograd.c's gather in registers */
    {.n = 2, .c = 8, .h = 13, .w = 16, .o = 8, .kh = 3, .kw = 3,
     .stride = 1, .pad_h = 1, .pad_w = 1, .groups = 1, .bias = 1, .relu = 1},
    {.n = 1, .c = 5, .h = 16, .w = 13, .o = 3, .kh = 3, .kw = 3,
     .stride = 1, .pad_h = 1, .pad_w = 1, .groups = 1},
    {.n = 3, .c = 6, .h = 1, .w = 1, .o = 4, .kh = 3, .kw = 3,
     .stride = 1, .pad_h = 1, .pad_w = 1, .groups = 1, .relu = 1},
    {.n = 2, .c = 4, .h = 2, .w = 5, .o = 6, .kh = 3, .kw = 3,
     .stride = 1, .pad_h = 1, .pad_w = 1, .groups = 1, .bias = 1, .relu = 1},
    {.n = 1, .c = 7, .h = 8, .w = 15, .o = 9, .kh = 3, .kw = 3,
     .stride = 1, .pad_h = 1, .pad_w = 1, .groups = 1, .bias = 1},
    /* kernels and padding that differ along height and width (ACNet's 1x3
     * and 3x1 branches, a 5x3 kernel), also strided and grouped */
    {.n = 2, .c = 4, .h = 6, .w = 7, .o = 6, .kh = 1, .kw = 3,
     .stride = 1, .pad_h = 0, .pad_w = 1, .groups = 1, .bias = 1},
    {.n = 1, .c = 6, .h = 7, .w = 5, .o = 4, .kh = 3, .kw = 1,
     .stride = 2, .pad_h = 1, .pad_w = 0, .groups = 2, .relu = 1},
    {.n = 2, .c = 3, .h = 9, .w = 8, .o = 5, .kh = 5, .kw = 3,
     .stride = 2, .pad_h = 2, .pad_w = 1, .groups = 1, .bias = 1, .relu = 1},
    {.n = 1, .c = 8, .h = 5, .w = 9, .o = 8, .kh = 3, .kw = 3,
     .stride = 1, .pad_h = 0, .pad_w = 2, .groups = 4, .bias = 1},
    /* depthwise (groups == C == O: the CPU's direct loop, depthwise.c): the
     * 3x3 sweep, the kernel-row sweep (1x1, 5x5, 1x3, 7x7), the tap-by-tap
     * one (a 3x9); strides 1, 2 and 3, padding apart per axis and none,
     * odd sizes, an output narrower than one vector and one wider */
    {.n = 2, .c = 6, .h = 7, .w = 9, .o = 6, .kh = 3, .kw = 3,
     .stride = 1, .pad_h = 1, .pad_w = 1, .groups = 6, .bias = 1, .relu = 1},
    {.n = 3, .c = 5, .h = 9, .w = 8, .o = 5, .kh = 3, .kw = 3,
     .stride = 2, .pad_h = 1, .pad_w = 1, .groups = 5, .bias = 1},
    {.n = 2, .c = 4, .h = 6, .w = 11, .o = 4, .kh = 3, .kw = 3,
     .stride = 2, .pad_h = 0, .pad_w = 2, .groups = 4, .relu = 1},
    {.n = 1, .c = 3, .h = 5, .w = 37, .o = 3, .kh = 3, .kw = 3,
     .stride = 1, .pad_h = 2, .pad_w = 0, .groups = 3, .bias = 1},
    {.n = 2, .c = 3, .h = 8, .w = 9, .o = 3, .kh = 3, .kw = 3,
     .stride = 1, .pad_h = 0, .pad_w = 0, .groups = 3, .bias = 1},
    {.n = 1, .c = 4, .h = 7, .w = 5, .o = 4, .kh = 3, .kw = 3,
     .stride = 1, .pad_h = 0, .pad_w = 1, .groups = 4, .relu = 1},
    {.n = 2, .c = 7, .h = 5, .w = 5, .o = 7, .kh = 1, .kw = 1,
     .stride = 1, .pad_h = 0, .pad_w = 0, .groups = 7, .bias = 1},
    {.n = 2, .c = 4, .h = 7, .w = 6, .o = 4, .kh = 1, .kw = 1,
     .stride = 2, .pad_h = 1, .pad_w = 0, .groups = 4, .relu = 1},
    {.n = 2, .c = 3, .h = 9, .w = 7, .o = 3, .kh = 5, .kw = 5,
     .stride = 1, .pad_h = 2, .pad_w = 2, .groups = 3, .bias = 1, .relu = 1},
    {.n = 1, .c = 4, .h = 11, .w = 10, .o = 4, .kh = 5, .kw = 5,
     .stride = 2, .pad_h = 2, .pad_w = 1, .groups = 4, .bias = 1},
    {.n = 2, .c = 5, .h = 6, .w = 9, .o = 5, .kh = 1, .kw = 3,
     .stride = 1, .pad_h = 0, .pad_w = 1, .groups = 5, .bias = 1},
    {.n = 1, .c = 2, .h = 13, .w = 12, .o = 2, .kh = 7, .kw = 7,
     .stride = 3, .pad_h = 3, .pad_w = 2, .groups = 2, .bias = 1, .relu = 1},
    {.n = 2, .c = 3, .h = 7, .w = 23, .o = 3, .kh = 3, .kw = 9,
     .stride = 2, .pad_h = 1, .pad_w = 4, .groups = 3, .bias = 1},
};
/* clang-format on */

/* The conv of e again on a workspace of exactly rv_conv2d_workspace_bytes
 * (a plan's): the same result; one float less is refused, not overrun. */
static void exact_workspace(const rv_tensor *x, const rv_tensor *w, const rv_tensor *b,
                            rv_conv_params p, const rv_conv_exec *e, rv_tensor *y,
                            const rv_tensor *y_ref, const char *what)
{
    size_t bytes = rv_conv2d_workspace_bytes(x, w, p, e);
    if (!bytes) return; /* this path needs none */
    rv_tensor ws;
    CHECK_OK(rv_tensor_alloc1(&ws, x->device, (int64_t)(bytes / sizeof(float)), "workspace"));
    rv_conv_exec mine = *e;
    mine.workspace = &ws;
    CHECK_OK(rv_test_fill_nan(y));
    CHECK_OK(rv_conv2d_run(x, w, b, p, &mine, y));
    char ewhat[300];
    snprintf(ewhat, sizeof ewhat, "%s, on a workspace of exactly %zu bytes", what, bytes);
    CHECK_CLOSE(ewhat, y, y_ref, RV_TOL_FP32);
    ws.dim[0]--; /* the same memory, one float short */
    CHECK(rv_conv2d_run(x, w, b, p, &mine, y) == RV_EINVAL,
          "%s: a workspace one float short was accepted", what);
    ws.dim[0]++;
    rv_tensor_free(&ws);
}

static void run_case(const conv_case *cc, rv_device dev, int integers, uint64_t seed)
{
    rv_rng rng = rv_rng_seed(seed);
    rv_conv_params p = {.stride = cc->stride,
                        .pad_h = cc->pad_h,
                        .pad_w = cc->pad_w,
                        .groups = cc->groups,
                        .relu = cc->relu};
    rv_tensor x, w, b, y_ref, hx, hw, hb, y;
    CHECK_OK(rv_tensor_alloc4(&hx, RV_CPU, cc->n, cc->c, cc->h, cc->w, "x"));
    CHECK_OK(rv_tensor_alloc4(&hw, RV_CPU, cc->o, cc->c / cc->groups, cc->kh, cc->kw, "w"));
    CHECK_OK(rv_tensor_alloc1(&hb, RV_CPU, cc->o, "b"));
    rv_tensor *fill[3] = {&hx, &hw, &hb};
    for (int i = 0; i < 3; i++) {
        if (integers)
            rv_tensor_fill_int(fill[i], &rng, -3, 3);
        else
            rv_tensor_fill_uniform(fill[i], &rng, -1.0f, 1.0f);
    }
    int64_t out[4];
    CHECK_OK(rv_conv2d_shape(&hx, &hw, cc->bias ? &hb : NULL, p, out));
    CHECK_OK(rv_tensor_alloc(&y_ref, RV_CPU, 4, out, "y_ref"));
    CHECK_OK(rv_conv2d_ref(&hx, &hw, cc->bias ? &hb : NULL, p, &y_ref));

    CHECK_OK(rv_tensor_clone(&x, &hx, dev, "x"));
    CHECK_OK(rv_tensor_clone(&w, &hw, dev, "w"));
    CHECK_OK(rv_tensor_clone(&b, &hb, dev, "b"));
    CHECK_OK(rv_tensor_alloc(&y, dev, 4, out, "y"));
    CHECK_OK(rv_conv2d(&x, &w, cc->bias ? &b : NULL, p, &y));
    char what[160];
    snprintf(what, sizeof what, "conv %lldx%lldx%lldx%lld k%lldx%lld s%d p%dx%d g%d%s%s %s",
             (long long)cc->n, (long long)cc->c, (long long)cc->h, (long long)cc->w,
             (long long)cc->kh, (long long)cc->kw, cc->stride, cc->pad_h, cc->pad_w, cc->groups,
             cc->bias ? " bias" : "", cc->relu ? " relu" : "", integers ? "integers" : "floats");
    CHECK_CLOSE(what, &y, &y_ref, integers ? RV_TOL_EXACT : RV_TOL_FP32);
    /* the CUDA conv in several chunks of images: a column budget of one
     * image, then of two (a shorter last chunk where n is odd) */
    int64_t col_floats = cc->c * cc->kh * cc->kw * out[2] * out[3];
    for (int64_t per = 1; dev == RV_CUDA && per <= 2 && per < cc->n; per++) {
        rv_conv_exec e = {.cuda_col_bytes = (size_t)(per * col_floats) * sizeof(float)};
        CHECK_OK(rv_test_fill_nan(&y));
        CHECK_OK(rv_conv2d_run(&x, &w, cc->bias ? &b : NULL, p, &e, &y));
        char cwhat[200];
        snprintf(cwhat, sizeof cwhat, "%s, %lld image(s) a chunk", what, (long long)per);
        CHECK_CLOSE(cwhat, &y, &y_ref, integers ? RV_TOL_EXACT : RV_TOL_FP32);
    }
    /* im2col with the weight packed once, for each kernel this CPU runs;
     * then Winograd, both tiles, its products through each kernel and
     * through OpenBLAS (NULL) */
    static const rv_gemm_choice kernels[3] = {RV_GEMM_AVX512, RV_GEMM_AVX2, RV_GEMM_OPENBLAS};
    for (int g = 0; g < 3; g++) {
        const rv_gemm_kernel *kern;
        if (rv_gemm_kernel_for(kernels[g], &kern) != RV_OK) continue; /* not on this CPU */
        rv_tensor pk;
        CHECK_OK(rv_conv2d_pack(&w, p, kern, &pk));
        if (pk.data) {
            rv_conv_exec e = {.packed = &pk, .gemm = kern};
            CHECK_OK(rv_test_fill_nan(&y)); /* every output written */
            CHECK_OK(rv_conv2d_run(&x, &w, cc->bias ? &b : NULL, p, &e, &y));
            char pwhat[200];
            snprintf(pwhat, sizeof pwhat, "%s, im2col, packed weights (%s)", what,
                     rv_gemm_kernel_name(kern));
            CHECK_CLOSE(pwhat, &y, &y_ref, integers ? RV_TOL_EXACT : RV_TOL_FP32);
            exact_workspace(&x, &w, cc->bias ? &b : NULL, p, &e, &y, &y_ref, pwhat);
            rv_tensor_free(&pk);
        }
        for (int m = 2; dev == RV_CPU && rv_winograd_applies(&w, p) && m <= 4; m += 2) {
            /* F(2x2)'s G has halves only, exact in binary: integers stay exact.
             * F(4x4)'s has sixths: it rounds, within the float tolerance. */
            rv_tol tol = integers && m == 2 ? RV_TOL_EXACT : RV_TOL_FP32;
            rv_tensor u;
            CHECK_OK(rv_winograd_weights(&w, m, kern, &u));
            for (int chunked = 0; chunked < 2; chunked++) {
                /* one image per chunk, or the default budget */
                rv_conv_exec e = {.winograd = &u, .gemm = kern, .winograd_chunk_bytes = chunked};
                CHECK_OK(rv_test_fill_nan(&y)); /* every output written */
                CHECK_OK(rv_conv2d_run(&x, &w, cc->bias ? &b : NULL, p, &e, &y));
                char wwhat[240];
                snprintf(wwhat, sizeof wwhat, "%s, winograd F(%dx%d), %s%s", what, m, m,
                         rv_gemm_kernel_name(kern), chunked ? ", in chunks" : "");
                CHECK_CLOSE(wwhat, &y, &y_ref, tol);
                exact_workspace(&x, &w, cc->bias ? &b : NULL, p, &e, &y, &y_ref, wwhat);
            }
            rv_tensor_free(&u);
        }
    }
    rv_tensor *all[8] = {&x, &w, &b, &y_ref, &hx, &hw, &hb, &y};
    for (int i = 0; i < 8; i++) rv_tensor_free(all[i]);
}

/* TF32 keeps 10 of float32's 23 mantissa bits; this drops the other 13
 * (truncation: twice the error of rounding to nearest, the other conversion
 * tensor cores may use). */
static void truncate_to_tf32(rv_tensor *t)
{
    int64_t n = rv_tensor_numel(t);
    for (int64_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &t->data[i], sizeof u);
        u &= ~(uint32_t)0x1fff;
        memcpy(&t->data[i], &u, sizeof u);
    }
}

/* A conv with TF32 products against the same conv in FP32, large enough
 * (64 channels, 16x16, 3x3: products of 256 x 576 by 576 x 64) for cuBLAS's
 * tensor-core kernels: within RV_TOL_TF32, and outside RV_TOL_FP32 (else TF32
 * was not in effect). On the CPU, TF32 is emulated (inputs truncated to TF32,
 * the product in FP32): the error TF32's inputs alone make, which the
 * tolerance must hold. On CUDA (rv_cuda_set_tf32), switching back gives
 * FP32's result again, bit for bit. */
static void test_tf32(rv_device dev)
{
    rv_rng rng = rv_rng_seed(300);
    rv_conv_params p = {.stride = 1, .pad_h = 1, .pad_w = 1, .groups = 1};
    rv_tensor hx, hw, hb, x, w, b, y32, ytf, h32, htf;
    CHECK_OK(rv_tensor_alloc4(&hx, RV_CPU, 2, 64, 16, 16, "x"));
    CHECK_OK(rv_tensor_alloc4(&hw, RV_CPU, 64, 64, 3, 3, "w"));
    CHECK_OK(rv_tensor_alloc1(&hb, RV_CPU, 64, "b"));
    rv_tensor *fill[3] = {&hx, &hw, &hb};
    for (int i = 0; i < 3; i++) rv_tensor_fill_uniform(fill[i], &rng, -1.0f, 1.0f);
    CHECK_OK(rv_tensor_clone(&x, &hx, dev, "x"));
    CHECK_OK(rv_tensor_clone(&w, &hw, dev, "w"));
    CHECK_OK(rv_tensor_clone(&b, &hb, dev, "b"));
    CHECK_OK(rv_tensor_alloc4(&y32, dev, 2, 64, 16, 16, "FP32 output"));
    CHECK_OK(rv_tensor_alloc4(&ytf, dev, 2, 64, 16, 16, "TF32 output"));
    CHECK_OK(rv_conv2d(&x, &w, &b, p, &y32));
    if (dev == RV_CPU) {
        truncate_to_tf32(&x);
        truncate_to_tf32(&w);
        CHECK_OK(rv_conv2d(&x, &w, &b, p, &ytf));
    }
#ifdef RV_HAVE_CUDA
    if (dev == RV_CUDA) {
        CHECK_OK(rv_cuda_set_tf32(1));
        CHECK_OK(rv_conv2d(&x, &w, &b, p, &ytf));
        CHECK_OK(rv_cuda_set_tf32(0));
        rv_tensor yback;
        CHECK_OK(rv_tensor_alloc4(&yback, dev, 2, 64, 16, 16, "FP32 output again"));
        CHECK_OK(rv_conv2d(&x, &w, &b, p, &yback));
        CHECK_CLOSE("conv 2x64x16x16 k3x3, FP32 again after TF32 vs FP32", &yback, &y32,
                    RV_TOL_EXACT);
        rv_tensor_free(&yback);
    }
#endif
    const char *what = dev == RV_CPU ? "conv 2x64x16x16 k3x3, TF32 (emulated) vs FP32"
                                     : "conv 2x64x16x16 k3x3, TF32 vs FP32";
    CHECK_CLOSE(what, &ytf, &y32, RV_TOL_TF32);
    CHECK_OK(rv_tensor_clone(&htf, &ytf, RV_CPU, "TF32 output"));
    CHECK_OK(rv_tensor_clone(&h32, &y32, RV_CPU, "FP32 output"));
    rv_cmp c = rv_compare(htf.data, h32.data, rv_tensor_numel(&h32), RV_TOL_FP32);
    CHECK(!c.pass, "%s: within FP32's tolerance (rel L2 %.3g): TF32 was not in effect", what,
          c.rel_l2);
    rv_tensor *all[10] = {&hx, &hw, &hb, &x, &w, &b, &y32, &ytf, &h32, &htf};
    for (int i = 0; i < 10; i++) rv_tensor_free(all[i]);
}

static void bad_shapes(rv_device dev)
{
    rv_tensor x, w, y;
    CHECK_OK(rv_tensor_alloc4(&x, dev, 1, 6, 5, 5, "x"));
    CHECK_OK(rv_tensor_alloc4(&w, dev, 4, 4, 3, 3, "w")); /* needs C/groups = 6 */
    CHECK_OK(rv_tensor_alloc4(&y, dev, 1, 4, 5, 5, "y"));
    rv_conv_params p = {.stride = 1, .pad_h = 1, .pad_w = 1, .groups = 1};
    CHECK(rv_conv2d(&x, &w, NULL, p, &y) == RV_EINVAL, "mismatched C accepted");
    CHECK(strstr(rv_last_error(), "does not fit") != NULL, "message: %s", rv_last_error());
    p.groups = 4; /* 6 channels do not split into 4 groups */
    CHECK(rv_conv2d(&x, &w, NULL, p, &y) == RV_EINVAL, "groups 4 with 6 channels accepted");
    p.groups = 1;
    p.stride = 0;
    CHECK(rv_conv2d(&x, &w, NULL, p, &y) == RV_EINVAL, "stride 0 accepted");
    p.stride = 1;
    if (dev == RV_CPU) { /* the direct depthwise loop, called on a conv that is not one */
        CHECK(rv_conv2d_depthwise_cpu(&x, &w, NULL, p, NULL, &y) == RV_EINVAL,
              "a groups-1 conv accepted as depthwise");
        CHECK(strstr(rv_last_error(), "depthwise") != NULL, "message: %s", rv_last_error());
    }
    rv_tensor_free(&x);
    rv_tensor_free(&w);
    rv_tensor_free(&y);
}

int main(int argc, char **argv)
{
    rv_device dev;
    int rc =
        rv_test_init(argc, argv, "test_conv2d --device cpu|cuda: conv2d vs the reference", &dev);
    if (rc >= 0) return rc;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run_case(&cases[i], dev, 1, 100 + i);
        run_case(&cases[i], dev, 0, 200 + i);
    }
    bad_shapes(dev);
    test_tf32(dev);
    return rv_test_finish("test_conv2d");
}
