/* Step 4, the reference solution: the identity as a conv kernel
 * (rv_steps.h). The exercise build compiles
 * lessons/exercises/04_identity_kernel.c instead. */
#include "rv_steps.h"

const char rv_reference_step_04[] = "reference solution of step 4"; /* see 01_sum_convs.c */

rv_status rv_step_identity_kernel(int groups, rv_tensor *w)
{
    int64_t C = w->dim[0], Cg = w->dim[1], KH = w->dim[2], KW = w->dim[3];
    (void)groups; /* C / groups = Cg, the channels of each group */
    rv_tensor_fill(w, 0.0f);
    for (int64_t o = 0; o < C; o++) w->data[((o * Cg + o % Cg) * KH + KH / 2) * KW + KW / 2] = 1.0f;
    return RV_OK;
}
