/* rv_net.h - a network: a chain of blocks, and an optional classifier head
 * (global average pooling + linear), as in the RepVGG paper's code.
 *
 * A train-time net's blocks have several branches each; a deploy-time net's
 * are one conv each (rv_block_is_fused); rv_net_switch_to_fast builds the
 * second from the first (the notebook's RepVGG.switch_to_fast). The forward
 * pass runs on planned buffers: for an input shape, two ping-pong activation
 * buffers (the largest even-numbered and the largest odd-numbered block
 * output) and, for the train-time form, one branch buffer; on the CPU also
 * each stride-1 3x3 weight in the Winograd domain (rv_block_plan). Planned on
 * the first forward of a shape, so later forwards allocate nothing.
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
    rv_device device;
    int64_t planned[4]; /* input shape the buffers are planned for */
    rv_tensor buf[3];   /* ping, pong, branch/pool scratch (flat) */
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
 * (rv_block_calibrate_bn): random weights with trained-like statistics. */
rv_status rv_net_calibrate_bn(rv_net *net, const rv_tensor *x, rv_rng *r);

/* *fast = the deploy-time form of the train-time net `train` (same device);
 * the loop over the blocks is rv_steps.h's rv_step_switch_net. */
rv_status rv_net_switch_to_fast(const rv_net *train, rv_net *fast);

/* Output shape for input x: (N, C_last, H', W') with rank 4, or (N, classes)
 * with rank 2 when the net has a head. */
rv_status rv_net_out_shape(const rv_net *net, const rv_tensor *x, int64_t out[4], int *rank);
rv_status rv_net_forward(rv_net *net, const rv_tensor *x, rv_tensor *y);
/* Frees the planned buffers; the next forward plans anew (and counts them
 * in its peak memory again). */
void rv_net_unplan(rv_net *net);

const rv_block_spec *rv_net_spec(const rv_net *net, int i);
/* Learnable parameters, as PyTorch's parameters() counts them: BN's running
 * statistics are buffers, not parameters. */
int64_t rv_net_params(const rv_net *net);
/* Multiply-adds of one forward for input x (conv and linear layers). */
double rv_net_macs(const rv_net *net, int64_t n, int64_t h, int64_t w);
/* The least activation memory a layer-by-layer schedule needs for input x
 * (which the caller holds): the largest pair of consecutive block outputs,
 * the first block's output alone. The deploy form's planned buffers
 * (rv_net_buffer_bytes) are compared with it; the train-time form needs a
 * branch buffer more. 0 when x does not fit. */
size_t rv_net_min_activation_bytes(const rv_net *net, const rv_tensor *x);
/* Bytes of the planned activation buffers. */
size_t rv_net_buffer_bytes(const rv_net *net);
/* Layers planned for Winograd (CPU): layers[0] F(2x2, 3x3), layers[1]
 * F(4x4, 3x3) (rv_winograd_tile chose by the planned shape). */
void rv_net_winograd_layers(const rv_net *net, int layers[2]);
/* Bytes of the weights planned for the CPU's kernels, every branch of every
 * block: the Winograd-domain ones and those packed for rv_gemm, which the
 * forward holds beside the activations. 0 unplanned. */
size_t rv_net_planned_weight_bytes(const rv_net *net);

#ifdef __cplusplus
}
#endif
#endif
