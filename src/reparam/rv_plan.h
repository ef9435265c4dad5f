/* rv_plan.h - a network run: one plan per (network, input shape, device,
 * options).
 *
 * A plan is built from a const network and owns everything its forward
 * touches besides the weights, input and output: the activation buffers
 * (ping, pong, and for a train-time net one branch buffer: the largest
 * even-numbered, odd-numbered and branch block output), every block's plan
 * (each conv's path and its weight prepared for it, the middles: rv_block.h)
 * and one workspace, the most any conv takes. rv_plan_forward allocates
 * nothing, so a plan built once runs any number of forwards, and a CUDA
 * Graph captured from one replays it. The network is read, never written:
 * several plans of one net (shapes, options, devices of a copy) can live
 * side by side. What a plan chose, it can say (rv_plan_describe): that is
 * what the tool, the benchmarks and their TSVs print.
 *
 *     rv_plan plan;
 *     rv_plan_build(&plan, &net, (int64_t[4]){1, 3, 224, 224}, RV_CPU, NULL);
 *     rv_plan_forward(&plan, &x, &y);        // as often as needed
 *     rv_plan_free(&plan);
 */
#ifndef RV_PLAN_H
#define RV_PLAN_H

#include "rv_net.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    const rv_net *net;
    rv_options opt;
    rv_device device;
    int64_t in[4];
    int64_t shapes[RV_MAX_BLOCKS][4]; /* each block's output */
    int out_rank;                     /* 4: features, 2: logits */
    int64_t out[4];
    rv_block_plan *blocks; /* net->n_blocks */
    rv_tensor buf[3];      /* ping, pong, branch and pooled-features scratch (flat) */
    rv_tensor workspace;
} rv_plan;

/* A plan of net (on dev: the net's device) for inputs of shape in, with
 * options opt (NULL: the defaults, rv_exec.h). */
rv_status rv_plan_build(rv_plan *p, const rv_net *net, const int64_t in[4], rv_device dev,
                        const rv_options *opt);
/* rv_plan_build for x's shape and device, and *bytes = what building it
 * allocated as the tracking allocator counted it (its peak, temporaries
 * included): the memory a plan costs, for the reports. */
rv_status rv_plan_build_counted(rv_plan *p, const rv_net *net, const rv_tensor *x,
                                const rv_options *opt, size_t *bytes);
/* y = net(x): x shaped as the plan's input, y as rv_net_out_shape says,
 * both on the plan's device. */
rv_status rv_plan_forward(rv_plan *p, const rv_tensor *x, rv_tensor *y);
void rv_plan_free(rv_plan *p);

/* What a plan chose and holds. */
typedef struct {
    int convs;               /* convs it runs, every branch's */
    int by_path[7];          /* of those, how many on each rv_conv_path */
    const char *gemm;        /* the products' kernel on the CPU (rv_gemm_kernel_name) */
    const char *conv;        /* the paths in a word: "winograd+packed", "im2col+openblas",
                              * "im2col+cublas", ... */
    size_t activation_bytes; /* the ping, pong and branch buffers */
    size_t weight_bytes;     /* weights prepared for their paths (Winograd-domain, packed) */
    size_t middle_bytes;     /* middle branches' buffers */
    size_t workspace_bytes;
    size_t total_bytes; /* all of it: what building the plan allocated */
} rv_plan_info;
rv_plan_info rv_plan_describe(const rv_plan *p);

#ifdef __cplusplus
}
#endif
#endif
