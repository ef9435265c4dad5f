/* rv_quant_net.h - a block and a network simulated in INT8, measured against
 * their float32 selves (post-training quantization, lesson 10), and the
 * QARepVGG twin of a RepVGG network.
 *
 * What an INT8 engine would hold is simulated by fake quantization
 * (rv_quant.h: every value moved to the nearest point of a symmetric 8-bit
 * grid, then computed with in float32):
 *   weights: every kernel the form runs, on one grid for the whole kernel
 *     (per tensor) or one per output channel (per channel):
 *       deploy-time block (one conv): its folded kernel W;
 *       train-time block: each conv branch with its own BN folded into it,
 *         bn(conv(x, K)) = conv(x, s*K) + t (lesson 02), as an engine folds
 *         every conv-BN pair before it quantizes, each on its own grid; an
 *         identity branch has no kernel, so its BN (if any) stays a float
 *         scale and shift per channel, as does a BN after the sum;
 *     biases stay float (an engine keeps them in int32 at the scale
 *     s_input * s_weight, far finer than the weights' grid);
 *   activations: each block's input, on one grid per tensor, its scale
 *     calibrated as the largest |x| seen there while the float32 network runs
 *     on calibration batches (rv_calib).
 * The branches' sum, the BNs and the ReLU run in float32, as an engine's
 * int32 accumulator does; the output's own rounding is the next block's
 * input quantization.
 */
#ifndef RV_QUANT_NET_H
#define RV_QUANT_NET_H

#include "rv_net.h"
#include "rv_quant.h"
#include "rv_taps.h" /* where a folded kernel's weights sit, which both measure */

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    RV_QUANT_PER_TENSOR = 1, /* one weight scale per kernel */
    RV_QUANT_PER_CHANNEL     /* one weight scale per output channel of a kernel */
} rv_quant_grain;

/* *out = b with its kernels fake-quantized as above, on b's device. A
 * train-time block comes out as the same list of branches with each conv
 * branch's BN folded into it (a conv with bias, no BN); identity branches
 * and a BN after the sum are kept. Conv and identity branches only (RepVGG's
 * and QARepVGG's blocks): RV_EINVAL names any other. */
rv_status rv_block_fake_quant(const rv_block *b, rv_quant_grain g, rv_block *out);

/* scales[i] = the INT8 scale of block i's input (net->n_blocks of them): the
 * net runs in float32 on each of the n batches and rv_calib observes every
 * block's input. */
rv_status rv_net_calibrate_inputs(const rv_net *net, const rv_tensor *batches, int n,
                                  float *scales);

/* The error INT8 adds at one block. */
typedef struct {
    rv_quant_err weights; /* the kernel the quantized block computes with (its branches folded,
                           * rv_block_switch_to_fast) against the float block's folded kernel */
    rv_quant_err alone;   /* output: the quantized block on its float input, quantized, against
                           * the float block on the float input */
    rv_quant_err chain;   /* output after this block: the network simulated in INT8 so far
                           * against the float32 network */
} rv_quant_block_err;

/* Runs the net's blocks on x in float32 and simulated in INT8 (each block
 * through rv_block_fake_quant with grain g, its input quantized at
 * scales[i]), block by block; errs[i] for block i. The last block's chain is
 * the network's error end to end (a head, if any, is not run). */
rv_status rv_net_quant_error(const rv_net *net, const float *scales, rv_quant_grain g,
                             const rv_tensor *x, rv_quant_block_err *errs);

/* *qa = the net (every block RepVGG's, rv_repvgg_block_spec) rebuilt with
 * QARepVGG's blocks (rv_qarepvgg_block_spec) on the same weights: the same
 * 3x3 and 1x1 kernels and the 3x3 branch's BN, the new BN after the sum from
 * rv_bn_randomize(r), the head copied. Two structures on one set of kernels,
 * for comparing them; calibrate its BNs (rv_net_calibrate_bn) before use. */
rv_status rv_net_to_qarepvgg(const rv_net *net, rv_rng *r, rv_net *qa);

/* What lesson 10 and the bench measure: RepVGG and QARepVGG of one
 * architecture on the same kernels, each in both forms, their inputs' INT8
 * scales, and the INT8 error of every block for every network, form and
 * weight grain. */
enum { RV_NET_REPVGG, RV_NET_QAREPVGG };
enum { RV_FORM_TRAIN, RV_FORM_DEPLOY };
#define RV_QUANT_MAX_CALIB 16
#define RV_QUANT_SEED 10 /* lesson 10's default seed, which the bench measures too */
typedef struct {
    rv_net net[2][2];                    /* [RV_NET_*][RV_FORM_*] */
    float scales[2][RV_MAX_BLOCKS];      /* [RV_NET_*][block]: the scales of its inputs */
    rv_tensor calib[RV_QUANT_MAX_CALIB]; /* the calibration batches, (N, C, S, S) */
    rv_tensor x;                         /* the input measured on, (N, C, S, S) */
    int n_blocks, n_calib;
    rv_quant_block_err err[2][2][2][RV_MAX_BLOCKS]; /* [net][form][grain - 1][block] */
} rv_quant_nets;

/* From `seed`, on dev: a batch of 2 "training images" of C x 128 x 128 (C =
 * specs[0].in_ch), n_calib calibration batches and x, each (batch, C, size,
 * size), all uniform in [-1, 1]; the RepVGG net of specs (RepVGG's blocks)
 * with random weights (rv_net_init_random, no head) and its QARepVGG twin
 * (rv_net_to_qarepvgg); every BN of both calibrated on the training batch
 * (rv_net_calibrate_bn: trained-like statistics, whatever the size); both
 * switched to deploy-time; the scales calibrated through the deploy-time
 * nets (both forms compute the same activations, up to float rounding); then
 * err, rv_net_quant_error on x for every net, form and grain. */
rv_status rv_quant_nets_build(rv_quant_nets *q, const rv_block_spec *specs, int n, rv_device dev,
                              int batch, int size, int n_calib, uint64_t seed);
void rv_quant_nets_free(rv_quant_nets *q);

/* The median over q's blocks with an identity branch (where the fold puts
 * the identity on the centre tap) of the SQNR in dB of err[net][form][grain -
 * 1]: the weights' (alone = 0) or the output's alone (alone = 1). */
double rv_quant_nets_median_db(const rv_quant_nets *q, int net, int form, rv_quant_grain g,
                               int alone);

/* What branch i of a train-time block b puts into its folded kernel
 * (rv_branch_kernel_fused, then a BN after the sum folded in): the largest
 * and the smallest non-zero |w| of that share (rv_magnitude_range). */
rv_status rv_branch_share_range(const rv_block *b, int i, double *largest, double *smallest);

#ifdef __cplusplus
}
#endif
#endif
