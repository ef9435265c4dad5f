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
 * the block's KH x KW. For each branch i of b->spec.n_branches:
 *   - rv_branch_kernel(b, i, &wi, &bi, &bn) gives K_i and c_i as two new host
 *     tensors (free them with rv_tensor_free when done) and its BN, or NULL;
 *   - fold the BN in with rv_fuse_conv_bn(&wi, &bi, bn, &wi, &bi) (step 2);
 *   - centre wi in a tensor of w's shape (rv_tensor_alloc(&t, RV_CPU, 4,
 *     w->dim, "name"), then rv_pad_kernel, step 3);
 *   - add it and bi into w and bias (rv_sum_convs, step 1).
 * Last, if b->spec.post_bn (a BN after the sum, as in QARepVGG), fold b->post
 * into the sum: rv_fuse_conv_bn(w, bias, &b->post, w, bias).
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
