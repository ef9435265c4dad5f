/* test_kernel_index.c - the CUDA kernels' index arithmetic, run on the CPU.
 *
 * Every kernel in kernels/ is `if (i < n) out[i] = rv_*_elem(..., i)` with
 * i = blockIdx.x * RV_BLOCK + threadIdx.x over rv_ceil_div(n, RV_BLOCK)
 * blocks, i and the sizes in 32 bits when rv_index_fits32 allows it and in
 * 64 bits above (kernels/internal/rv_launch.h). This test emulates that
 * grid thread by thread, at both widths, and compares each body with a loop
 * nest written from the definition, on shapes where a swapped index or an
 * off-by-one shows: batched im2col (odd sizes, stride 2, padding 2, C=3,
 * K=5), the channel of the BN/bias epilogue, border padding, average
 * pooling, and the flat bodies (ReLU, add, the head's pool, per-channel
 * fake quantization).
 * It also checks that the grid covers every element exactly once, and that
 * the 32-bit bound leaves room for the last block's spare threads.
 * The bodies are internal to the library; CMakeLists.txt gives this test,
 * alone, their include directory.
 */
#include <string.h>

#include "rv_elem.h"
#include "rv_test.h"

/* Runs body(i) for every thread of the emulated grid with i < n, i of type I. */
#define EMULATE_GRID(I, n, body)                                                                   \
    for (I blk = 0; blk < (I)rv_ceil_div((n), RV_BLOCK); blk++)                                    \
        for (I thr = 0; thr < RV_BLOCK; thr++) {                                                   \
            I i = blk * RV_BLOCK + thr;                                                            \
            if (i < (I)(n)) body;                                                                  \
        }

/* out := body64 over the grid in 64-bit indices, compared with expect;
 * then body32 in 32-bit ones (the two kernels a launcher chooses from). */
#define CHECK_WIDTHS(what, n, body64, body32)                                                      \
    do {                                                                                           \
        EMULATE_GRID(int64_t, n, out[i] = body64);                                                 \
        check_arrays(what, 64, n);                                                                 \
        memset(out, 0, sizeof out);                                                                \
        EMULATE_GRID(int32_t, n, out[i] = body32);                                                 \
        check_arrays(what, 32, n);                                                                 \
    } while (0)

static float out[1 << 16], expect[1 << 16], src[1 << 14];
static int hits[1 << 16];

static void check_arrays(const char *body, int bits, int64_t n)
{
    char what[160];
    snprintf(what, sizeof what, "%s (%d-bit indices)", body, bits);
    rv_cmp c = rv_compare(out, expect, n, RV_TOL_EXACT);
    rv_cmp_print(stdout, what, &c, RV_TOL_EXACT, out, expect);
    CHECK(c.pass, "%s", what);
}

static void test_grid_coverage(void)
{
    int64_t sizes[] = {1, RV_BLOCK - 1, RV_BLOCK, RV_BLOCK + 1, 3 * RV_BLOCK + 17};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        int64_t n = sizes[s];
        memset(hits, 0, sizeof hits);
        EMULATE_GRID(int64_t, n, hits[i]++);
        int ok = 1;
        for (int64_t i = 0; i < n; i++) ok &= hits[i] == 1;
        CHECK(ok, "grid over %lld elements does not cover each exactly once", (long long)n);
    }
}

/* A launch indexes in 32 bits exactly when its every index is an int32_t,
 * its grid's last thread (n rounded up to a whole block) included: checked
 * around the bound, which must also not refuse a size that fits. */
static void test_width_bound(void)
{
    for (int64_t s = (int64_t)INT32_MAX - 4 * RV_BLOCK; s <= (int64_t)INT32_MAX + 4 * RV_BLOCK;
         s++) {
        if (!rv_index_fits32(s)) continue;
        int64_t last = rv_ceil_div(s, RV_BLOCK) * RV_BLOCK - 1;
        CHECK(s <= INT32_MAX && last <= INT32_MAX,
              "32-bit indices allowed for %lld elements (the grid's last thread: %lld), not "
              "both an int32_t",
              (long long)s, (long long)last);
    }
    CHECK(rv_index_fits32(INT32_MAX) && !rv_index_fits32((int64_t)INT32_MAX + 1),
          "32-bit indices refused for 2^31 - 1 elements, or allowed for 2^31");
}

static void test_im2col(int64_t N, rv_conv_geom g)
{
    for (int64_t i = 0; i < N * g.C * g.H * g.W; i++) src[i] = (float)(i + 1);
    int64_t n = N * g.C * g.KH * g.KW * g.P * g.Q;
    int64_t k = 0;
    for (int64_t img = 0; img < N; img++)
        for (int64_t c = 0; c < g.C; c++)
            for (int64_t kh = 0; kh < g.KH; kh++)
                for (int64_t kw = 0; kw < g.KW; kw++)
                    for (int64_t p = 0; p < g.P; p++)
                        for (int64_t q = 0; q < g.Q; q++) {
                            int64_t ih = p * g.stride - g.pad_h + kh,
                                    iw = q * g.stride - g.pad_w + kw;
                            int inside = ih >= 0 && ih < g.H && iw >= 0 && iw < g.W;
                            expect[k++] =
                                inside ? src[((img * g.C + c) * g.H + ih) * g.W + iw] : 0.0f;
                        }
    char what[96];
    snprintf(what, sizeof what, "im2col N%lld C%lld %lldx%lld k%lldx%lld s%lld p%lldx%lld",
             (long long)N, (long long)g.C, (long long)g.H, (long long)g.W, (long long)g.KH,
             (long long)g.KW, (long long)g.stride, (long long)g.pad_h, (long long)g.pad_w);
    rv_conv_geom32 g32 = rv_conv_geom_narrow(g);
    CHECK_WIDTHS(what, n, rv_im2col_batched_elem(src, g, i), rv_im2col_batched_elem32(src, g32, i));
}

static void test_channel_bodies(void)
{
    int64_t N = 2, C = 3, HW = 35, n = N * C * HW;
    float scale[3] = {2, 3, 5}, shift[3] = {7, 11, 13};
    for (int64_t i = 0; i < n; i++) src[i] = (float)(i % 17) - 8.0f;
    for (int64_t b = 0, k = 0; b < N; b++)
        for (int64_t c = 0; c < C; c++)
            for (int64_t s = 0; s < HW; s++, k++) expect[k] = src[k] * scale[c] + shift[c];
    CHECK_WIDTHS("affine (batch norm) channel index", n,
                 rv_affine_elem(src, scale, shift, C, HW, i),
                 rv_affine_elem32(src, scale, shift, (int32_t)C, (int32_t)HW, i));

    for (int64_t b = 0, k = 0; b < N; b++)
        for (int64_t c = 0; c < C; c++)
            for (int64_t s = 0; s < HW; s++, k++) {
                float v = src[k] + shift[c];
                expect[k] = v > 0 ? v : 0;
            }
    CHECK_WIDTHS("bias + relu epilogue channel index", n, rv_bias_act_elem(src, shift, 1, C, HW, i),
                 rv_bias_act_elem32(src, shift, 1, (int32_t)C, (int32_t)HW, i));
}

/* The bodies over flat or per-plane indices: ReLU, add, the head's global
 * average pool (plane i of HW values), per-channel fake quantization
 * (channel i / inner; the value itself is rv_fake_quant's, tested in
 * test_quant). */
static void test_flat_bodies(void)
{
    int64_t planes = 6, HW = 35, n = planes * HW;
    float scales[6] = {0.5f, 0.25f, 1.0f, 2.0f, 0.125f, 4.0f};
    for (int64_t i = 0; i < n; i++) src[i] = (float)(i % 17) - 8.0f;
    for (int64_t i = 0; i < n; i++) expect[i] = src[i] < 0.0f ? 0.0f : src[i];
    CHECK_WIDTHS("relu", n, rv_relu_elem(src, i), rv_relu_elem32(src, i));
    for (int64_t i = 0; i < n; i++) expect[i] = 2.0f * src[i];
    CHECK_WIDTHS("add", n, rv_add_elem(src, src, i), rv_add_elem32(src, src, i));
    for (int64_t p = 0; p < planes; p++) {
        double sum = 0.0;
        for (int64_t k = 0; k < HW; k++) sum += src[p * HW + k];
        expect[p] = (float)(sum / (double)HW);
    }
    CHECK_WIDTHS("global average pool plane index", planes, rv_avgpool_elem(src, HW, i),
                 rv_avgpool_elem32(src, (int32_t)HW, i));
    for (int64_t i = 0; i < n; i++) expect[i] = rv_fake_quant(src[i], scales[i / HW]);
    CHECK_WIDTHS("per-channel fake quantization channel index", n,
                 rv_fake_quant_channel_elem(src, scales, HW, i),
                 rv_fake_quant_channel_elem32(src, scales, (int32_t)HW, i));
}

static void test_pad_pool_bodies(int64_t N, rv_conv_geom g)
{
    for (int64_t i = 0; i < N * g.C * g.H * g.W; i++) src[i] = (float)(i + 1);
    float value[16];
    for (int64_t c = 0; c < g.C; c++) value[c] = -(float)(c + 1);
    int64_t OH = g.H + 2 * g.pad_h, OW = g.W + 2 * g.pad_w, n = N * g.C * OH * OW;
    rv_conv_geom32 g32 = rv_conv_geom_narrow(g);
    for (int64_t nc = 0, k = 0; nc < N * g.C; nc++)
        for (int64_t h = 0; h < OH; h++)
            for (int64_t w = 0; w < OW; w++, k++) {
                int64_t ih = h - g.pad_h, iw = w - g.pad_w;
                expect[k] = ih < 0 || ih >= g.H || iw < 0 || iw >= g.W
                                ? value[nc % g.C]
                                : src[(nc * g.H + ih) * g.W + iw];
            }
    CHECK_WIDTHS("pad border", n, rv_pad_border_elem(src, value, g, i),
                 rv_pad_border_elem32(src, value, g32, i));
    n = N * g.C * g.P * g.Q;
    for (int64_t nc = 0, k = 0; nc < N * g.C; nc++)
        for (int64_t p = 0; p < g.P; p++)
            for (int64_t q = 0; q < g.Q; q++, k++) {
                double sum = 0;
                for (int64_t kh = 0; kh < g.KH; kh++)
                    for (int64_t kw = 0; kw < g.KW; kw++) {
                        int64_t ih = p * g.stride - g.pad_h + kh, iw = q * g.stride - g.pad_w + kw;
                        if (ih >= 0 && ih < g.H && iw >= 0 && iw < g.W)
                            sum += src[(nc * g.H + ih) * g.W + iw];
                    }
                expect[k] = (float)(sum / (double)(g.KH * g.KW));
            }
    CHECK_WIDTHS("average pool", n, rv_avgpool2d_elem(src, g, i), rv_avgpool2d_elem32(src, g32, i));
}

int main(int argc, char **argv)
{
    rv_device dev;
    int rc = rv_test_init(argc, argv, "test_kernel_index: CUDA index logic on the CPU", &dev);
    if (rc >= 0) return rc;
    test_grid_coverage();
    test_width_bound();
#define GEOM(c, h, w, kh, kw, p, q, s, ph, pw)                                                     \
    (rv_conv_geom){.C = c,                                                                         \
                   .H = h,                                                                         \
                   .W = w,                                                                         \
                   .KH = kh,                                                                       \
                   .KW = kw,                                                                       \
                   .P = p,                                                                         \
                   .Q = q,                                                                         \
                   .stride = s,                                                                    \
                   .pad_h = ph,                                                                    \
                   .pad_w = pw}
    test_im2col(2, GEOM(3, 7, 7, 3, 3, 7, 7, 1, 1, 1));
    test_im2col(3, GEOM(3, 9, 7, 5, 5, 5, 4, 2, 2, 2));
    test_im2col(1, GEOM(4, 8, 8, 1, 1, 4, 4, 2, 0, 0));
    test_im2col(2, GEOM(2, 6, 5, 3, 3, 2, 2, 2, 0, 0));
    test_im2col(2, GEOM(3, 6, 7, 1, 3, 6, 7, 1, 0, 1)); /* ACNet's 1x3 */
    test_im2col(1, GEOM(2, 7, 6, 3, 1, 4, 3, 2, 1, 0)); /* its 3x1, stride 2 */
    test_channel_bodies();
    test_flat_bodies();
    test_pad_pool_bodies(2, GEOM(3, 5, 6, 3, 3, 5, 6, 1, 1, 1));
    test_pad_pool_bodies(1, GEOM(4, 7, 5, 3, 3, 4, 3, 2, 1, 1));
    test_pad_pool_bodies(2, GEOM(2, 6, 6, 2, 2, 3, 3, 2, 0, 0));
    return rv_test_finish("test_kernel_index");
}
