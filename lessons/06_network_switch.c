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
#include "rv_lesson.h"
#include "rv_plan.h"

typedef struct {
    rv_net train, fast;
    rv_plan plan[2];    /* each form's run: buffers, Winograd weights, workspace */
    size_t planned[2];  /* the bytes each plan took */
    rv_tensor x, y, yf; /* x: (N, C, S, S); y, yf: (N, C_last, S/32, S/32) */
} lesson;

static rv_status train_form(void *ctx)
{
    lesson *l = ctx;
    return rv_plan_forward(&l->plan[0], &l->x, &l->y);
}

static rv_status fast_form(void *ctx)
{
    lesson *l = ctx;
    return rv_plan_forward(&l->plan[1], &l->x, &l->yf);
}

/* The notebook's rule on block i (stride 2, in == out): the identity branch
 * kept. Shows which shapes meet where its forward adds them, and that the
 * block is refused; returns 1 when it is. */
static int notebook_bug(const rv_block_spec *specs, int i, int batch, int channels, int size)
{
    rv_block_spec buggy = specs[i];
    buggy.branch[buggy.n_branches++] = (rv_branch_spec){.kind = RV_BRANCH_IDENTITY, .bn = 1};
    int64_t in[4] = {batch, channels, size, size}, out[4];
    for (int k = 0; k <= i; k++) { /* the shapes block i receives and gives */
        rv_tensor t = {.ndim = 4, .dim = {in[0], in[1], in[2], in[3]}};
        if (rv_block_out_shape(&specs[k], &t, out) != RV_OK) return 0;
        if (k < i) memcpy(in, out, sizeof in);
    }
    printf("\nThe notebook's bug: its RepVGGBlock keeps the identity branch whenever in == out.\n"
           "Block %d opens a stage: %lld -> %lld channels at stride 2. On a %dx%dx%dx%d input it\n"
           "receives x of %lldx%lldx%lldx%lld; its 3x3 and 1x1 branches give %lldx%lldx%lldx%lld "
           "(stride 2\nhalves the height and width), but the identity branch gives x itself, "
           "%lldx%lldx%lldx%lld.\n"
           "The notebook's forward stops at `x += self.identity(res)`: a %lldx%lld map cannot "
           "take a\n%lldx%lld one. The identity branch needs stride 1 (and in == out), as in "
           "the paper;\nthis course builds it only there, and refuses the notebook's block:\n",
           i, (long long)buggy.in_ch, (long long)buggy.out_ch, batch, channels, size, size,
           (long long)in[0], (long long)in[1], (long long)in[2], (long long)in[3],
           (long long)out[0], (long long)out[1], (long long)out[2], (long long)out[3],
           (long long)in[0], (long long)in[1], (long long)in[2], (long long)in[3],
           (long long)out[2], (long long)out[3], (long long)in[2], (long long)in[3]);
    int refused = rv_block_check(&buggy) == RV_EINVAL;
    printf("  %s\n", refused ? rv_last_error() : "it was accepted (unexpected)");
    return refused;
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
    return rv_tensor_random(x, dev, 4, (const int64_t[]){n, c, s, s}, rng, -1.0f, 1.0f, "input");
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
    /* each form's plan: its buffers, prepared weights and workspace, made
     * once; the forwards then allocate nothing */
    if (st == RV_OK)
        st = rv_plan_build_counted(&l->plan[0], &l->train, &l->x, NULL, &l->planned[0]);
    if (st == RV_OK) st = rv_plan_build_counted(&l->plan[1], &l->fast, &l->x, NULL, &l->planned[1]);
    if (st == RV_OK) st = train_form(l);
    if (st == RV_OK) st = fast_form(l);
    return st;
}

static void destroy(lesson *l)
{
    rv_plan_free(&l->plan[0]);
    rv_plan_free(&l->plan[1]);
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
    char inputs[128]; /* what build() allocates per input channel, float32 */
    snprintf(inputs, sizeof inputs,
             "%d input image(s) of %dx%d and 2 calibration images of 128x128", batch, size, size);
    if ((rc = rv_cli_channels_fit(
             argv[0], channels, 4.0 * (2 * 128 * 128 + (double)batch * size * size), inputs)) >= 0)
        return rc;
    rv_arch arch;
    rv_block_spec specs[RV_MAX_BLOCKS];
    int n = 0;
    if (rv_arch_preset(arch_name, &arch) != RV_OK ||
        rv_arch_specs(&arch, channels, specs, &n) != RV_OK) {
        fprintf(stderr, "%s: %s\n", argv[0], rv_last_error());
        return 2;
    }
    if ((rc = rv_cli_device(argv[0], device, &dev)) >= 0) return rc;

    char algebra[1400];
    snprintf(
        algebra, sizeof algebra,
        "net_deploy(x) = net_train(x)\n"
        "\n"
        "RepVGG-%s: %d blocks in five stages of widths %lld, %lld, %lld, %lld and %lld output\n"
        "channels; the first block of each stage has stride 2 (it halves the height and\n"
        "width), the others stride 1. net_train runs every block in its train-time form\n"
        "(3x3 conv-BN + 1x1 conv-BN + identity BN, summed, ReLU: lesson 05); net_deploy\n"
        "is what switch_to_fast makes of it: every block replaced by its one 3x3 conv +\n"
        "ReLU, a plain stack like VGG. x: the input, %dx%dx%dx%d (images, channels,\n"
        "height, width). Each block computes the same function in both forms, so the\n"
        "chain does too, up to float32 rounding, which every later block carries on.",
        arch.name, n, (long long)arch.widths[0], (long long)arch.widths[1],
        (long long)arch.widths[2], (long long)arch.widths[3], (long long)arch.widths[4], batch,
        channels, size, size);
    char title[128];
    snprintf(title, sizeof title,
             "Lesson 06: the whole network switched, RepVGG-%s (the notebook's "
             "RepVGG.switch_to_fast)",
             arch.name);
    rv_lesson_begin(title, algebra, dev);

    int pass = 1;
    int stride2_same = -1; /* the first stride-2 block with in == out */
    for (int i = 0; i < n && stride2_same < 0; i++)
        if (specs[i].stride == 2 && specs[i].in_ch == specs[i].out_ch) stride2_same = i;
    if (stride2_same >= 0)
        pass &= notebook_bug(specs, stride2_same, batch, channels, size);
    else
        printf("\nRepVGG-%s has no stride-2 block with in == out: the notebook's bug does not "
               "show.\n",
               arch.name);

    lesson l = {0};
    rv_status st = build(&l, specs, n, dev, batch, channels, size);
    if (st == RV_OK) {
        printf("\nWhat the switch saves: %lld parameters become %lld (%.1f%% fewer); one forward\n"
               "takes %.3f G multiply-adds (G = 10^9) train-time and %.3f G multiply-adds "
               "deploy-time.\n",
               (long long)rv_net_params(&l.train), (long long)rv_net_params(&l.fast),
               100.0 * (1.0 - (double)rv_net_params(&l.fast) / (double)rv_net_params(&l.train)),
               rv_net_macs(&l.train, batch, size, size) / 1e9,
               rv_net_macs(&l.fast, batch, size, size) / 1e9);
    }
    rv_form_result r[2] = {0};
    if (st == RV_OK)
        st = rv_measure_pair(train_form, &l, fast_form, &l, dev, warmup, repeat, &r[0], &r[1]);
    /* each form's memory: its plan, then what a forward adds (nothing) */
    for (int f = 0; f < 2; f++) r[f].peak_bytes += l.planned[f];
    if (st != RV_OK) {
        rv_lesson_keep_error();
        destroy(&l);
        return rv_lesson_end(0, dev, "", "");
    }
    rv_lesson_agree_heading("the deploy-time block's", "the train-time block's, on the same input");
    printf("Alone: each deploy-time block against its train-time block; chain so far: the\n"
           "deploy-time network's output after that block against the train-time network's.\n");
    pass &= per_block(&l, n);
    rv_tol net = RV_TOL_NET;
    printf("\nEnd to end, through %d blocks: each block's rounding passes through every later\n"
           "block, so the whole network is held to a looser bound, %g for both |a - r| (with s)\n"
           "and the relative L2 error; a real fusion bug is orders of magnitude larger.\n",
           n, net.max_rel_l2);
    pass &= rv_expect_close(stdout, "  deploy-time vs train-time output", &l.yf, &l.y, RV_TOL_NET);

    rv_lesson_form forms[2] = {
        {.name = "train-time (multi-branch)",
         .activations = rv_plan_describe(&l.plan[0]).activation_bytes},
        {.name = "deploy-time (conv3x3+ReLU)",
         .activations = rv_plan_describe(&l.plan[1]).activation_bytes},
    };
    for (int f = 0; f < 2; f++) r[f].peak_bytes -= forms[f].activations; /* the rest: scratch */
    char what[96];
    snprintf(what, sizeof what, "RepVGG-%s on a %dx%dx%dx%d input", arch.name, batch, channels,
             size, size);
    rv_lesson_print_forms(
        what, forms, r, warmup, repeat,
        "memory = activations (the buffers planned for the blocks' outputs: two that take\n"
        "         turns, and for the train-time form one more for its branches)\n"
        "       + scratch (on the CPU the 3x3 weights transformed for Winograd, and the\n"
        "         conv workspace); the input, the output and the weights are not counted.");
    destroy(&l);
    char holds[96], fails[96];
    snprintf(holds, sizeof holds, "deploy-time RepVGG-%s matches the train-time network",
             arch.name);
    snprintf(fails, sizeof fails, "deploy-time RepVGG-%s does NOT match the train-time network",
             arch.name);
    return rv_lesson_end(pass, dev, holds, fails);
}
