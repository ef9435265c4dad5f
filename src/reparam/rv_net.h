/* rv_net.h - a network: a chain of blocks, and an optional classifier head
 * (global average pooling + linear), as in the RepVGG paper's code.
 *
 * A train-time net's blocks have several branches each; a deploy-time net's
 * are one conv each (rv_block_is_fused); rv_net_switch_to_fast builds the
 * second from the first (the notebook's RepVGG.switch_to_fast). A net is
 * its parameters and specs only: running it is a plan's (rv_plan.h), which
 * holds the buffers, the prepared weights and each layer's algorithm for
 * one input shape and set of options.
 */
#ifndef RV_NET_H
#define RV_NET_H

#include "rv_arch.h"
#include "rv_block.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int n_blocks;
    rv_block *blocks; /* n_blocks */
    rv_tensor head_w; /* (classes, C_last); data NULL when there is no head */
    rv_tensor head_b; /* (classes) */
    rv_device device; /* where the parameters are */
} rv_net;

/* A train-time net of the given blocks with random weights (rv_block_init_random);
 * with classes > 0 also a random head. */
rv_status rv_net_init_random(rv_net *net, const rv_block_spec *specs, int n, int64_t classes,
                             rv_rng *r, rv_device dev);
/* An empty net of n blocks (all zero), for loaders and the switch that fill
 * the blocks themselves. */
rv_status rv_net_alloc(rv_net *net, int n, rv_device dev);
/* 1 when every block is a deploy-time block (one conv each). */
int rv_net_is_deploy(const rv_net *net);
void rv_net_free(rv_net *net);
/* Calibrates every BN of a train-time net on the batch x, block by block
 * (rv_block_calibrate_bn), a pass of its own with buffers of its own:
 * random weights with trained-like statistics. */
rv_status rv_net_calibrate_bn(rv_net *net, const rv_tensor *x, rv_rng *r);

/* *fast = the deploy-time form of the train-time net `train` (same device);
 * the loop over the blocks is rv_steps.h's rv_step_switch_net. */
rv_status rv_net_switch_to_fast(const rv_net *train, rv_net *fast);

/* Output shape for input x: (N, C_last, H', W') with rank 4, or (N, classes)
 * with rank 2 when the net has a head. */
rv_status rv_net_out_shape(const rv_net *net, const rv_tensor *x, int64_t out[4], int *rank);
/* Every block's output shape for input x, shapes[i] for block i. */
rv_status rv_net_block_shapes(const rv_net *net, const rv_tensor *x, int64_t shapes[][4]);
/* y = net(x), once: a plan with the default options is built for x, run
 * and freed (rv_plan.h; repeated forwards build their plan once). */
rv_status rv_net_forward(const rv_net *net, const rv_tensor *x, rv_tensor *y);

const rv_block_spec *rv_net_spec(const rv_net *net, int i);
/* Learnable parameters, as PyTorch's parameters() counts them: BN's running
 * statistics are buffers, not parameters. */
int64_t rv_net_params(const rv_net *net);
/* Multiply-adds of one forward for input x (conv and linear layers). */
double rv_net_macs(const rv_net *net, int64_t n, int64_t h, int64_t w);
/* The least activation memory a layer-by-layer schedule needs for input x
 * (which the caller holds): the largest pair of consecutive block outputs,
 * the first block's output alone. The deploy form's planned buffers
 * (rv_plan_info.activation_bytes) are compared with it; the train-time form
 * needs a branch buffer more. 0 when x does not fit. */
size_t rv_net_min_activation_bytes(const rv_net *net, const rv_tensor *x);

#ifdef __cplusplus
}
#endif
#endif
