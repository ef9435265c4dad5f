/* Lesson 00 - what a residual costs in memory (the notebook's ResNetBlock, In [1]).
 *
 * ResNetBlock(in, out, stride), convs without bias (a BN follows), 3x3 ones
 * with padding 1:
 *
 *     y = ReLU( BN2(conv3x3(ReLU(BN1(conv3x3(x, stride))))) + shortcut(x) )
 *     shortcut(x) = x                          when in == out (stride 1)
 *                 = BNs(conv1x1(x, stride))    otherwise (a projection)
 *
 * The plain chain is the same two conv-BN layers without the shortcut. Run
 * both as a framework does: every op allocates its output, and a tensor is
 * freed right after its last consumer. With X the bytes of the input and Y
 * those of the output, the highest point of live activation memory is
 *
 *     plain    = max(X + Y, 2Y)    (a conv's input and output)
 *     residual = max(X + 2Y, 3Y)   (the same plus the residual, alive until the add)
 *
 * so the residual costs exactly Y more: at the add the block holds two
 * activations, residual and branch (the notebook's "<- 2x memory"), where a
 * plain chain holds one ("<- 1x"). This is the paper's case (RepVGG, Fig. 3)
 * for a single-branch model at inference time.
 *
 * Run:   build/bin/00_multi_branch_memory [--device auto|cpu|cuda] [--batch N]
 *                                         [--channels C] [--size S] [--repeat R]
 * Defaults are the notebook's shapes: 1 image, 8 channels, 7x7. The table has
 * sizes S, 2S, 4S for an identity shortcut (C -> C, stride 1) and a 1x1
 * projection (C -> 2C, stride 2). Peaks are bytes counted by the tracking
 * allocator (src/base/rv_alloc.h) from just before the input exists; a first run
 * sizes the im2col workspace, which then stays put, so the peak is
 * activations only (rv_measure_pair, in the timing part, releases the
 * workspace first and so counts it too).
 * Exit:  0 PASS (every counted peak equals the formula, hence the extra is Y,
 *        and the forward that frees early matches one that keeps every tensor),
 *        1 FAIL, 2 bad usage or no such device.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "rv_alloc.h"
#include "rv_check.h"
#include "rv_cli.h"
#include "rv_ops.h"
#include "rv_lesson.h"
#include "rv_report.h"

typedef struct {
    int projection;            /* shortcut is BNs(conv1x1), else x itself */
    rv_conv_params p1, p2, ps; /* first 3x3, second 3x3, 1x1 shortcut */
    rv_tensor w1, w2, ws;      /* (out, in, 3, 3), (out, out, 3, 3), (out, in, 1, 1) */
    rv_bn bn1, bn2, bns;       /* random running statistics, on the device */
} resnet_block;

/* A conv weight (O, I, k, k) uniform in +-1/sqrt(I*k*k) (PyTorch's init),
 * filled on the host, then put on dev. */
static rv_status random_weight(rv_tensor *w, int64_t o, int64_t i, int64_t k, rv_rng *r,
                               rv_device dev)
{
    float bound = (float)(1.0 / sqrt((double)(i * k * k)));
    return rv_tensor_random(w, dev, 4, (const int64_t[]){o, i, k, k}, r, -bound, bound,
                            "conv weight");
}

static rv_status random_bn(rv_bn *bn, int64_t channels, rv_rng *r, rv_device dev)
{
    rv_status st = rv_bn_alloc(bn, channels);
    if (st == RV_OK) st = rv_bn_randomize(bn, r);
    return st == RV_OK ? rv_bn_prepare(bn, dev) : st;
}

/* The shortcut is a projection when in != out, as in the notebook, or when
 * the stride changes the size (where the notebook's identity would not fit). */
static rv_status block_init(resnet_block *b, int64_t in, int64_t out, int stride, rv_rng *r,
                            rv_device dev)
{
    b->projection = in != out || stride != 1;
    b->p1 = (rv_conv_params){.stride = stride, .pad_h = 1, .pad_w = 1, .groups = 1};
    b->p2 = (rv_conv_params){.stride = 1, .pad_h = 1, .pad_w = 1, .groups = 1};
    b->ps = (rv_conv_params){.stride = stride, .pad_h = 0, .pad_w = 0, .groups = 1};
    rv_status st = random_weight(&b->w1, out, in, 3, r, dev);
    if (st == RV_OK) st = random_weight(&b->w2, out, out, 3, r, dev);
    if (st == RV_OK) st = random_bn(&b->bn1, out, r, dev);
    if (st == RV_OK) st = random_bn(&b->bn2, out, r, dev);
    if (st == RV_OK && b->projection) st = random_weight(&b->ws, out, in, 1, r, dev);
    if (st == RV_OK && b->projection) st = random_bn(&b->bns, out, r, dev);
    return st;
}

static void block_free(resnet_block *b)
{
    rv_tensor_free(&b->w1);
    rv_tensor_free(&b->w2);
    rv_tensor_free(&b->ws);
    rv_bn_free(&b->bn1);
    rv_bn_free(&b->bn2);
    rv_bn_free(&b->bns);
}

/* *y = BN(conv(x, w)), then ReLU if relu. Like a framework, each op allocates
 * its output; x is freed right after the conv when free_x (the conv was its
 * last consumer), the conv output right after the BN. */
static rv_status conv_bn(rv_tensor *x, int free_x, const rv_tensor *w, const rv_bn *bn,
                         rv_conv_params p, int relu, rv_tensor *y)
{
    int64_t s[4];
    rv_tensor z = {0};
    rv_device dev = x->device;
    rv_status st = rv_conv2d_shape(x, w, NULL, p, s);
    if (st == RV_OK) st = rv_tensor_alloc(&z, dev, 4, s, "conv output");
    if (st == RV_OK) st = rv_conv2d(x, w, NULL, p, &z);
    if (free_x) rv_tensor_free(x);
    if (st == RV_OK) st = rv_tensor_alloc(y, dev, 4, s, "bn output");
    if (st == RV_OK) st = rv_batchnorm(&z, bn, y);
    rv_tensor_free(&z);
    if (st == RV_OK && relu) st = rv_relu(y, y);
    return st;
}

/* The forward pass, freeing early; it consumes x. residual = 0: the plain
 * chain. The shortcut runs first, as in the notebook (res = shortcut(x)). */
static rv_status block_forward(const resnet_block *b, rv_tensor *x, int residual, rv_tensor *y)
{
    int keep_x = residual && !b->projection; /* x is the residual: alive until the add */
    rv_tensor res = {0}, t = {0};
    rv_status st = RV_OK;
    if (residual && b->projection) st = conv_bn(x, 0, &b->ws, &b->bns, b->ps, 0, &res);
    if (st == RV_OK) st = conv_bn(x, !keep_x, &b->w1, &b->bn1, b->p1, 1, &t);
    if (keep_x)
        res = *x;
    else
        rv_tensor_free(x);
    *x = (rv_tensor){0};
    if (st == RV_OK) st = conv_bn(&t, 1, &b->w2, &b->bn2, b->p2, 0, y);
    rv_tensor_free(&t);
    if (st == RV_OK && residual) st = rv_add(y, &res, y); /* x += res */
    rv_tensor_free(&res);
    if (st == RV_OK) st = rv_relu(y, y);
    return st;
}

/* The same function the straightforward way: main branch first, every
 * tensor kept to the end. Same ops in the same order, so bit-identical. */
static rv_status block_reference(const resnet_block *b, rv_tensor *x, int residual, rv_tensor *y)
{
    rv_tensor t = {0}, res = {0};
    rv_status st = conv_bn(x, 0, &b->w1, &b->bn1, b->p1, 1, &t);
    if (st == RV_OK) st = conv_bn(&t, 0, &b->w2, &b->bn2, b->p2, 0, y);
    if (st == RV_OK && residual && b->projection)
        st = conv_bn(x, 0, &b->ws, &b->bns, b->ps, 0, &res);
    if (st == RV_OK && residual) st = rv_add(y, b->projection ? &res : x, y);
    if (st == RV_OK) st = rv_relu(y, y);
    rv_tensor_free(&t);
    rv_tensor_free(&res);
    return st;
}

/* One form, as rv_measure_pair calls it: a fresh copy of the input (the
 * forward consumes it), the forward, the output dropped. */
typedef struct {
    const resnet_block *b;
    const rv_tensor *x0; /* (N, in, S, S) */
    int residual;
} form;

static rv_status run_form(void *ctx)
{
    form *f = ctx;
    rv_tensor x = {0}, y = {0};
    rv_status st = rv_tensor_clone(&x, f->x0, f->x0->device, "block input");
    if (st == RV_OK) st = block_forward(f->b, &x, f->residual, &y);
    rv_tensor_free(&x);
    rv_tensor_free(&y);
    return st;
}

/* Peak bytes of one run_form, counted from before its input exists. */
static rv_status peak_of(form *f, rv_device dev, size_t *peak)
{
    rv_status st = run_form(f); /* sizes the workspace */
    if (st == RV_OK) st = rv_device_sync(dev);
    rv_mem_reset_peak(dev);
    size_t base = rv_mem(dev).current;
    if (st == RV_OK) st = run_form(f);
    if (st == RV_OK) st = rv_device_sync(dev);
    *peak = rv_mem(dev).peak - base;
    return st;
}

/* The timing table's memory against the peak table's first row: the same
 * forward, counted once with the conv workspace (released before the timed
 * form's first run, so its peak includes it) and once without (sized by a
 * first run, then kept). Prints the sum; 1 when it holds for both forms. */
static int same_peaks(const size_t table[2], const rv_form_result r[2])
{
    static const char *const name[2] = {"plain", "residual"};
    int ok = 1;
    printf("  Memory here is the table above plus the conv's workspace, which that table\n"
           "  leaves out (a first run sizes it and it stays): the same for both forms, so it\n"
           "  dilutes the residual's extra Y in the ratio.\n");
    for (int f = 0; f < 2; f++) {
        char m[32], t[32], w[32];
        int same = r[f].peak_bytes == table[f] + r[f].workspace_bytes;
        printf("  %-8s %10s = %10s (the table above) + %10s (workspace)%s\n", name[f],
               rv_bytes_str(r[f].peak_bytes, m, sizeof m), rv_bytes_str(table[f], t, sizeof t),
               rv_bytes_str(r[f].workspace_bytes, w, sizeof w), same ? "" : "  NOT equal");
        ok &= same;
    }
    return ok;
}

/* A block of one kind and a seeded input for it, on the device. */
typedef struct {
    resnet_block b;
    rv_tensor x0;              /* (N, in, S, S) */
    int64_t n, in, out, s, os; /* os: output height and width */
    int stride;
} setup;

static void setup_free(setup *u)
{
    block_free(&u->b);
    rv_tensor_free(&u->x0);
}

static rv_status setup_init(setup *u, rv_device dev, int64_t n, int64_t in, int64_t out, int stride,
                            int64_t s)
{
    rv_rng rng = rv_rng_seed(100 + (uint64_t)(s * 4 + stride));
    *u =
        (setup){.n = n, .in = in, .out = out, .s = s, .os = (s - 1) / stride + 1, .stride = stride};
    rv_status st = block_init(&u->b, in, out, stride, &rng, dev);
    if (st == RV_OK)
        st = rv_tensor_random(&u->x0, dev, 4, (const int64_t[]){n, in, s, s}, &rng, -1.0f, 1.0f,
                              "block input");
    return st;
}

/* "in -> out, stride s, SxS" */
static const char *label(const setup *u, char *buf, size_t len)
{
    snprintf(buf, len, "%lld -> %lld, stride %d, %lldx%lld", (long long)u->in, (long long)u->out,
             u->stride, (long long)u->s, (long long)u->s);
    return buf;
}

/* The frugal forward against the reference, plain and residual. */
static int check(const setup *u)
{
    const resnet_block *b = &u->b;
    const rv_tensor *x0 = &u->x0;
    int ok = 1;
    for (int residual = 0; residual <= 1; residual++) {
        rv_tensor x = {0}, y = {0}, ref = {0}, x_ref = {0};
        rv_status st = rv_tensor_clone(&x, x0, x0->device, "block input");
        if (st == RV_OK) st = rv_tensor_clone(&x_ref, x0, x0->device, "block input");
        if (st == RV_OK) st = block_forward(b, &x, residual, &y);
        if (st == RV_OK) st = block_reference(b, &x_ref, residual, &ref);
        char what[96], shape[32];
        snprintf(what, sizeof what, "  %s, %s", label(u, shape, sizeof shape),
                 !residual       ? "plain chain"
                 : b->projection ? "residual, 1x1 projection"
                                 : "residual, identity");
        if (st != RV_OK) printf("%s: error: %s -> FAIL\n", what, rv_lesson_keep_error());
        ok = ok && st == RV_OK && rv_expect_close(stdout, what, &y, &ref, RV_TOL_EXACT);
        rv_tensor *all[4] = {&x, &y, &ref, &x_ref};
        for (int i = 0; i < 4; i++) rv_tensor_free(all[i]);
    }
    return ok;
}

/* One table row: counted peaks against the formula; 1 when they match. */
#define ROW "  %-28s %10s %10s %10s %10s %10s  %s\n"
static int table_row(setup *u, rv_device dev, rv_status *st, size_t peaks[2])
{
    form plain = {&u->b, &u->x0, 0}, resid = {&u->b, &u->x0, 1};
    size_t pp = 0, pr = 0;
    *st = peak_of(&plain, dev, &pp);
    if (*st == RV_OK) *st = peak_of(&resid, dev, &pr);
    if (*st != RV_OK) return 0;
    peaks[0] = pp;
    peaks[1] = pr;
    size_t X = (size_t)(u->n * u->in * u->s * u->s) * sizeof(float);
    size_t Y = (size_t)(u->n * u->out * u->os * u->os) * sizeof(float);
    size_t ep = X + Y > 2 * Y ? X + Y : 2 * Y, er = X + 2 * Y > 3 * Y ? X + 2 * Y : 3 * Y;
    int ok = pp == ep && pr == er;
    char shape[48], b[5][32];
    printf(ROW, label(u, shape, sizeof shape), rv_bytes_str(X, b[0], 32), rv_bytes_str(Y, b[1], 32),
           rv_bytes_str(pp, b[2], 32), rv_bytes_str(pr, b[3], 32),
           rv_bytes_str(pr > pp ? pr - pp : 0, b[4], 32), ok ? "= Y" : "FAIL");
    if (!ok)
        printf("      counted %zu and %zu bytes; the formula says plain %zu, residual %zu\n", pp,
               pr, ep, er);
    return ok;
}

int main(int argc, char **argv)
{
    int batch = 1, channels = 8, size = 7, repeat = 100, warmup = 10;
    const char *device;
    rv_device dev;
    int rc = rv_lesson_options(argc, argv,
                               "00_multi_branch_memory: the residual keeps one more activation "
                               "alive than a plain chain (--channels: the projection doubles "
                               "them; --size: the first table row)",
                               &batch, &channels, &size, &repeat, NULL, 0, &device);
    if (rc >= 0 || (rc = rv_cli_device(argv[0], device, &dev)) >= 0) return rc;

    char algebra[1600];
    snprintf(algebra, sizeof algebra,
             "plain    = max(X + Y, 2Y)    (a conv's input and output alive together)\n"
             "residual = max(X + 2Y, 3Y)   (the same, plus the residual kept until the add)\n"
             "\n"
             "The notebook's ResNetBlock: y = ReLU( BN2(conv3x3(ReLU(BN1(conv3x3(x))))) + "
             "s(x) ),\n"
             "with the shortcut s(x) = x when in == out, else BNs(conv1x1(x)); the plain chain\n"
             "is the same two conv-BN layers without it. X: the bytes of the input, Y: those\n"
             "of the output (every conv output has Y bytes here). Run the way a framework\n"
             "runs it, each op allocating its output and each tensor freed after its last\n"
             "use, the residual keeps one output-sized activation more alive: at the add the\n"
             "block holds the residual and the branch (the notebook's \"<- 2x memory\"), a\n"
             "plain chain holds one (\"<- 1x\"). Batch %d, %d channels; the table doubles the\n"
             "size twice, for an identity shortcut (%d -> %d, stride 1) and a 1x1 projection\n"
             "(%d -> %d, stride 2).",
             batch, channels, channels, channels, channels, 2 * channels);
    rv_lesson_begin("Lesson 00: what a residual costs in memory (the notebook's ResNetBlock)",
                    algebra, dev);
    /* The two kinds of block: identity shortcut and 1x1 projection. */
    int64_t c = channels, outs[2] = {c, 2 * c};
    int strides[2] = {1, 2};
    setup u = {0};
    rv_status st = RV_OK;
    int pass = 1;

    printf("\nDoes the forward that frees early compute the block? a: its output, r: that of a\n"
           "forward that keeps every tensor to the end (same ops, same order: bit-exact), on\n"
           "a %dx%dx%dx%d input:\n",
           batch, channels, size, size);
    for (int k = 0; k < 2 && st == RV_OK; k++) {
        st = setup_init(&u, dev, batch, c, outs[k], strides[k], size);
        pass &= st == RV_OK && check(&u);
        setup_free(&u);
    }

    printf("\nThe highest point of live memory while one forward runs, as the tracking\n"
           "allocator counted it: the input included, the conv's workspace left out (a first\n"
           "run sizes it, then it stays; the timing table below counts it too):\n");
    printf(ROW, "in -> out, size", "X, input", "Y, output", "plain", "residual", "extra", "");
    size_t peaks[2] = {0}, first[2] = {0}; /* first: the identity shortcut at --size */
    for (int k = 0; k < 2 && st == RV_OK; k++)
        for (int m = 1; m <= 4 && st == RV_OK; m *= 2) {
            st = setup_init(&u, dev, batch, c, outs[k], strides[k], (int64_t)size * m);
            if (st == RV_OK) pass &= table_row(&u, dev, &st, peaks);
            if (k == 0 && m == 1) memcpy(first, peaks, sizeof first);
            setup_free(&u);
        }
    if (st == RV_OK)
        printf("  Every row: extra = residual - plain = Y, one output-sized activation.\n");
    else
        rv_lesson_keep_error();

    if (st == RV_OK) st = setup_init(&u, dev, batch, c, c, 1, size);
    form plain = {&u.b, &u.x0, 0}, resid = {&u.b, &u.x0, 1};
    rv_lesson_form forms[2] = {
        {.name = "plain chain", .fn = run_form, .ctx = &plain},
        {.name = "residual block", .fn = run_form, .ctx = &resid},
    };
    if (st == RV_OK) {
        char what[96];
        snprintf(what, sizeof what, "identity shortcut, %dx%dx%dx%d input", batch, channels, size,
                 size);
        rv_form_result r[2];
        if (rv_lesson_compare(dev, what, forms, warmup, repeat,
                              "activations: 0 B, since neither form keeps a buffer between calls; "
                              "each op allocates\nits output as it goes, so scratch is the "
                              "highest point of live bytes while one forward\nruns, the input's "
                              "copy and the conv workspace included.",
                              r) == RV_OK)
            pass &= same_peaks(first, r);
    } else {
        rv_lesson_keep_error();
    }
    setup_free(&u);
    rv_workspace_release(dev);
    return rv_lesson_end(pass, dev,
                         "residual peak = plain peak + one output activation, and both forms "
                         "compute the block",
                         "a peak differs from the formula or a form is wrong (see above)");
}
