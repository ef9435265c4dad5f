/* Exercise 5 - the whole block is one conv (lesson 05).
 *
 * Read lesson 05 first (build/bin/05_repvgg_block, lessons/05_repvgg_block.c).
 * Grade it: ctest --test-dir build-exercises -R exercise_05 --output-on-failure
 * (after cmake --workflow --preset exercises). The grader runs your two
 * functions with the course's own steps 1 to 4; build-exercises/bin/05_repvgg_block
 * runs on all of yours, so it passes once exercises 1 to 5 do.
 */
#include "rv_reparam.h"
#include "rv_steps.h"

/* Fold the block's branches into one conv with bias, the notebook's
 * get_fused_conv_state_dict_from_block, for any list of branches:
 *
 *     W = sum over branches i of pad(s_i * K_i),   b = sum of (t_i + s_i * c_i)
 *
 * where branch i is one conv with kernel K_i and bias c_i before its BN (s_i,
 * t_i: that BN's scale and shift; none: s = 1, t = 0), and pad centres K_i in
 * the block's KH x KW. If the block has a BN after the sum
 * (b->spec.post_bn, as in QARepVGG: b->post), that BN is folded into the
 * sum last, as into any conv: W, b <- s*W, t + s*b with that BN's s and t.
 *
 * The tools, each one rule of steps 1 to 4 (rv_reparam.h and rv_block.h say
 * what each takes, which arguments may be the same tensor, and who frees
 * what):
 *   rv_branch_kernel  branch i of the block (0 .. b->spec.n_branches - 1) as
 *                     K_i, c_i and its BN (or NULL), in new host tensors;
 *   rv_fuse_conv_bn   a conv and its BN as one conv (step 2);
 *   rv_pad_kernel     a kernel centred in a larger one (step 3);
 *   rv_sum_convs      two convs' kernels and biases summed (step 1);
 *   rv_tensor_alloc, rv_tensor_free   a tensor of a given shape (w->dim is
 *                     the block's (O, I/g, KH, KW)) and its release.
 * Which of them each branch needs, and in which order, is the exercise.
 *
 * What you may assume (the caller, rv_block_switch_to_fast, has checked the
 * spec): w is (O, I/g, KH, KW) with KH = b->spec.kh, KW = b->spec.kw, and
 * bias is (O), both on the CPU and zero on entry. Return RV_OK, or the first
 * error a call returns (free what you allocated either way). */
rv_status rv_step_fold_block(const rv_block *b, rv_tensor *w, rv_tensor *bias)
{
    (void)b, (void)w, (void)bias;
    return rv_error(RV_ENOTIMPL,
                    "exercise 5, rv_step_fold_block (lessons/exercises/05_fold_block.c): "
                    "not implemented yet");
}

/* Whether RepVGG's block has the identity branch: *yes = 1 or 0.
 *
 * The identity branch adds x itself to the sum, so it exists only where x has
 * the output's shape: in_ch == out_ch, and stride 1 (at stride 2 the other
 * branches halve the height and width; the notebook forgets this, lesson 06).
 * Return RV_OK. */
rv_status rv_step_wants_identity(int64_t in_ch, int64_t out_ch, int stride, int *yes)
{
    (void)in_ch, (void)out_ch, (void)stride, (void)yes;
    return rv_error(RV_ENOTIMPL,
                    "exercise 5, rv_step_wants_identity (lessons/exercises/05_fold_block.c): "
                    "not implemented yet");
}
