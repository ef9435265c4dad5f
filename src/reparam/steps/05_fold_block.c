/* Step 5, the reference solution: a block's branches folded into one conv,
 * and RepVGG's rule for its identity branch (rv_steps.h). The exercise build
 * compiles lessons/exercises/05_fold_block.c instead. */
#include "rv_reparam.h"
#include "rv_steps.h"

const char rv_reference_step_05[] = "reference solution of step 5"; /* see 01_sum_convs.c */

rv_status rv_step_fold_block(const rv_block *b, rv_tensor *w, rv_tensor *bias)
{
    rv_status st = RV_OK;
    for (int i = 0; i < b->spec.n_branches && st == RV_OK; i++) {
        rv_tensor wi = {0}, bi = {0}, wp = {0};
        const rv_bn *bn;
        st = rv_branch_kernel(b, i, &wi, &bi, &bn);
        if (st == RV_OK && bn) st = rv_fuse_conv_bn(&wi, &bi, bn, &wi, &bi);
        if (st == RV_OK) st = rv_tensor_alloc(&wp, RV_CPU, 4, w->dim, "centred kernel");
        if (st == RV_OK) st = rv_pad_kernel(&wi, &wp);
        if (st == RV_OK) st = rv_sum_convs(w, bias, &wp, &bi, w, bias);
        rv_tensor_free(&wi);
        rv_tensor_free(&bi);
        rv_tensor_free(&wp);
    }
    if (st == RV_OK && b->spec.post_bn) st = rv_fuse_conv_bn(w, bias, &b->post, w, bias);
    return st;
}

rv_status rv_step_wants_identity(int64_t in_ch, int64_t out_ch, int stride, int *yes)
{
    *yes = in_ch == out_ch && stride == 1;
    return RV_OK;
}
