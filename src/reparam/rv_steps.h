/* rv_steps.h - the notebook's re-parameterization steps, one function each.
 *
 * Each step lives in a file of its own, src/reparam/steps/0N_*.c, with the
 * lesson that teaches it; the course's exercises (lessons/exercises/) are the
 * same files with the bodies left for a student to write, and the exercise
 * build (-DREPVGG_EXERCISES=ON) compiles those instead. So a step is called
 * only through its checked entry point (rv_reparam.h, rv_block.h, rv_net.h),
 * which has already checked what each contract below says may be assumed:
 * every tensor on the CPU, float32, shaped as stated, nothing NULL that is
 * not said to be. A step returns RV_OK, or an rv_error() status.
 */
#ifndef RV_STEPS_H
#define RV_STEPS_H

#include "rv_net.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Step 1 (lesson 01, the notebook's TwoBranches): two convs with one input,
 * summed, are one conv with the summed weights and biases:
 *     conv(x, W1) + b1 + conv(x, W2) + b2 = conv(x, W1 + W2) + (b1 + b2)
 * w1, w2, w: one shape (O, I/g, KH, KW); b1, b2, b: (O). w may be w1 or w2,
 * b may be b1 or b2 (accumulating in place). */
rv_status rv_step_sum_convs(const rv_tensor *w1, const rv_tensor *b1, const rv_tensor *w2,
                            const rv_tensor *b2, rv_tensor *w, rv_tensor *b);

/* Step 2 (lesson 02, get_fused_bn_to_conv_state_dict): a conv followed by a
 * BN in inference mode is one conv:
 *     bn(conv(x, W) + b) = conv(x, s*W) + (t + s*b)
 *     s[o] = gamma[o] / sqrt(var[o] + eps),   t[o] = beta[o] - mean[o] * s[o]
 * with the BN's running statistics (bn->mean, bn->var; bn->gamma, bn->beta,
 * bn->eps), each (O). w, w_out (O, C/g, KH, KW); b (O) or NULL (a conv without
 * bias); b_out (O). w_out may be w and b_out may be b. */
rv_status rv_step_fuse_conv_bn(const rv_tensor *w, const rv_tensor *b, const rv_bn *bn,
                               rv_tensor *w_out, rv_tensor *b_out);

/* Step 3 (lesson 03, F.pad(weight, [1, 1, 1, 1])): a smaller kernel centred
 * in zeros. w (O, C, KH, KW), y (O, C, KH', KW') with KH' - KH and KW' - KW
 * even and >= 0: y's (KH' - KH) / 2 top rows and as many bottom rows are
 * zero, likewise (KW' - KW) / 2 columns on the left and on the right, and
 * the rest is w. */
rv_status rv_step_pad_kernel(const rv_tensor *w, rv_tensor *y);

/* Step 4 (lesson 04, the identity as a conv): w (C, C/groups, KH, KW), KH and
 * KW odd, groups >= 1 dividing C: all zeros except, for every output channel
 * o, a 1 at the centre (KH/2, KW/2) of input channel o % (C/groups) - the
 * channel of o's group that is o itself. */
rv_status rv_step_identity_kernel(int groups, rv_tensor *w);

/* Step 5 (lesson 05, get_fused_conv_state_dict_from_block): the block's
 * branches folded into one conv. w (O, I/g, KH, KW) and bias (O), the
 * block's kernel size (b->spec.kh, b->spec.kw), zeroed by the caller. For
 * each branch i: rv_branch_kernel gives it as one conv with bias before its
 * BN, and the BN (or NULL); fold that BN in (rv_fuse_conv_bn), centre the
 * kernel in KH x KW (rv_pad_kernel), add it (rv_sum_convs). Last, when
 * b->spec.post_bn, fold the BN after the sum (b->post) into the result. */
rv_status rv_step_fold_block(const rv_block *b, rv_tensor *w, rv_tensor *bias);

/* Also step 5: whether a RepVGG block has the identity branch, into *yes
 * (1 or 0). The identity branch is x itself, so it can only be added where x
 * has the output's shape: in_ch == out_ch and stride == 1. */
rv_status rv_step_wants_identity(int64_t in_ch, int64_t out_ch, int stride, int *yes);

/* Step 6 (lesson 06, RepVGG.switch_to_fast): every block of the train-time
 * net to its deploy-time block. fast has train->n_blocks blocks, all empty,
 * and the head already copied: fill fast->blocks[i] from train->blocks[i]
 * with rv_block_switch_to_fast, for every i. */
rv_status rv_step_switch_net(const rv_net *train, rv_net *fast);

#ifdef __cplusplus
}
#endif
#endif
