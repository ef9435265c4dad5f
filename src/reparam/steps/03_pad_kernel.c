/* Step 3, the reference solution: a kernel centred in a larger one of zeros
 * (rv_steps.h). The exercise build compiles lessons/exercises/03_pad_kernel.c
 * instead. */
#include "rv_steps.h"

const char rv_reference_step_03[] = "reference solution of step 3"; /* see 01_sum_convs.c */

rv_status rv_step_pad_kernel(const rv_tensor *w, rv_tensor *y)
{
    int64_t rows = w->dim[0] * w->dim[1], KH = w->dim[2], KW = w->dim[3];
    int64_t OH = y->dim[2], OW = y->dim[3], top = (OH - KH) / 2, left = (OW - KW) / 2;
    rv_tensor_fill(y, 0.0f);
    for (int64_t r = 0; r < rows; r++)
        for (int64_t kh = 0; kh < KH; kh++)
            for (int64_t kw = 0; kw < KW; kw++)
                y->data[(r * OH + top + kh) * OW + left + kw] = w->data[(r * KH + kh) * KW + kw];
    return RV_OK;
}
