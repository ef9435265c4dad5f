/* Lesson 03 - a 1x1 conv is a 3x3 conv with a zero-padded kernel (the
 * notebook's torch.nn.functional.pad(weight, [1, 1, 1, 1]) in
 * get_fused_conv_state_dict_from_block).
 *
 * Pad every 1x1 kernel with a ring of zeros, W3[o][c] = [0 0 0; 0 W1[o][c] 0;
 * 0 0 0], and run it with padding 1 instead of 0:
 *
 *     conv(x, W1, stride s, pad 0) = conv(x, pad(W1), stride s, pad 1)   (rv_pad_kernel)
 *
 * Same output size, (H - 1)/s + 1 both ways, and at output pixel (p, q) the
 * centre tap of the 3x3 kernel reads input pixel (p*s - 1 + 1, q*s - 1 + 1)
 * = (p*s, q*s), the one the 1x1 kernel reads; the other eight taps multiply
 * by zero. So this holds at any stride. Exact in real arithmetic; on small
 * integers float arithmetic is exact too and the outputs are bit-identical,
 * on random floats they agree within RV_TOL_FP32 (the GEMM may sum in another
 * order). This is what lets the RepVGG block's 1x1 branch be added into its
 * 3x3 kernel (lesson 05).
 *
 * Run:   build/bin/03_pad_1x1_to_3x3 [--device auto|cpu|cuda] [--batch N]
 *                                    [--channels C] [--size S] [--repeat R]
 * Defaults are the notebook's shapes: 1x8x7x7 input, 8 -> 8 channels; checks
 * at stride 1 and 2 on integers and floats, times stride 1.
 * Exit:  0 PASS (all four checks agree), 1 FAIL, 2 bad usage or no such device.
 */
#include <stdio.h>

#include "rv_check.h"
#include "rv_cli.h"
#include "rv_lesson.h"
#include "rv_ops.h"
#include "rv_reparam.h"

typedef struct {
    rv_tensor x, w1, w3;   /* x: (N, C, S, S), w1: (C, C, 1, 1), w3 = pad(w1): (C, C, 3, 3) */
    rv_tensor y1, y3;      /* (N, C, P, P), P = (S - 1)/stride + 1 */
    rv_conv_params p1, p3; /* the stride, padding 0 and 1 */
} lesson;

static rv_status one_by_one(void *ctx)
{
    lesson *l = ctx;
    return rv_conv2d(&l->x, &l->w1, NULL, l->p1, &l->y1);
}

static rv_status padded(void *ctx)
{
    lesson *l = ctx;
    return rv_conv2d(&l->x, &l->w3, NULL, l->p3, &l->y3);
}

/* Both forms on `dev` from seeded data: small integers or floats. */
static rv_status build(lesson *l, rv_device dev, int n, int c, int s, int stride, int integers)
{
    rv_rng rng = rv_rng_seed(30 + 2 * (uint64_t)stride + (uint64_t)integers);
    rv_tensor hx = {0}, hw = {0}, h3 = {0};
    l->p1 = (rv_conv_params){.stride = stride, .pad_h = 0, .pad_w = 0, .groups = 1};
    l->p3 = (rv_conv_params){.stride = stride, .pad_h = 1, .pad_w = 1, .groups = 1};
    rv_status st = rv_tensor_alloc4(&hx, RV_CPU, n, c, s, s, "x");
    if (st == RV_OK) st = rv_tensor_alloc4(&hw, RV_CPU, c, c, 1, 1, "1x1 weight");
    if (st == RV_OK && integers) {
        rv_tensor_fill_int(&hx, &rng, -3, 3);
        rv_tensor_fill_int(&hw, &rng, -3, 3);
    } else if (st == RV_OK) {
        rv_tensor_fill_uniform(&hx, &rng, -1.0f, 1.0f);
        rv_tensor_fill_uniform(&hw, &rng, -0.5f, 0.5f);
    }
    /* The rewrite itself, on the host like every fold. */
    if (st == RV_OK) st = rv_tensor_alloc4(&h3, RV_CPU, c, c, 3, 3, "padded weight");
    if (st == RV_OK) st = rv_pad_kernel(&hw, &h3);
    if (st == RV_OK) st = rv_tensor_clone(&l->x, &hx, dev, "x");
    if (st == RV_OK) st = rv_tensor_clone(&l->w1, &hw, dev, "1x1 weight");
    if (st == RV_OK) st = rv_tensor_clone(&l->w3, &h3, dev, "padded weight");
    int64_t P = (s - 1) / stride + 1;
    if (st == RV_OK) st = rv_tensor_alloc4(&l->y1, dev, n, c, P, P, "1x1 output");
    if (st == RV_OK) st = rv_tensor_alloc4(&l->y3, dev, n, c, P, P, "3x3 output");
    rv_tensor_free(&hx);
    rv_tensor_free(&hw);
    rv_tensor_free(&h3);
    return st;
}

static void destroy(lesson *l)
{
    rv_tensor *all[5] = {&l->x, &l->w1, &l->w3, &l->y1, &l->y3};
    for (int i = 0; i < 5; i++) rv_tensor_free(all[i]);
}

/* Kernel slice [0][0] before and after padding, printed as the notebook's tensors. */
static void show_kernel(const lesson *l)
{
    rv_tensor h1 = {0}, h3 = {0};
    if (rv_tensor_clone(&h1, &l->w1, RV_CPU, "copy") == RV_OK &&
        rv_tensor_clone(&h3, &l->w3, RV_CPU, "copy") == RV_OK) {
        int indent = printf("  W1[0][0] = [[%g.]]  ->  pad(W1)[0][0] = [", h1.data[0]);
        for (int r = 0; r < 3; r++)
            printf("%*s[%g., %g., %g.]%s", r ? indent : 0, "", h3.data[3 * r], h3.data[3 * r + 1],
                   h3.data[3 * r + 2], r < 2 ? ",\n" : "]\n");
    }
    rv_tensor_free(&h1);
    rv_tensor_free(&h3);
}

/* Builds, runs both forms and compares them; 1 when they agree. */
static int check(rv_device dev, int n, int c, int s, int stride, int integers)
{
    lesson l = {0};
    int ok = build(&l, dev, n, c, s, stride, integers) == RV_OK && one_by_one(&l) == RV_OK &&
             padded(&l) == RV_OK;
    if (!ok) printf("  error: %s\n", rv_lesson_keep_error());
    char what[80];
    snprintf(what, sizeof what, "  stride %d, %s", stride,
             integers ? "small integers, bit-exact" : "random floats");
    ok = ok && rv_expect_close(stdout, what, &l.y3, &l.y1, integers ? RV_TOL_EXACT : RV_TOL_FP32);
    destroy(&l);
    return ok;
}

int main(int argc, char **argv)
{
    int batch = 1, channels = 8, size = 7, repeat = 100, warmup = 10;
    const char *device;
    rv_device dev;
    int rc = rv_lesson_options(argc, argv,
                               "03_pad_1x1_to_3x3: conv(x, W1, pad 0) == "
                               "conv(x, W1 zero-padded to 3x3, pad 1), any stride",
                               &batch, &channels, &size, &repeat, NULL, 0, &device);
    if (rc >= 0 || (rc = rv_cli_device(argv[0], device, &dev)) >= 0) return rc;

    char algebra[1024];
    snprintf(algebra, sizeof algebra,
             "conv(x, W1, padding 0) = conv(x, pad(W1), padding 1), at any stride\n"
             "\n"
             "x: the input, %dx%dx%dx%d (images, channels, height, width); W1: a 1x1 kernel,\n"
             "%d -> %d channels; pad(W1): each 1x1 kernel in the middle of a 3x3 one of\n"
             "zeros. Both give (H - 1) / stride + 1 rows and columns, and at every output\n"
             "pixel the 3x3 kernel's centre reads the very input pixel the 1x1 kernel reads\n"
             "(padding 1 shifts the window up and left by one, the centre tap back down and\n"
             "right by one); its other eight taps multiply by zero. This is what lets a\n"
             "block's 1x1 branch be added into its 3x3 kernel (lesson 05).",
             batch, channels, size, size, channels, channels);
    rv_lesson_begin("Lesson 03: a 1x1 conv is a 3x3 conv with a zero-padded kernel "
                    "(the notebook's F.pad(weight, [1, 1, 1, 1]))",
                    algebra, dev);

    /* Small integers at stride 1: shown here, checked and timed below. */
    lesson l = {0};
    rv_status st = build(&l, dev, batch, channels, size, 1, 1);
    if (st == RV_OK) {
        printf("\nThe rewrite, on one kernel slice (output channel 0, input channel 0):\n");
        show_kernel(&l);
    } else {
        rv_lesson_keep_error();
    }
    rv_lesson_agree_heading("the padded 3x3 conv's", "the 1x1 conv's");
    int pass = 1;
    for (int stride = 1; stride <= 2; stride++)
        for (int integers = 1; integers >= 0; integers--)
            pass &= check(dev, batch, channels, size, stride, integers);

    rv_lesson_form forms[2] = {
        {.name = "1x1 conv", .fn = one_by_one, .ctx = &l, .activations = rv_tensor_bytes(&l.y1)},
        {.name = "padded 3x3 conv", .fn = padded, .ctx = &l, .activations = rv_tensor_bytes(&l.y3)},
    };
    rv_form_result r[2];
    if (st == RV_OK &&
        rv_lesson_compare(dev, "stride 1", forms, warmup, repeat, NULL, r) == RV_OK) {
        /* multiply-adds of a conv: N*O*P*Q*(C/groups)*KH*KW */
        long long macs = (long long)batch * channels * size * size * channels;
        printf("  Alone the padded kernel costs more: %lld multiply-adds against %lld. Lesson 05\n"
               "  adds it into the 3x3 kernel the block runs anyway, where it costs nothing.\n",
               9 * macs, macs);
    }
    destroy(&l);
    return rv_lesson_end(pass, dev, "the 3x3 conv with the zero-padded kernel matches the 1x1 conv",
                         "the 3x3 conv with the zero-padded kernel does NOT match the 1x1 conv");
}
