/* rv_train.h - a training plan: one step's forward in training mode, the
 * loss and the backward of a train-time network, for one batch shape.
 *
 * As an inference plan (rv_plan.h), a training plan is built once from a
 * const network and a batch shape (N, C, H, W) and owns everything a step
 * touches besides the weights and the batch:
 *   - what the backward reads, saved by the forward: a copy of the batch
 *     (each block's input is the previous block's output), each conv
 *     branch's output before its BN, the sum before a post-sum BN
 *     (QARepVGG), every BN's batch mean and 1 / sqrt(var + eps), each
 *     block's output after ReLU, the pooled features and the logits;
 *   - one gradient per parameter (conv weights, conv biases, BN gamma and
 *     beta, the head's weight and bias), overwritten by every backward;
 *   - the activation gradients (two buffers taking turns block by block,
 *     as the inference plan's ping and pong) and one workspace, the most
 *     any conv's forward or backward takes.
 * A step (rv_train_forward, rv_train_backward) allocates nothing.
 *
 * For a block y = ReLU(post_bn(sum_k bn_k(conv_k(x)))) the backward is the
 * chain rule through rv_grad.h's ops, last op first:
 *     dz = relu'(y) dy,  ds = post_bn backward of dz (or dz),
 *     dc_k = bn_k backward of ds (or ds),  dw_k, dx_k = conv_k backward of dc_k,
 *     dx = sum_k dx_k  (the identity branch's dx_k is dc_k itself).
 * The first block's dx (the gradient of the images) is not computed.
 *
 * The training forward normalises with each batch's statistics and updates
 * every BN's running mean and variance (momentum RV_BN_MOMENTUM, the
 * unbiased variance: PyTorch's BatchNorm2d in train mode). That changes the
 * network, so the forward takes it writable; it must be the net the plan was
 * built from. The running statistics it leaves, and any gamma and beta an
 * optimizer changes, reach an inference forward after rv_bn_prepare of each
 * BN (its scale and shift).
 *
 * Branches may be CONV (any kernel, with or without bias and BN) and
 * IDENTITY (with or without BN): RepVGG's, QARepVGG's and the plain VGG
 * block (rv_block.h); a net with a head (global average pooling + linear).
 * CPU only for now.
 *
 *     rv_train_plan tp;
 *     rv_train_plan_build(&tp, &net, (int64_t[4]){128, 1, 28, 28});
 *     rv_train_param *ps = calloc(tp.n_params, sizeof *ps);
 *     rv_train_params(&tp, &net, ps);         // (param, grad) pairs, once
 *     for each batch (x, labels):
 *         rv_train_forward(&tp, &net, &x, labels, &loss);
 *         rv_train_backward(&tp);             // every ps[i].grad
 *         (the optimizer updates every ps[i].param from ps[i].grad)
 *     rv_train_plan_free(&tp);
 */
#ifndef RV_TRAIN_H
#define RV_TRAIN_H

#include "rv_net.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a parameter is, for an optimizer (weight decay is usually applied
 * to weights only). */
typedef enum {
    RV_PARAM_WEIGHT = 1, /* a conv's weight, or the head's */
    RV_PARAM_BN,         /* a BN's gamma or beta */
    RV_PARAM_BIAS        /* a conv's bias, or the head's */
} rv_param_kind;

typedef struct {
    rv_tensor *param; /* in the network: what an optimizer updates */
    rv_tensor *grad;  /* in the plan, shaped as param: dL/dparam after rv_train_backward */
    rv_param_kind kind;
    char name[64]; /* "blocks.3.branches.1.bn.weight", "head.weight", ... */
} rv_train_param;

/* What the forward saves for one branch, and that branch's gradients. */
typedef struct {
    rv_tensor conv;          /* CONV with a BN: conv(x) (+ bias), before the BN (N, O, P, Q) */
    rv_tensor mean, invstd;  /* with a BN: its batch statistics (O) */
    rv_tensor dw, db;        /* CONV: weight's gradient, bias's (with bias) */
    rv_tensor dgamma, dbeta; /* with a BN */
} rv_train_branch;

typedef struct {
    rv_train_branch branch[RV_MAX_BRANCHES];
    rv_tensor sum;                     /* post_bn: the sum of the branches (N, O, P, Q) */
    rv_tensor post_mean, post_invstd;  /* post_bn: its batch statistics (O) */
    rv_tensor post_dgamma, post_dbeta; /* post_bn */
    rv_tensor out;                     /* the block's output, after ReLU (N, O, P, Q) */
} rv_train_block;

/* Where parameter i and its gradient are (plan-internal: rv_train_params
 * reads it): in block `block`, at param_at in its rv_block and grad_at in
 * its rv_train_block; block -1 is the head, in the rv_net and the plan. */
typedef struct {
    int block;
    size_t param_at, grad_at;
    rv_param_kind kind;
    char name[64];
} rv_train_slot;

typedef struct {
    const rv_net *net;
    int64_t in[4];
    int64_t classes;
    int64_t shapes[RV_MAX_BLOCKS][4]; /* each block's output */
    rv_train_block *blocks;           /* net->n_blocks */
    rv_tensor input;                  /* the forward's batch, copied (N, C, H, W) */
    rv_tensor features, logits;       /* (N, C_last), (N, classes): the last forward's */
    rv_tensor dlogits, dfeatures;     /* the loss's gradient, the features' */
    rv_tensor dhead_w, dhead_b;
    rv_tensor grad[2];    /* activation gradients: block i's output's in grad[i % 2] */
    rv_tensor scratch[3]; /* a branch's BN output or its conv's dy; the sum's gradient; a dx */
    rv_tensor workspace;
    int n_params;
    rv_train_slot *slots; /* n_params */
    size_t bytes;         /* of all the tensors above */
    int forward_done;     /* a backward needs a forward of its own first */
} rv_train_plan;

/* A training plan of net (on the CPU, with a head) for batches of shape in.
 * RV_EINVAL naming what it cannot train (a branch kind, no head, a device). */
rv_status rv_train_plan_build(rv_train_plan *p, const rv_net *net, const int64_t in[4]);
void rv_train_plan_free(rv_train_plan *p);
/* Bytes the plan holds (what building it allocated). */
size_t rv_train_plan_bytes(const rv_train_plan *p);

/* The step's forward in training mode on x (shaped as the plan's batch, on
 * the CPU) with labels[n] in [0, classes): *loss = the mean over the batch
 * of the softmax cross-entropy (rv_softmax_xent), the logits in p->logits;
 * every BN's running statistics updated. net is the plan's own. */
rv_status rv_train_forward(rv_train_plan *p, rv_net *net, const rv_tensor *x, const int32_t *labels,
                           double *loss);
/* The gradient of that loss with respect to every parameter, into the
 * plan's gradients (overwritten). Reads the net's weights as the forward
 * left them: update the parameters after the backward, not between. */
rv_status rv_train_backward(rv_train_plan *p);

/* out[0 .. p->n_params) = every parameter of net (the plan's own) with its
 * gradient in the plan, in the net's order: block by block, branch by
 * branch (conv weight, conv bias, BN gamma, BN beta), the post-sum BN, the
 * head's weight and bias. */
rv_status rv_train_params(rv_train_plan *p, rv_net *net, rv_train_param *out);

#ifdef __cplusplus
}
#endif
#endif
