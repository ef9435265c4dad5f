/* repvgg - convert and run real RepVGG weights.
 *
 *   repvgg info    W.safetensors [--shape N,C,H,W]
 *   repvgg init    --arch A0 | --widths 8,8,16,32,64 --depths 1,2,2,2,1
 *                  [--layout notebook|official] [--seed N] [--classes K] OUT.safetensors
 *   repvgg convert IN.safetensors OUT.safetensors
 *   repvgg run     --weights W.safetensors --input X.npy --output Y.npy [--device D]
 *   repvgg bench   --weights W.safetensors --shape N,C,H,W | --input X.npy [--device D]
 *                  [--repeat R] [--warmup K] [--graph] [--tf32] [--no-winograd] [--openblas]
 *   repvgg train   [--data DIR] [--arch F0] [--epochs E] [--batch B] [--seed S] [--threads T]
 *                  [--lr LR] [--limit N] [--test-limit N] [--no-augment] OUT.safetensors
 *   repvgg eval    --weights W.safetensors [--data DIR] [--limit N]
 *
 * Weights are safetensors in either naming layout (src/io/rv_weights.h), in the
 * train-time or the deploy-time form; `convert` is the notebook's
 * switch_to_fast as a tool. Activations are float32 NCHW .npy files.
 * `train` and `eval` read Fashion-MNIST (src/io/rv_fashion.h; missing, they
 * name the package to install and exit 2); train's loop is src/train/rv_loop.h.
 * Exit codes: 0 ok, 1 bad data (a file, a tensor), 2 bad usage (an argument,
 * an unavailable device). Outputs are written atomically: on any error
 * nothing is left at the output path (src/io/rv_file.h: an existing device
 * or FIFO is written in place, never replaced). Standard output carries each command's
 * result (info's report; the "wrote FILE: ..." line of init, convert and
 * run; bench's TSV), standard error the progress, notes and errors; results
 * that cannot be written there (standard output closed or full) are exit 1.
 * Multiply-adds print as "1.360 G multiply-adds" (G = 10^9), as in lesson 06.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "rv_alloc.h"
#include "rv_check.h"
#include "rv_cli.h"
#include "rv_cpu.h"
#include "rv_fashion.h"
#include "rv_loop.h"
#include "rv_npy.h"
#include "rv_ops.h"
#include "rv_plan.h"
#include "rv_report.h"
#include "rv_results.h"
#include "rv_safetensors.h"
#include "rv_timing.h"
#include "rv_weights.h"
#ifdef RV_HAVE_CUDA
#include "rv_cuda.h"
#endif

enum { EXIT_DATA = 1, EXIT_USAGE = 2 };

static const char *const usage_main =
    "repvgg: convert, run and train RepVGG weights (safetensors in, .npy activations)\n"
    "\n"
    "commands:\n"
    "  info    W.safetensors [--shape N,C,H,W]   what the weights hold\n"
    "  init    --arch A0 | --widths W --depths D [--layout notebook|official] [--seed N]\n"
    "          [--classes K (official layout)] OUT.safetensors   random train-time weights\n"
    "  convert IN.safetensors OUT.safetensors    train-time -> deploy-time (switch_to_fast)\n"
    "  run     --weights W --input X.npy --output Y.npy [--device D]   one forward pass\n"
    "  bench   --weights W --shape N,C,H,W | --input X.npy [--device D] [--repeat R]\n"
    "          [--warmup K] [--graph] [--tf32] [--no-winograd] [--openblas]\n"
    "                                            latency and memory of one forward (TSV)\n"
    "  train   [--data DIR] [--arch F0] [--epochs E] [--batch B] [--seed S] [--threads T]\n"
    "          [--lr LR] [--limit N] OUT.safetensors   train on Fashion-MNIST (28x28 clothes)\n"
    "  eval    --weights W [--data DIR]          test accuracy and confusion matrix\n"
    "\n"
    "D is auto, cpu or cuda. `repvgg CMD --help` explains each command's options.\n"
    "Results go to standard output, progress, notes and errors to standard error.\n"
    "Exit codes: 0 ok, 1 bad data (a file, a tensor), 2 bad usage (an argument, a device).";

/* "unexpected argument 'A0' (did you mean --arch A0?)": a positional that
 * names what one of the command's options takes (flag, or NULL for none). */
static int unexpected(const char *prog, const char *arg, const char *flag)
{
    if (flag)
        fprintf(stderr, "%s: unexpected argument '%s' (did you mean %s %s?)\n", prog, arg, flag,
                arg);
    else
        fprintf(stderr, "%s: unexpected argument '%s' (see --help)\n", prog, arg);
    return EXIT_USAGE;
}

/* For run and bench, which take options only: -1 when there is no
 * positional argument, else the usage error naming the first (a weights
 * file gets the hint "--weights"). */
static int no_positional(const char *prog, const char *const *pos, int npos)
{
    if (!npos) return -1;
    size_t n = strlen(pos[0]), k = strlen(".safetensors");
    int weights = n > k && strcmp(pos[0] + n - k, ".safetensors") == 0;
    return unexpected(prog, pos[0], weights ? "--weights" : NULL);
}

/* The exit code for a failed library call: usage errors are 2, the rest 1. */
static int fail(const char *prog, rv_status st)
{
    fprintf(stderr, "%s: %s\n", prog, rv_last_error());
    return st == RV_EINVAL ? EXIT_USAGE : EXIT_DATA;
}

static int parse_shape(const char *prog, const char *s, int64_t shape[4])
{
    const char *p = s;
    double elements = 1;
    for (int i = 0; i < 4; i++) {
        char *end;
        errno = 0;
        long long v = strtoll(p, &end, 10);
        if (end == p || errno || v < 1 || v > INT32_MAX || *end != (i < 3 ? ',' : '\0')) {
            fprintf(stderr,
                    "%s: --shape: expected N,C,H,W (four integers from 1 to %d), got '%s'\n", prog,
                    INT32_MAX, s);
            return EXIT_USAGE;
        }
        shape[i] = v;
        elements *= (double)v;
        p = end + 1;
    }
    if (elements > 0x1p40) { /* 4 TiB of float32: no machine holds it */
        fprintf(stderr, "%s: --shape: %s is %.3g elements, more than any input can be\n", prog, s,
                elements);
        return EXIT_USAGE;
    }
    return -1;
}

/* Reads a weights file into a net on dev. */
static int load(const char *prog, const char *path, rv_device dev, rv_net *net, rv_layout *layout,
                int *skipped)
{
    rv_named *ts;
    int n;
    rv_status st = rv_safetensors_read(path, &ts, &n, skipped);
    if (st != RV_OK) return fail(prog, st);
    st = rv_weights_to_net(ts, n, path, dev, net, layout);
    rv_named_free(ts, n);
    return st == RV_OK ? -1 : fail(prog, st == RV_EINVAL ? RV_EFORMAT : st);
}

static int cmd_info(int argc, char **argv)
{
    const char *shape_arg = NULL, *pos[1];
    int npos, rc;
    rv_opt opts[] = {{"shape", RV_OPT_STR, &shape_arg,
                      "input shape N,C,H,W for the multiply-add count (default 1,C,224,224, C "
                      "the stem's channels)"}};
    rc = rv_parse_args_pos(argc, argv,
                           "repvgg info W.safetensors [--shape N,C,H,W]: what the "
                           "weights hold",
                           opts, 1, pos, 1, &npos);
    if (rc >= 0) return rc;
    int64_t shape[4];
    if (npos != 1) {
        fprintf(stderr, "%s: expected one weights file (see --help)\n", argv[0]);
        return EXIT_USAGE;
    }
    if (shape_arg && (rc = parse_shape(argv[0], shape_arg, shape)) >= 0) return rc;
    rv_net net;
    rv_layout layout;
    int skipped;
    if ((rc = load(argv[0], pos[0], RV_CPU, &net, &layout, &skipped)) >= 0) return rc;
    if (!shape_arg) { /* one 224x224 image of as many channels as the stem takes */
        shape[0] = 1;
        shape[1] = rv_net_spec(&net, 0)->in_ch;
        shape[2] = shape[3] = 224;
    }
    if (shape[1] != rv_net_spec(&net, 0)->in_ch) {
        fprintf(stderr, "%s: --shape: C = %lld, but the stem of %s takes %lld channels\n", argv[0],
                (long long)shape[1], pos[0], (long long)rv_net_spec(&net, 0)->in_ch);
        rv_net_free(&net);
        return EXIT_USAGE;
    }
    /* a deploy-time file holds one fused conv per block, not its branches:
     * what can be said is what the paper's rule gives, in parentheses */
    int deploy = rv_net_is_deploy(&net), identity[RV_MAX_BLOCKS]; /* (the loader's limit) */
    for (int i = 0; i < net.n_blocks; i++) {
        const rv_block_spec *sp = rv_net_spec(&net, i);
        rv_status st = RV_OK;
        if (deploy)
            st = rv_block_wants_identity(sp->in_ch, sp->out_ch, sp->stride, &identity[i]);
        else
            identity[i] = rv_block_find_branch(sp, RV_BRANCH_IDENTITY) >= 0;
        if (st != RV_OK) {
            rv_net_free(&net);
            return fail(argv[0], st == RV_EINVAL ? RV_EFORMAT : st);
        }
    }
    printf("file:     %s\nlayout:   %s\nform:     %s\n", pos[0], rv_layout_name(layout),
           deploy ? "deploy-time (one 3x3 conv + ReLU per block)"
                  : "train-time (3x3 conv-BN + 1x1 conv-BN + identity BN per block)");
    if (skipped) printf("ignored:  %d integer tensor(s) (BN num_batches_tracked)\n", skipped);
    printf("blocks:   %d\n  block stage  in -> out   stride groups identity\n", net.n_blocks);
    for (int i = 0, s = -1; i < net.n_blocks; i++) {
        const rv_block_spec *sp = rv_net_spec(&net, i);
        if (i == 0 || sp->stride == 2) s++;
        printf("  %5d %5d %4lld -> %-5lld %6d %6d %8s\n", i, s, (long long)sp->in_ch,
               (long long)sp->out_ch, sp->stride, sp->groups,
               deploy ? (identity[i] ? "(yes)" : "(no)") : (identity[i] ? "yes" : "no"));
    }
    if (deploy)
        printf("  (yes), (no): a deploy-time file does not record the branches it was fused\n"
               "  from; in parentheses, whether the paper's rule (an identity branch when\n"
               "  in == out and stride is 1) gives the block one.\n");
    if (net.head_w.data)
        printf("head:     global average pool + linear %lld -> %lld classes\n",
               (long long)net.head_w.dim[1], (long long)net.head_w.dim[0]);
    else
        printf("head:     none (features out)\n");
    printf("params:   %lld\n", (long long)rv_net_params(&net));
    printf("compute:  %.3f G multiply-adds (G = 10^9) per forward of a %lldx%lldx%lldx%lld input\n",
           rv_net_macs(&net, shape[0], shape[2], shape[3]) / 1e9, (long long)shape[0],
           (long long)shape[1], (long long)shape[2], (long long)shape[3]);
    rv_net_free(&net);
    return 0;
}

/* Five positive integers "a,b,c,d,e" into v; 0 if the text is not that. */
static int parse_five(const char *s, int64_t *v)
{
    long long t[5];
    char tail;
    if (sscanf(s, "%lld,%lld,%lld,%lld,%lld%c", &t[0], &t[1], &t[2], &t[3], &t[4], &tail) != 5)
        return 0;
    for (int i = 0; i < 5; i++) {
        if (t[i] < 1 || t[i] > 65536) return 0;
        v[i] = t[i];
    }
    return 1;
}

/* The architecture from --arch, or from --widths and --depths (the
 * notebook's RepVGG(widths, depths), stage 0 included). */
static rv_status init_arch(const char *arch_name, const char *widths, const char *depths,
                           rv_arch *arch)
{
    if (arch_name && !widths && !depths) return rv_arch_preset(arch_name, arch);
    int64_t w[5], d[5];
    if (arch_name || !widths || !depths)
        return rv_error(RV_EINVAL, "give --arch, or both --widths and --depths");
    if (!parse_five(widths, w) || !parse_five(depths, d))
        return rv_error(RV_EINVAL, "--widths and --depths: expected five positive integers each, "
                                   "e.g. 8,8,16,32,64 and 1,2,2,2,1");
    *arch = (rv_arch){.name = "custom", .groups = 1};
    for (int s = 0; s < RV_STAGES; s++) {
        arch->widths[s] = w[s];
        arch->depths[s] = (int)d[s];
    }
    return RV_OK;
}

static int cmd_init(int argc, char **argv)
{
    const char *arch_name = NULL, *widths = NULL, *depths = NULL, *layout_arg = "notebook", *pos[4];
    int seed = 1, classes = 0 /* not given */, npos, rc;
    rv_opt opts[] = {
        {"arch", RV_OPT_STR, &arch_name, "A0, A1, A2, B0, B1, B1g2, B1g4, B2, B2g2, B2g4, B3, ..."},
        {"widths", RV_OPT_STR, &widths, "instead of --arch: five stage widths, e.g. 8,8,16,32,64"},
        {"depths", RV_OPT_STR, &depths, "with --widths: five stage depths, e.g. 1,2,2,2,1"},
        {"layout", RV_OPT_STR, &layout_arg, "notebook or official"},
        {"seed", RV_OPT_COUNT, &seed, "random seed"},
        {"classes", RV_OPT_INT, &classes,
         "official layout: classes of the linear head (default 1000); the notebook's "
         "RepVGG has no head"},
    };
    rc = rv_parse_args_pos(argc, argv,
                           "repvgg init --arch A0 | --widths W --depths D [--layout L] "
                           "[--seed N] [--classes K] OUT.safetensors: random train-time "
                           "weights with BN statistics "
                           "calibrated on random images (as training leaves them)",
                           opts, 6, pos, sizeof pos / sizeof pos[0], &npos);
    if (rc >= 0) return rc;
    rv_arch arch;
    rv_layout layout;
    rv_block_spec specs[RV_MAX_BLOCKS];
    int n;
    for (int i = 0; i < npos; i++) /* "init A0 OUT": an architecture where a file belongs */
        if (rv_arch_preset(pos[i], &arch) == RV_OK) return unexpected(argv[0], pos[i], "--arch");
    if (npos > 1) return unexpected(argv[0], pos[1], NULL);
    if (npos != 1) {
        fprintf(stderr, "%s: expected one output file (see --help)\n", argv[0]);
        return EXIT_USAGE;
    }
    rv_status st = init_arch(arch_name, widths, depths, &arch);
    if (st == RV_OK) st = rv_layout_parse(layout_arg, &layout);
    if (st == RV_OK && classes && layout == RV_LAYOUT_NOTEBOOK)
        st = rv_error(RV_EINVAL,
                      "--classes: the notebook layout has no classifier head (its "
                      "RepVGG ends with the last stage's features); add --layout "
                      "official for a linear head of %d classes",
                      classes);
    if (st == RV_OK) st = rv_arch_specs(&arch, 3, specs, &n);
    if (st != RV_OK) return fail(argv[0], st);
    if (layout == RV_LAYOUT_OFFICIAL && !classes) classes = 1000; /* ImageNet's, as the paper */
    rv_rng rng = rv_rng_seed((uint64_t)seed);
    rv_net net = {0};
    rv_tensor x = {0};
    rv_named *ts = NULL;
    int count = 0;
    fprintf(stderr, "%s: RepVGG-%s, %d blocks: random weights, calibrating BN...\n", argv[0],
            arch.name, n);
    st = rv_net_init_random(&net, specs, n, classes, &rng, RV_CPU);
    if (st == RV_OK)
        st = rv_tensor_random(&x, RV_CPU, 4, (const int64_t[]){2, 3, 128, 128}, &rng, -1.0f, 1.0f,
                              "calibration images");
    if (st == RV_OK) st = rv_net_calibrate_bn(&net, &x, &rng);
    if (st == RV_OK) st = rv_net_to_weights(&net, layout, &ts, &count);
    if (st == RV_OK) st = rv_safetensors_write(pos[0], ts, count);
    char head[48] = "no head";
    if (classes) snprintf(head, sizeof head, "a linear head of %d classes", classes);
    if (st == RV_OK)
        printf("wrote %s: RepVGG-%s, %s layout, train-time, %s, %d tensors\n", pos[0], arch.name,
               rv_layout_name(layout), head, count);
    rv_named_free(ts, count);
    rv_tensor_free(&x);
    rv_net_free(&net);
    return st == RV_OK ? 0 : fail(argv[0], st);
}

static int cmd_convert(int argc, char **argv)
{
    const char *pos[2];
    int npos;
    int rc = rv_parse_args_pos(argc, argv,
                               "repvgg convert IN.safetensors OUT.safetensors: "
                               "train-time -> deploy-time, same layout (switch_to_fast)",
                               NULL, 0, pos, 2, &npos);
    if (rc >= 0) return rc;
    if (npos != 2) {
        fprintf(stderr, "%s: expected an input and an output file (see --help)\n", argv[0]);
        return EXIT_USAGE;
    }
    rv_net train, fast = {0};
    rv_layout layout;
    if ((rc = load(argv[0], pos[0], RV_CPU, &train, &layout, NULL)) >= 0) return rc;
    rv_named *ts = NULL;
    int count = 0;
    rv_status st = rv_net_is_deploy(&train)
                       ? rv_error(RV_EFORMAT, "%s: already deploy-time: nothing to convert", pos[0])
                       : rv_net_switch_to_fast(&train, &fast);
    if (st == RV_OK) st = rv_net_to_weights(&fast, layout, &ts, &count);
    if (st == RV_OK) st = rv_safetensors_write(pos[1], ts, count);
    if (st == RV_OK)
        printf("wrote %s: %d blocks, deploy-time, %s layout, %lld -> %lld parameters\n", pos[1],
               fast.n_blocks, rv_layout_name(layout), (long long)rv_net_params(&train),
               (long long)rv_net_params(&fast));
    rv_named_free(ts, count);
    rv_net_free(&train);
    rv_net_free(&fast);
    return st == RV_OK ? 0 : fail(argv[0], st);
}

/* A net on the device chosen by --device, or an exit code. */
static int net_on_device(const char *prog, const char *weights, const char *device, rv_device *dev,
                         rv_net *net)
{
    rv_layout layout;
    if (!weights) {
        fprintf(stderr, "%s: --weights is required (see --help)\n", prog);
        return EXIT_USAGE;
    }
    int rc = rv_cli_device(prog, device, dev);
    return rc >= 0 ? rc : load(prog, weights, *dev, net, &layout, NULL);
}

static int cmd_run(int argc, char **argv)
{
    const char *weights = NULL, *input = NULL, *output = NULL, *device = "auto";
    rv_opt opts[] = {
        {"weights", RV_OPT_STR, &weights, "weights (.safetensors)"},
        {"input", RV_OPT_STR, &input, "input (.npy, float32, N x C x H x W)"},
        {"output", RV_OPT_STR, &output, "output (.npy)"},
        {"device", RV_OPT_STR, &device, "auto, cpu or cuda"},
    };
    const char *pos[1];
    int npos;
    int rc = rv_parse_args_pos(argc, argv,
                               "repvgg run --weights W --input X.npy --output Y.npy: one "
                               "forward pass (either form); prints the shape it wrote",
                               opts, 4, pos, 1, &npos);
    if (rc >= 0) return rc;
    if ((rc = no_positional(argv[0], pos, npos)) >= 0) return rc;
    if (!input || !output) {
        fprintf(stderr, "%s: %s required (see --help)\n", argv[0],
                input    ? "--output is"
                : output ? "--input is"
                         : "--input and --output are");
        return EXIT_USAGE;
    }
    rv_device dev;
    rv_net net = {0};
    if ((rc = net_on_device(argv[0], weights, device, &dev, &net)) >= 0) return rc;
    rv_tensor hx = {0}, x = {0}, y = {0};
    int64_t out[4];
    int rank;
    rv_status st = rv_npy_read(input, &hx);
    if (st == RV_OK && hx.ndim != 4)
        st = rv_error(RV_EFORMAT, "%s: rank %d, expected 4 (N, C, H, W)", input, hx.ndim);
    if (st == RV_OK && rv_net_out_shape(&net, &hx, out, &rank) != RV_OK)
        st = rv_error(RV_EFORMAT, "%s: %s", input, rv_last_error());
    if (st == RV_OK) st = rv_tensor_clone(&x, &hx, dev, input);
    if (st == RV_OK) st = rv_tensor_alloc(&y, dev, rank, out, "output");
    if (st == RV_OK) st = rv_net_forward(&net, &x, &y);
    if (st == RV_OK) st = rv_npy_write(output, &y);
    if (st == RV_OK) {
        printf("wrote %s: float32 (%lld", output, (long long)y.dim[0]);
        for (int i = 1; i < y.ndim; i++) printf(", %lld", (long long)y.dim[i]);
        printf(") = %s, %s form, on %s\n",
               y.ndim == 4 ? "(N, C, H, W) features" : "(N, classes) logits",
               rv_net_is_deploy(&net) ? "deploy-time" : "train-time", rv_device_name(dev));
    }
    rv_tensor *all[3] = {&hx, &x, &y};
    for (int i = 0; i < 3; i++) rv_tensor_free(all[i]);
    rv_net_free(&net);
    return st == RV_OK ? 0 : fail(argv[0], st == RV_EINVAL ? RV_EFORMAT : st);
}

#ifdef RV_HAVE_CUDA
static rv_status replay(void *ctx) { return rv_cuda_graph_launch(ctx); }

/* --tf32: one FP32 forward (a plan of the default options) as the
 * reference, then the TF32 plan's; prints TF32's error against FP32 (TF32
 * rounds each product's inputs to 10 mantissa bits, so it is not held to
 * the FP32 tolerance). */
static rv_status tf32_against_fp32(const rv_net *net, rv_plan_run *f)
{
    rv_tensor ref = {0}, got = {0};
    rv_status st = rv_net_forward(net, f->x, f->y);
    if (st == RV_OK) st = rv_tensor_clone(&ref, f->y, RV_CPU, "FP32 output");
    if (st == RV_OK) st = rv_plan_run_fn(f);
    if (st == RV_OK) st = rv_tensor_clone(&got, f->y, RV_CPU, "TF32 output");
    if (st == RV_OK) {
        rv_cmp c = rv_compare(got.data, ref.data, rv_tensor_numel(&ref), RV_TOL_NET);
        fprintf(stderr, "TF32 against FP32: max |tf32 - fp32| = %.3g, rel L2 = %.3g\n", c.max_abs,
                c.rel_l2);
    }
    rv_tensor_free(&ref);
    rv_tensor_free(&got);
    return st;
}
#endif

static int cmd_bench(int argc, char **argv)
{
    const char *weights = NULL, *shape_arg = NULL, *input = NULL, *device = "auto";
    int repeat = 20, warmup = 3, graph = 0, tf32 = 0, no_winograd = 0, openblas = 0;
    rv_opt opts[] = {
        {"weights", RV_OPT_STR, &weights, "weights (.safetensors)"},
        {"shape", RV_OPT_STR, &shape_arg, "input shape N,C,H,W (random input in [-1, 1])"},
        {"input", RV_OPT_STR, &input, "instead of --shape: the input (.npy, float32, NCHW)"},
        {"device", RV_OPT_STR, &device, "auto, cpu or cuda"},
        {"repeat", RV_OPT_INT, &repeat, "timed runs"},
        {"warmup", RV_OPT_COUNT, &warmup, "untimed runs first"},
        {"graph", RV_OPT_FLAG, &graph, "CUDA: capture the forward in a CUDA Graph, time replays"},
        {"tf32", RV_OPT_FLAG, &tf32, "CUDA: TF32 tensor cores (default FP32); prints the error"},
        {"no-winograd", RV_OPT_FLAG, &no_winograd,
         "CPU: im2col + sgemm for the stride-1 3x3 layers too (what Winograd buys)"},
        {"openblas", RV_OPT_FLAG, &openblas,
         "CPU: every product through OpenBLAS, no weights packed once (what packing buys)"},
    };
    const char *pos[1];
    int npos;
    int rc = rv_parse_args_pos(argc, argv,
                               "repvgg bench --weights W --shape N,C,H,W | --input X.npy: "
                               "median/min/max latency and memory of one forward, as a TSV "
                               "header and one row",
                               opts, 10, pos, 1, &npos);
    if (rc >= 0) return rc;
    if ((rc = no_positional(argv[0], pos, npos)) >= 0) return rc;
    rv_cli_timing_threads("repvgg bench");
    int64_t shape[4];
    if (!shape_arg == !input) {
        fprintf(stderr, "%s: give one of --shape and --input (see --help)\n", argv[0]);
        return EXIT_USAGE;
    }
    if (shape_arg && (rc = parse_shape(argv[0], shape_arg, shape)) >= 0) return rc;
    rv_device dev;
    rv_net net = {0};
    if ((rc = net_on_device(argv[0], weights, device, &dev, &net)) >= 0) return rc;
    if ((graph || tf32) && dev != RV_CUDA) {
        fprintf(stderr, "%s: --%s needs --device cuda\n", argv[0], graph ? "graph" : "tf32");
        rv_net_free(&net);
        return EXIT_USAGE;
    }
    rv_options o = {.no_winograd = no_winograd,
                    .gemm = openblas ? RV_GEMM_OPENBLAS : RV_GEMM_AUTO,
                    .tf32 = tf32};
    rv_plan plan = {0};
    size_t planned = 0;
    rv_rng rng = rv_rng_seed(1);
    rv_tensor hx = {0}, x = {0}, y = {0};
    int64_t out[4];
    int rank;
    rv_form_result r;
    rv_status st = RV_OK;
    if (input) {
        st = rv_npy_read(input, &hx);
        if (st == RV_OK && hx.ndim != 4)
            st = rv_error(RV_EFORMAT, "%s: rank %d, expected 4 (N, C, H, W)", input, hx.ndim);
        if (st == RV_OK) memcpy(shape, hx.dim, sizeof shape);
    } else {
        st = rv_tensor_alloc(&hx, RV_CPU, 4, shape, "input");
        if (st == RV_OK) st = rv_tensor_fill_uniform(&hx, &rng, -1.0f, 1.0f);
    }
    if (st == RV_OK && rv_net_out_shape(&net, &hx, out, &rank) != RV_OK)
        st = rv_error(input ? RV_EFORMAT : RV_EINVAL, "%s: %s", input ? input : "--shape",
                      rv_last_error());
    if (st == RV_OK) st = rv_tensor_clone(&x, &hx, dev, "input");
    if (st == RV_OK) st = rv_tensor_alloc(&y, dev, rank, out, "output");
    /* the peak counts the plan (buffers, prepared weights, workspace) */
    if (st == RV_OK) st = rv_plan_build_counted(&plan, &net, &x, &o, &planned);
    rv_plan_run f = {&plan, &x, &y};
#ifdef RV_HAVE_CUDA
    if (st == RV_OK && tf32) st = tf32_against_fp32(&net, &f);
#endif
    if (st == RV_OK && !graph) st = rv_measure_form(rv_plan_run_fn, &f, dev, warmup, repeat, &r);
#ifdef RV_HAVE_CUDA
    rv_cuda_graph *g = NULL;
    if (st == RV_OK && graph) { /* (graph is CUDA only, checked above) */
        /* the graph holds the plan's addresses: it is destroyed first */
        st = rv_measure_peak(rv_plan_run_fn, &f, dev, &r.peak_bytes);
        if (st == RV_OK) st = rv_cuda_graph_capture(rv_plan_run_fn, &f, &g);
        if (st == RV_OK) st = rv_time(replay, g, dev, warmup, repeat, &r.time);
    }
    rv_cuda_graph_destroy(g);
#endif
    if (st == RV_OK) {
        double ms = r.time.median_ms;
        rv_plan_info info = rv_plan_describe(&plan);
        printf(
            "form\tdevice\tmath\tgraph\tbatch\tchannels\theight\twidth\trepeat\tmedian_ms\tmin_ms\t"
            "max_ms\tmean_ms\timages_per_s\tgmacs\tparams\tpeak_bytes\tactivation_bytes\t"
            "min_activation_bytes\tworkspace_bytes\tconv\twinograd_f2x2\twinograd_f4x4\tcpu_isa\t"
            "q1_ms\tq3_ms\tquiet\tthreads\n");
        printf(
            "%s\t%s\t%s\t%s\t%lld\t%lld\t%lld\t%lld\t%d\t%.4f\t%.4f\t%.4f\t%.4f\t%.2f\t%.4f\t%lld\t"
            "%zu\t%zu\t%zu\t%zu\t%s\t%d\t%d\t%s\t%.4f\t%.4f\t%s\t%d\n",
            rv_net_is_deploy(&net) ? "deploy" : "train", rv_device_name(dev),
            tf32 ? "tf32" : "fp32", graph ? "yes" : "no", (long long)shape[0], (long long)shape[1],
            (long long)shape[2], (long long)shape[3], repeat, ms, r.time.min_ms, r.time.max_ms,
            r.time.mean_ms, shape[0] * 1e3 / ms,
            rv_net_macs(&net, shape[0], shape[2], shape[3]) / 1e9, (long long)rv_net_params(&net),
            planned + r.peak_bytes, info.activation_bytes, rv_net_min_activation_bytes(&net, &x),
            info.workspace_bytes, info.conv, info.by_path[RV_PATH_WINOGRAD_F2X2],
            info.by_path[RV_PATH_WINOGRAD_F4X4], dev == RV_CUDA ? "-" : rv_cpu_isa(),
            r.time.q1_ms, r.time.q3_ms, rv_busy_verdict(&r.time.busy) ? "no" : "yes",
            rv_cpu_threads());
        rv_print_busy(stderr, "repvgg bench: ", &r.time.busy);
    }
    rv_plan_free(&plan);
    rv_tensor *all[3] = {&hx, &x, &y};
    for (int i = 0; i < 3; i++) rv_tensor_free(all[i]);
    rv_net_free(&net);
    return st == RV_OK ? 0 : fail(argv[0], st);
}

/* The training and test splits from dir (only the test split's images are
 * used by eval, but the normalisation is the training split's), with their
 * mean and std; -1 to go on, else the exit code (missing data: the package
 * to install, exit 2). */
static int load_fashion(const char *prog, const char *dir, rv_fashion *train, rv_fashion *test,
                        double *mean, double *std)
{
    rv_status st = rv_fashion_find(dir);
    if (st != RV_OK) {
        fprintf(stderr, "%s: %s\n", prog, rv_last_error());
        return RV_FASHION_MISSING_EXIT;
    }
    st = rv_fashion_load(dir, RV_FASHION_TRAIN, train);
    if (st == RV_OK) st = rv_fashion_load(dir, RV_FASHION_TEST, test);
    if (st != RV_OK) {
        rv_fashion_free(train);
        return fail(prog, st);
    }
    rv_fashion_stats(train, mean, std);
    return -1;
}

/* The progress line of `repvgg train`: rewritten in place (\r) on a
 * terminal, else a plain line ten times an epoch (a log stays short). */
typedef struct {
    int tty, epochs;
    int64_t batch, total, done;
    double t0_ms;
} train_progress;

static void show_progress(void *ctx, int epoch, int64_t step, int64_t steps, double loss,
                          double accuracy, double lr)
{
    train_progress *p = ctx;
    p->done++;
    int64_t every = steps / 10 > 0 ? steps / 10 : 1;
    if (!p->tty && step % every != 0 && step != steps) return;
    double s = (rv_now_ms() - p->t0_ms) / 1000;
    double rate = (double)(p->done * p->batch) / s;
    double left = s / (double)p->done * (double)(p->total - p->done);
    fprintf(stderr,
            "%sepoch %d/%d  step %lld/%lld  loss %.4f  training accuracy %.2f %%  lr %.4g  "
            "%.0f images/s  %.0f s left%s",
            p->tty ? "\r" : "", epoch + 1, p->epochs, (long long)step, (long long)steps, loss,
            100 * accuracy, lr, rate, left, p->tty ? "\033[K" : "\n");
    if (p->tty && step == steps) fputc('\n', stderr);
}

/* Writes net's train-time weights to path, atomically, in the official
 * layout (the one that keeps the linear head). */
static rv_status write_weights(const rv_net *net, const char *path)
{
    rv_named *ts = NULL;
    int count = 0;
    rv_status st = rv_net_to_weights(net, RV_LAYOUT_OFFICIAL, &ts, &count);
    if (st == RV_OK) st = rv_safetensors_write(path, ts, count);
    rv_named_free(ts, count);
    return st;
}

static int cmd_train(int argc, char **argv)
{
    const char *data = RV_FASHION_DIR, *arch_name = "F0", *lr_arg = "0.1", *pos[2];
    int epochs = 10, batch = 128, seed = 1, threads = 0 /* not given */, limit = 0,
        test_limit = 0, no_augment = 0, npos, rc;
    rv_opt opts[] = {
        {"data", RV_OPT_STR, &data, "folder of the Fashion-MNIST files"},
        {"arch", RV_OPT_STR, &arch_name, "F0 (0.66 M parameters, made for 28x28 images) or a paper preset"},
        {"epochs", RV_OPT_INT, &epochs, "passes over the training images"},
        {"batch", RV_OPT_INT, &batch, "images per step"},
        {"seed", RV_OPT_COUNT, &seed, "random seed of the weights, the order and the augmentation"},
        {"threads", RV_OPT_INT, &threads, "CPU threads (default: OMP_NUM_THREADS or all)"},
        {"lr", RV_OPT_STR, &lr_arg, "peak learning rate"},
        {"limit", RV_OPT_COUNT, &limit, "train on the first N training images only (0: all 60,000)"},
        {"test-limit", RV_OPT_COUNT, &test_limit, "test on the first N test images only (0: all 10,000)"},
        {"no-augment", RV_OPT_FLAG, &no_augment, "no random crops and flips"},
    };
    rc = rv_parse_args_pos(argc, argv,
                           "repvgg train [--data DIR] [--arch F0] [--epochs E] [--batch B] "
                           "[--seed S] [--threads T] [--lr LR] [--limit N] [--test-limit N] [--no-augment] "
                           "OUT.safetensors: "
                           "trains a train-time RepVGG on Fashion-MNIST and writes its weights "
                           "(official layout) after every epoch",
                           opts, sizeof opts / sizeof opts[0], pos, 1, &npos);
    if (rc >= 0) return rc;
    if (npos != 1) {
        fprintf(stderr, "%s: expected one output file (see --help)\n", argv[0]);
        return EXIT_USAGE;
    }
    char *end;
    errno = 0;
    double lr = strtod(lr_arg, &end);
    if (end == lr_arg || *end || errno || !(lr > 0) || lr > 10) {
        fprintf(stderr, "%s: --lr: expected a number in (0, 10], got '%s'\n", argv[0], lr_arg);
        return EXIT_USAGE;
    }
    rv_arch arch;
    rv_block_spec specs[RV_MAX_BLOCKS];
    int n;
    rv_status st = rv_arch_preset(arch_name, &arch);
    if (st == RV_OK) st = rv_arch_specs(&arch, 1, specs, &n);
    if (st != RV_OK) return fail(argv[0], st);
#ifdef _OPENMP
    if (threads > 0) omp_set_num_threads(threads);
#endif
    rv_fashion train = {0}, test = {0};
    double mean, std;
    if ((rc = load_fashion(argv[0], data, &train, &test, &mean, &std)) >= 0) return rc;
    rv_rng rng = rv_rng_seed((uint64_t)seed);
    rv_net net = {0};
    rv_loop loop = {0};
    st = rv_net_init_random(&net, specs, n, RV_FASHION_CLASSES, &rng, RV_CPU);
    if (st == RV_OK)
        st = rv_loop_init(&loop, &net, &train, mean, std,
                          &(rv_loop_config){.batch = batch,
                                            .epochs = epochs,
                                            .seed = (uint64_t)seed,
                                            .lr = lr,
                                            .limit = limit,
                                            .augment = !no_augment});
    if (st == RV_OK)
        fprintf(stderr,
                "%s: RepVGG-%s, %lld parameters, %lld training images, %d epochs of %lld "
                "steps of %d images, %d threads\n",
                argv[0], arch.name, (long long)rv_net_params(&net), (long long)loop.n, epochs,
                (long long)loop.steps_per_epoch, batch, rv_cpu_threads());
    train_progress prog = {.tty = isatty(fileno(stderr)),
                           .epochs = epochs,
                           .batch = batch,
                           .total = loop.steps_per_epoch * epochs,
                           .t0_ms = rv_now_ms()};
    for (int e = 0; st == RV_OK && e < epochs; e++) {
        rv_epoch_stats es;
        rv_eval ev;
        st = rv_loop_epoch(&loop, show_progress, &prog, &es);
        if (st == RV_OK) st = write_weights(&net, pos[0]);
        if (st == RV_OK) st = rv_loop_evaluate(&net, &test, mean, std, test_limit, &ev);
        if (st != RV_OK) break;
        printf("epoch %d/%d: loss %.4f, training accuracy %.2f %%, test accuracy %.2f %% (%lld "
               "of %lld images); wrote %s\n",
               e + 1, epochs, es.loss, 100 * es.accuracy,
               100.0 * (double)ev.correct / (double)ev.count, (long long)ev.correct,
               (long long)ev.count, pos[0]);
        fflush(stdout);
        free(ev.predicted);
    }
    rv_loop_free(&loop);
    rv_net_free(&net);
    rv_fashion_free(&train);
    rv_fashion_free(&test);
    return st == RV_OK ? 0 : fail(argv[0], st);
}

static int cmd_eval(int argc, char **argv)
{
    const char *weights = NULL, *data = RV_FASHION_DIR, *pos[1];
    int limit = 0, npos, rc;
    rv_opt opts[] = {
        {"weights", RV_OPT_STR, &weights, "train-time or deploy-time weights, with a head"},
        {"data", RV_OPT_STR, &data, "folder of the Fashion-MNIST files"},
        {"limit", RV_OPT_COUNT, &limit, "the first N test images only (0: all 10,000)"},
    };
    rc = rv_parse_args_pos(argc, argv,
                           "repvgg eval --weights W [--data DIR] [--limit N]: test accuracy "
                           "and confusion matrix on Fashion-MNIST",
                           opts, sizeof opts / sizeof opts[0], pos, 1, &npos);
    if (rc >= 0) return rc;
    if ((rc = no_positional(argv[0], pos, npos)) >= 0) return rc;
    if (!weights) {
        fprintf(stderr, "%s: --weights is needed (see --help)\n", argv[0]);
        return EXIT_USAGE;
    }
    rv_net net;
    rv_layout layout;
    if ((rc = load(argv[0], weights, RV_CPU, &net, &layout, NULL)) >= 0) return rc;
    if (net.n_blocks < 1 || rv_net_spec(&net, 0)->in_ch != 1 || !net.head_w.data ||
        net.head_w.dim[0] != RV_FASHION_CLASSES) {
        fprintf(stderr,
                "%s: %s: not a Fashion-MNIST classifier (one input channel and a linear head of "
                "%d classes, as repvgg train writes)\n",
                argv[0], weights, RV_FASHION_CLASSES);
        rv_net_free(&net);
        return EXIT_DATA;
    }
    rv_fashion train = {0}, test = {0};
    double mean, std;
    if ((rc = load_fashion(argv[0], data, &train, &test, &mean, &std)) >= 0) {
        rv_net_free(&net);
        return rc;
    }
    rv_eval ev;
    rv_status st = rv_loop_evaluate(&net, &test, mean, std, limit, &ev);
    if (st == RV_OK) {
        printf("%s: %s weights, test accuracy %.2f %% (%lld of %lld images)\n", weights,
               rv_net_is_deploy(&net) ? "deploy-time" : "train-time",
               100.0 * (double)ev.correct / (double)ev.count, (long long)ev.correct,
               (long long)ev.count);
        printf("confusion matrix (rows: true class, columns: predicted class, images):\n");
        printf("%-12s", "");
        for (int k = 0; k < RV_FASHION_CLASSES; k++) printf(" %5d", k);
        printf("\n");
        for (int t = 0; t < RV_FASHION_CLASSES; t++) {
            printf("%d %-10s", t, rv_fashion_class_name(t));
            for (int k = 0; k < RV_FASHION_CLASSES; k++)
                printf(" %5lld", (long long)ev.confusion[t][k]);
            printf("\n");
        }
        free(ev.predicted);
    }
    rv_net_free(&net);
    rv_fashion_free(&train);
    rv_fashion_free(&test);
    return st == RV_OK ? 0 : fail(argv[0], st);
}

static int run_command(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } cmds[] = {{"info", cmd_info},
                {"init", cmd_init},
                {"convert", cmd_convert},
                {"run", cmd_run},
                {"bench", cmd_bench},
                {"train", cmd_train},
                {"eval", cmd_eval}};
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        puts(usage_main);
        return argc < 2 ? EXIT_USAGE : 0;
    }
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (strcmp(argv[1], cmds[i].name) == 0) {
            char prog[64];
            snprintf(prog, sizeof prog, "repvgg %s", cmds[i].name);
            argv[1] = prog;
            return cmds[i].fn(argc - 1, argv + 1);
        }
    fprintf(stderr, "repvgg: unknown command '%s' (see repvgg --help)\n", argv[1]);
    return EXIT_USAGE;
}

/* Results that cannot reach standard output (closed, > /dev/full) are an
 * error (exit 1), not a silent success. */
int main(int argc, char **argv)
{
    int rc = rv_results_begin("repvgg");
    return rc >= 0 ? rc : rv_results_end(run_command(argc, argv));
}
