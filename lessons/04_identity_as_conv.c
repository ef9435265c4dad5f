/* Lesson 04 - the identity as a 3x3 conv, and its BN folded in (the
 * notebook's identity_conv, In [12], and the identity branch of
 * get_fused_conv_state_dict_from_block).
 *
 * With C channels in g groups, output channel o sees the C/g input channels
 * of its group, o's own channel among them at local index o % (C/g). So the
 * kernel with one 1, at the centre of local channel o % (C/g) of output
 * channel o, and zeros elsewhere (rv_identity_kernel) copies x, padding 1:
 *
 *     I[o][o % (C/g)][1][1] = 1,   conv(x, I, pad 1, groups g) = x
 *
 * Every output is 1*x plus products with 0, all exact in float arithmetic:
 * bit-equality even on random floats. A BN of x is then a conv too,
 *
 *     bn(x) = s*x + t = conv(x, s*I) + t                      (rv_fuse_conv_bn)
 *
 * which is how the RepVGG block's identity branch joins its 3x3 kernel
 * (lesson 05). The BN op and the conv round s*x + t in their own ways (one
 * fused multiply-add or two roundings), so that check is within RV_TOL_FP32.
 *
 * Run:   build/bin/04_identity_as_conv [--device auto|cpu|cuda] [--batch N]
 *                                      [--channels C] [--size S] [--repeat R]
 * Defaults are the notebook's In [12]: 1x2x3x3 input, 2 channels. Checks
 * groups 1, 2 and C (depthwise), those that divide C. Prints the notebook's
 * 2-channel kernel first.
 * Exit:  0 PASS (conv(x, I) == x bit-exact and bn(x) == conv(x, fused I) for
 *        every groups), 1 FAIL, 2 bad usage or no such device.
 */
#include <stdio.h>

#include "rv_check.h"
#include "rv_cli.h"
#include "rv_ops.h"
#include "rv_lesson.h"
#include "rv_reparam.h"

typedef struct {
    rv_conv_params p;          /* stride 1, padding 1, the groups */
    rv_tensor x;               /* (N, C, S, S) */
    rv_tensor id, wf, bf;      /* I and fuse(I, BN): (C, C/g, 3, 3), (C) */
    rv_bn bn;                  /* random running statistics, prepared on the device */
    rv_tensor y_id, y_bn, y_f; /* conv(x, I), bn(x), conv(x, s*I) + t: (N, C, S, S) */
} lesson;

static rv_status identity_conv(void *ctx)
{
    lesson *l = ctx;
    return rv_conv2d(&l->x, &l->id, NULL, l->p, &l->y_id);
}

static rv_status batch_norm(void *ctx)
{
    lesson *l = ctx;
    return rv_batchnorm(&l->x, &l->bn, &l->y_bn);
}

static rv_status fused(void *ctx)
{
    lesson *l = ctx;
    return rv_conv2d(&l->x, &l->wf, &l->bf, l->p, &l->y_f);
}

static rv_status build(lesson *l, rv_device dev, int n, int c, int s, int groups)
{
    rv_rng rng = rv_rng_seed(40 + (uint64_t)groups);
    rv_tensor hx = {0}, hid = {0}, hwf = {0}, hbf = {0};
    l->p = (rv_conv_params){.stride = 1, .pad_h = 1, .pad_w = 1, .groups = groups};
    rv_status st = rv_tensor_alloc4(&hx, RV_CPU, n, c, s, s, "x");
    if (st == RV_OK) st = rv_tensor_fill_uniform(&hx, &rng, -1.0f, 1.0f);
    if (st == RV_OK) st = rv_bn_alloc(&l->bn, c);
    if (st == RV_OK) st = rv_bn_randomize(&l->bn, &rng);
    if (st == RV_OK) st = rv_bn_prepare(&l->bn, dev);
    /* The rewrites, on the host: I, then fuse(I, BN). */
    if (st == RV_OK) st = rv_tensor_alloc4(&hid, RV_CPU, c, c / groups, 3, 3, "identity kernel");
    if (st == RV_OK) st = rv_identity_kernel(groups, &hid);
    if (st == RV_OK) st = rv_tensor_alloc4(&hwf, RV_CPU, c, c / groups, 3, 3, "fused weight");
    if (st == RV_OK) st = rv_tensor_alloc1(&hbf, RV_CPU, c, "fused bias");
    if (st == RV_OK) st = rv_fuse_conv_bn(&hid, NULL, &l->bn, &hwf, &hbf);
    rv_tensor *host[4] = {&hx, &hid, &hwf, &hbf}, *dst[4] = {&l->x, &l->id, &l->wf, &l->bf};
    for (int i = 0; i < 4; i++) {
        if (st == RV_OK) st = rv_tensor_clone(dst[i], host[i], dev, "lesson tensor");
        rv_tensor_free(host[i]);
    }
    rv_tensor *out[3] = {&l->y_id, &l->y_bn, &l->y_f};
    for (int i = 0; i < 3 && st == RV_OK; i++)
        st = rv_tensor_alloc4(out[i], dev, n, c, s, s, "output");
    return st;
}

static void destroy(lesson *l)
{
    rv_tensor *all[7] = {&l->x, &l->id, &l->wf, &l->bf, &l->y_id, &l->y_bn, &l->y_f};
    for (int i = 0; i < 7; i++) rv_tensor_free(all[i]);
    rv_bn_free(&l->bn);
}

/* Builds for `groups`, runs the three ops and compares; 1 when both agree. */
static int check(rv_device dev, int n, int c, int s, int groups)
{
    lesson l = {0};
    int ok = build(&l, dev, n, c, s, groups) == RV_OK && identity_conv(&l) == RV_OK &&
             batch_norm(&l) == RV_OK && fused(&l) == RV_OK;
    if (!ok) printf("  error: %s\n", rv_lesson_keep_error());
    char what[2][80];
    snprintf(what[0], sizeof what[0], "  groups %d: a = conv(x, I), r = x, bit-exact", groups);
    snprintf(what[1], sizeof what[1], "  groups %d: a = conv(x, s*I) + t, r = bn(x)", groups);
    ok = ok && rv_expect_close(stdout, what[0], &l.y_id, &l.x, RV_TOL_EXACT);
    ok = ok && rv_expect_close(stdout, what[1], &l.y_f, &l.y_bn, RV_TOL_FP32);
    destroy(&l);
    return ok;
}

/* d (dim[0], ..., dim[ndim-1]) in PyTorch's layout: nested brackets, one more
 * blank line per level up, integer values as "1."; `depth` levels are open. */
static void print_nested(const float *d, const int64_t *dim, int ndim, int depth)
{
    int64_t inner = 1;
    for (int i = 1; i < ndim; i++) inner *= dim[i];
    printf("[");
    for (int64_t i = 0; i < dim[0]; i++) {
        if (ndim == 1) {
            printf("%s%g.", i ? ", " : "", d[i]);
            continue;
        }
        /* the next row starts under this bracket's content: after "tensor(" (7
         * characters) and the depth + 1 brackets open at this level */
        if (i) printf(",%.*s%*s", ndim - 1, "\n\n\n", 7 + depth + 1, "");
        print_nested(d + i * inner, dim + 1, ndim - 1, depth + 1);
    }
    printf("]");
}

/* The notebook's kernel: nn.Conv2d(2, 2, 3, padding=1) set to the identity. */
static int show_notebook_kernel(void)
{
    rv_tensor w = {0};
    rv_status st = rv_tensor_alloc4(&w, RV_CPU, 2, 2, 3, 3, "identity kernel");
    if (st == RV_OK) st = rv_identity_kernel(1, &w);
    if (st == RV_OK) {
        printf("tensor(");
        print_nested(w.data, w.dim, 4, 0);
        printf(")\n");
    } else {
        printf("  error: %s\n", rv_lesson_keep_error());
    }
    rv_tensor_free(&w);
    return st == RV_OK;
}

int main(int argc, char **argv)
{
    int batch = 1, channels = 2, size = 3, repeat = 100, warmup = 10;
    const char *device;
    rv_device dev;
    int rc = rv_lesson_options(argc, argv,
                               "04_identity_as_conv: the identity is a 3x3 conv, conv(x, I) == x, "
                               "and a BN of x is\n  one too, bn(x) == conv(x, s*I) + t "
                               "(s, t: the BN's scale and shift per channel)",
                               &batch, &channels, &size, &repeat, NULL, 0, &device);
    if (rc >= 0 || (rc = rv_cli_device(argv[0], device, &dev)) >= 0) return rc;

    char algebra[1024];
    snprintf(algebra, sizeof algebra,
             "conv(x, I, padding 1, groups g) = x,   I[o][o mod (C/g)][1][1] = 1, all else 0\n"
             "bn(x) = s*x + t = conv(x, s*I) + t     (s, t: the BN's scale and shift, lesson 02)\n"
             "\n"
             "x: the input, %dx%dx%dx%d (images, channels, height, width). The C = %d channels\n"
             "may be split into g groups: output channel o then sees only the C/g input\n"
             "channels of its own group, numbered 0 to C/g - 1 there, and o's own channel is\n"
             "number o mod (C/g) among them. So the kernel that copies x has one 1 for each\n"
             "output channel, at the centre of that channel, and zeros everywhere else.\n"
             "Every output is 1 times a pixel plus products with 0: exact in float32 too.",
             batch, channels, size, size, channels);
    rv_lesson_begin("Lesson 04: the identity is a 3x3 conv (the notebook's identity_conv)", algebra,
                    dev);

    printf("\nThe notebook's identity kernel for 2 channels, (out, in, 3, 3):\n");
    int pass = show_notebook_kernel();
    printf("Output channel 0 takes the centre tap of input channel 0 with weight 1, and nothing\n"
           "else; output channel 1 likewise of input channel 1: each pixel is copied.\n");

    int cand[3] = {1, 2, channels}, groups[3], ng = 0; /* those that divide C, once each */
    for (int i = 0; i < 3; i++)
        if (channels % cand[i] == 0 && (ng == 0 || cand[i] > groups[ng - 1]))
            groups[ng++] = cand[i];
    rv_lesson_agree_heading("the conv's", "what it replaces");
    printf("Checked with all channels in one group, in two groups, and one channel per group\n"
           "(depthwise), as far as the %d channels divide: groups",
           channels);
    for (int i = 0; i < ng; i++) printf("%s %d", i ? (i == ng - 1 ? " and" : ",") : "", groups[i]);
    printf(".\n");
    for (int i = 0; i < ng; i++) pass &= check(dev, batch, channels, size, groups[i]);

    lesson l = {0};
    if (build(&l, dev, batch, channels, size, 1) != RV_OK) rv_lesson_keep_error();
    rv_lesson_form forms[2] = {
        {.name = "BN alone", .fn = batch_norm, .ctx = &l, .activations = rv_tensor_bytes(&l.y_bn)},
        {.name = "conv with kernel s*I, bias t",
         .fn = fused,
         .ctx = &l,
         .activations = rv_tensor_bytes(&l.y_f)},
    };
    if (!rv_lesson_error()[0] &&
        rv_lesson_compare(dev, "groups 1", forms, warmup, repeat, NULL, NULL) == RV_OK)
        printf("  Alone the conv costs more than the BN it replaces; lesson 05 adds it into the\n"
               "  3x3 kernel the block runs anyway, where it costs nothing.\n");
    destroy(&l);
    return rv_lesson_end(pass, dev,
                         "conv with the identity kernel reproduces x, and with the BN folded in, "
                         "bn(x)",
                         "conv with the identity kernel does NOT reproduce x, or with the BN "
                         "folded in does NOT match bn(x)");
}
