/* Step 1, the reference solution: two summed convs as one (rv_steps.h).
 * The exercise build compiles lessons/exercises/01_sum_convs.c instead. */
#include "rv_steps.h"

/* Present only when this reference file is linked: the exercise build's
 * test looks for it to prove a student's build runs the student's code. */
const char rv_reference_step_01[] = "reference solution of step 1";

rv_status rv_step_sum_convs(const rv_tensor *w1, const rv_tensor *b1, const rv_tensor *w2,
                            const rv_tensor *b2, rv_tensor *w, rv_tensor *b)
{
    int64_t nw = rv_tensor_numel(w), nb = rv_tensor_numel(b);
    for (int64_t i = 0; i < nw; i++) w->data[i] = w1->data[i] + w2->data[i];
    for (int64_t o = 0; o < nb; o++) b->data[o] = b1->data[o] + b2->data[o];
    return RV_OK;
}
