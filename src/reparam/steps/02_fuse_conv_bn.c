/* Step 2, the reference solution: conv + BN as one conv (rv_steps.h).
 * The exercise build compiles lessons/exercises/02_fuse_conv_bn.c instead. */
#include "rv_steps.h"

const char rv_reference_step_02[] = "reference solution of step 2"; /* see 01_sum_convs.c */

rv_status rv_step_fuse_conv_bn(const rv_tensor *w, const rv_tensor *b, const rv_bn *bn,
                               rv_tensor *w_out, rv_tensor *b_out)
{
    int64_t O = w->dim[0], per_out = rv_tensor_numel(w) / O;
    for (int64_t o = 0; o < O; o++) {
        double s, t; /* the one place the formula lives: rv_bn.h */
        rv_bn_coeffs(bn, o, &s, &t);
        for (int64_t k = 0; k < per_out; k++)
            w_out->data[o * per_out + k] = (float)((double)w->data[o * per_out + k] * s);
        b_out->data[o] = (float)(t + (b ? s * b->data[o] : 0.0));
    }
    return RV_OK;
}
