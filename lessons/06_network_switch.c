/* Lesson 06 - the whole-network switch (the notebook's RepVGG.switch_to_fast).
 *
 * A RepVGG network is five stages of blocks (lesson 05); the first block of
 * each stage has stride 2. switch_to_fast replaces every block by its fused
 * 3x3 conv, so the deploy-time network is a plain VGG-style stack of
 * conv3x3 + ReLU that computes the same function:
 *     net_deploy(x) = net_train(x)   (up to float32 rounding, RV_TOL_NET)
 *
 * The notebook's bug, fixed here: its RepVGGBlock adds the identity branch
 * whenever in == out, also at stride 2, where the identity keeps the input's
 * size but the other branches halve it. RepVGG-A0's widths are 48, 48, ...,
 * so its stage 1 opens with a 48 -> 48 stride-2 block and the notebook's
 * model fails with a shape mismatch. The paper (and this course) adds the
 * identity only when in == out and stride == 1. This lesson shows both.
 *
 * Run:   build/bin/06_network_switch [--arch A0|A1|A2|B0|B1|B1g2|B1g4|...]
 *            [--device auto|cpu|cuda] [--batch N] [--channels C] [--size S]
 *            [--repeat R]
 * Defaults: RepVGG-A0 on one 3x224x224 image (the paper's input).
 * Exit:  0 PASS, 1 FAIL, 2 bad usage or no such device.
 */
#include <stdio.h>
#include <string.h>

#include "rv_check.h"
#include "rv_cli.h"
#include "rv_net.h"
#include "rv_report.h"

typedef struct {
    rv_net train, fast;
    rv_tensor x, y, yf; /* x: (N, C, S, S); y, yf: (N, C_last, S/32, S/32) */
} lesson;

static rv_status train_form(void *ctx)
{
    lesson *l = ctx;
    return rv_net_forward(&l->train, &l->x, &l->y);
}

static rv_status fast_form(void *ctx)
{
    lesson *l = ctx;
    return rv_net_forward(&l->fast, &l->x, &l->yf);
}

/* The notebook's rule on the first block of stage 1: identity because
 * in == out, although the stride is 2. Returns 1 when the shape mismatch
 * shows up as an error, as it should. */
static int notebook_bug(const rv_block_spec *spec, rv_device dev)
{
    rv_block_spec buggy = *spec;
    buggy.branch[buggy.n_branches++] = (rv_branch_spec){.kind = RV_BRANCH_IDENTITY, .bn = 1};
    rv_rng rng = rv_rng_seed(9);
    rv_block b;
    rv_tensor hx = {0}, x = {0}, tmp = {0}, y = {0};
    int64_t out[4];
    rv_status st = rv_block_init_random(&b, buggy, &rng, dev);
    if (st == RV_OK) st = rv_tensor_alloc4(&hx, RV_CPU, 1, spec->in_ch, 8, 8, "x");
    if (st == RV_OK) st = rv_tensor_fill(&hx, 1.0f);
    if (st == RV_OK) st = rv_tensor_clone(&x, &hx, dev, "x");
    if (st == RV_OK) st = rv_block_out_shape(&buggy, &x, out);
    if (st == RV_OK) st = rv_tensor_alloc(&tmp, dev, 4, out, "tmp");
    if (st == RV_OK) st = rv_tensor_alloc(&y, dev, 4, out, "y");
    int failed_as_expected = st == RV_EINVAL;
    if (failed_as_expected) {
        printf("  notebook rule, block %lld -> %lld stride %d with identity: %s\n",
               (long long)spec->in_ch, (long long)spec->out_ch, spec->stride, rv_last_error());
    } else if (st == RV_OK) {
        st = rv_block_forward(&b, &x, &tmp, &y);
        failed_as_expected = st == RV_EINVAL;
        printf("  notebook rule, block %lld -> %lld stride %d with identity: %s\n",
               (long long)spec->in_ch, (long long)spec->out_ch, spec->stride,
               failed_as_expected ? rv_last_error() : "ran (unexpected)");
    } else {
        printf("  could not build the notebook's block: %s\n", rv_lesson_keep_error());
    }
    rv_block_free(&b);
    rv_tensor *t[4] = {&hx, &x, &tmp, &y};
    for (int i = 0; i < 4; i++) rv_tensor_free(t[i]);
    return failed_as_expected;
}

/* rv_compare on tensors of any device. */
static rv_status compare(const rv_tensor *a, const rv_tensor *ref, rv_tol tol, rv_cmp *out)
{
    rv_tensor ha, hr;
    rv_status st = rv_tensor_clone(&ha, a, RV_CPU, "comparison copy");
    if (st != RV_OK) return st;
    st = rv_tensor_clone(&hr, ref, RV_CPU, "comparison copy");
    if (st == RV_OK) *out = rv_compare(ha.data, hr.data, rv_tensor_numel(&ha), tol);
    rv_tensor_free(&ha);
    rv_tensor_free(&hr);
    return st;
}

/* Block by block: each fast block against its train-time block on the same
 * input (held to RV_TOL_FP32), and the error of the fast chain so far (how
 * depth amplifies rounding). Returns 1 when every block passes alone. */
static int per_block(const lesson *l, int n)
{
    rv_tensor in = l->x, in_fast = l->x, out = {0}, out_fast = {0}, alone = {0}, tmp = {0};
    int pass = 1;
    rv_status st = RV_OK;
    printf("  block  in -> out  stride groups branches   alone: rel L2   chain so far: rel L2\n");
    for (int i = 0; i < n && st == RV_OK; i++) {
        const rv_block *b = &l->train.blocks[i];
        int64_t shape[4];
        rv_cmp c_alone = {0}, c_chain = {0};
        st = rv_block_out_shape(&b->spec, &in, shape);
        if (st == RV_OK) st = rv_tensor_alloc(&out, l->x.device, 4, shape, "block output");
        if (st == RV_OK) st = rv_tensor_alloc(&out_fast, l->x.device, 4, shape, "fast output");
        if (st == RV_OK) st = rv_tensor_alloc(&alone, l->x.device, 4, shape, "fast output");
        if (st == RV_OK) st = rv_tensor_alloc(&tmp, l->x.device, 4, shape, "scratch");
        if (st == RV_OK) st = rv_block_forward(b, &in, &tmp, &out);
        if (st == RV_OK) st = rv_block_forward(&l->fast.blocks[i], &in, NULL, &alone);
        if (st == RV_OK) st = rv_block_forward(&l->fast.blocks[i], &in_fast, NULL, &out_fast);
        if (st == RV_OK) st = compare(&alone, &out, RV_TOL_FP32, &c_alone);
        if (st == RV_OK) st = compare(&out_fast, &out, RV_TOL_NET, &c_chain);
        if (st == RV_OK) {
            printf("  %5d %4lld -> %-4lld %6d %6d %8d %15.2e %s %15.2e\n", i,
                   (long long)b->spec.in_ch, (long long)b->spec.out_ch, b->spec.stride,
                   b->spec.groups, b->spec.n_branches, c_alone.rel_l2,
                   c_alone.pass ? "ok  " : "FAIL", c_chain.rel_l2);
            pass &= c_alone.pass;
        }
        if (i > 0) {
            rv_tensor_free(&in);
            rv_tensor_free(&in_fast);
        }
        rv_tensor_free(&alone);
        rv_tensor_free(&tmp);
        in = out;
        in_fast = out_fast;
    }
    if (n > 0 && in.data != l->x.data) {
        rv_tensor_free(&in);
        rv_tensor_free(&in_fast);
    }
    if (st != RV_OK) printf("  error: %s\n", rv_lesson_keep_error());
    return pass && st == RV_OK;
}

/* x (n, c, s, s) uniform in [-1, 1] on dev. */
static rv_status random_input(rv_tensor *x, rv_device dev, int n, int c, int s, rv_rng *rng)
{
    rv_tensor hx;
    rv_status st = rv_tensor_alloc4(&hx, RV_CPU, n, c, s, s, "input");
    if (st != RV_OK) return st;
    rv_tensor_fill_uniform(&hx, rng, -1.0f, 1.0f);
    st = rv_tensor_clone(x, &hx, dev, "input");
    rv_tensor_free(&hx);
    return st;
}

static rv_status build(lesson *l, const rv_block_spec *specs, int n, rv_device dev, int batch,
                       int channels, int size)
{
    rv_rng rng = rv_rng_seed(6);
    rv_tensor calib = {0};
    int64_t out[4];
    int rank;
    rv_status st = rv_net_init_random(&l->train, specs, n, 0, &rng, dev);
    /* BN statistics as training leaves them: from a batch of "training
     * images" (2 x 128 x 128, whatever the test size), perturbed. Statistics
     * from a tiny map (a 32x32 input ends in 1x1 maps) make the network
     * hypersensitive, which would blur the check below. */
    if (st == RV_OK) st = random_input(&calib, dev, 2, channels, 128, &rng);
    if (st == RV_OK) st = rv_net_calibrate_bn(&l->train, &calib, &rng);
    rv_tensor_free(&calib);
    if (st == RV_OK) st = rv_net_switch_to_fast(&l->train, &l->fast);
    if (st == RV_OK) st = random_input(&l->x, dev, batch, channels, size, &rng);
    if (st == RV_OK) st = rv_net_out_shape(&l->train, &l->x, out, &rank);
    if (st == RV_OK) st = rv_tensor_alloc(&l->y, dev, rank, out, "train-time output");
    if (st == RV_OK) st = rv_tensor_alloc(&l->yf, dev, rank, out, "deploy-time output");
    /* one forward each, so both nets have planned their buffers before timing */
    if (st == RV_OK) st = train_form(l);
    if (st == RV_OK) st = fast_form(l);
    return st;
}

static void destroy(lesson *l)
{
    rv_net_free(&l->train);
    rv_net_free(&l->fast);
    rv_tensor_free(&l->x);
    rv_tensor_free(&l->y);
    rv_tensor_free(&l->yf);
}

int main(int argc, char **argv)
{
    int batch = 1, channels = 3, size = 224, repeat = 5, warmup = 2;
    const char *arch_name = "A0";
    rv_opt arch_opt = {"arch", RV_OPT_STR, &arch_name, "RepVGG preset"};
    const char *device;
    rv_device dev;
    int rc = rv_lesson_options(argc, argv,
                               "06_network_switch: a whole RepVGG, train-time vs "
                               "deploy-time after switch_to_fast",
                               &batch, &channels, &size, &repeat, &arch_opt, 1, &device);
    if (rc >= 0) return rc;
    rv_arch arch;
    rv_block_spec specs[RV_MAX_BLOCKS];
    int n = 0;
    if (rv_arch_preset(arch_name, &arch) != RV_OK ||
        rv_arch_specs(&arch, channels, specs, &n) != RV_OK) {
        fprintf(stderr, "%s: %s\n", argv[0], rv_last_error());
        return 2;
    }
    if ((rc = rv_cli_device(argv[0], device, &dev)) >= 0) return rc;

    printf("Lesson 06: RepVGG-%s, %d blocks, widths %lld %lld %lld %lld %lld, input %dx%dx%dx%d\n",
           arch.name, n, (long long)arch.widths[0], (long long)arch.widths[1],
           (long long)arch.widths[2], (long long)arch.widths[3], (long long)arch.widths[4], batch,
           channels, size, size);
    rv_print_device(dev);

    printf("\nThe notebook's identity rule (in == out) vs the paper's (in == out and stride 1):\n");
    int pass = 1;
    int stride2_same = -1; /* the first stride-2 block with in == out */
    for (int i = 0; i < n && stride2_same < 0; i++)
        if (specs[i].stride == 2 && specs[i].in_ch == specs[i].out_ch) stride2_same = i;
    if (stride2_same >= 0)
        pass &= notebook_bug(&specs[stride2_same], dev);
    else
        printf("  RepVGG-%s has no stride-2 block with in == out: the bug does not show\n",
               arch.name);

    lesson l = {0};
    rv_status st = build(&l, specs, n, dev, batch, channels, size);
    if (st == RV_OK) {
        printf("  paper rule: %lld -> %lld parameters after the switch (%.1f%% fewer)\n",
               (long long)rv_net_params(&l.train), (long long)rv_net_params(&l.fast),
               100.0 * (1.0 - (double)rv_net_params(&l.fast) / (double)rv_net_params(&l.train)));
        printf("  multiply-adds per forward: train-time %.3f G, deploy-time %.3f G\n",
               rv_net_macs(&l.train, batch, size, size) / 1e9,
               rv_net_macs(&l.fast, batch, size, size) / 1e9);
    }
    rv_form_result r_train = {0}, r_fast = {0};
    rv_net_unplan(&l.train); /* fresh plans: each form's peak counts its own buffers */
    rv_net_unplan(&l.fast);
    if (st == RV_OK)
        st = rv_measure_pair(train_form, &l, fast_form, &l, dev, warmup, repeat, &r_train, &r_fast);
    if (st != RV_OK) {
        rv_lesson_keep_error();
        destroy(&l);
        printf("\nFAIL: %s\n", rv_lesson_error());
        return 1;
    }
    printf("\nDo the forms agree, block by block?\n");
    pass &= per_block(&l, n);
    printf("\nDo the forms agree end to end? (through %d blocks, RV_TOL_NET)\n", n);
    pass &= rv_expect_close(stdout, "  deploy-time vs train-time output", &l.yf, &l.y, RV_TOL_NET);

    printf("\nHonest measurement (%d warm-up runs, synchronised, the two forms by turns, median "
           "of %d;\npeak = what a first forward allocates: planned activation buffers, on the "
           "CPU the Winograd-domain\nweights, the conv workspace):\n",
           warmup, repeat);
    rv_print_form("train-time (multi-branch)", &r_train);
    rv_print_form("deploy-time (conv3x3+ReLU)", &r_fast);
    char bt[32], bf[32];
    printf("  planned activation buffers: train-time %s (two ping-pong buffers + one for the "
           "branches), deploy-time %s\n",
           rv_bytes_str(rv_net_buffer_bytes(&l.train), bt, sizeof bt),
           rv_bytes_str(rv_net_buffer_bytes(&l.fast), bf, sizeof bf));
    printf("  deploy-time is %.2fx the speed of train-time (median / median)\n",
           r_train.time.median_ms / r_fast.time.median_ms);
    destroy(&l);
    if (rv_lesson_error()[0])
        printf("\nFAIL: %s\n", rv_lesson_error());
    else
        printf("\n%s: deploy-time RepVGG-%s %s the train-time network on %s\n",
               pass ? "PASS" : "FAIL", arch.name, pass ? "matches" : "does NOT match",
               rv_device_name(dev));
    return pass && !rv_lesson_error()[0] ? 0 : 1;
}
