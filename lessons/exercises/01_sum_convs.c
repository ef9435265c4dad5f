/* Exercise 1 - two branches summed are one conv (lesson 01).
 *
 * Read lesson 01 first (build/bin/01_two_branch_sum, lessons/01_two_branch_sum.c).
 * Write the function below, then grade it:
 *     cmake --workflow --preset exercises            (builds and grades all six)
 *     ctest --test-dir build-exercises -R exercise_01 --output-on-failure
 * Once it passes, build-exercises/bin/01_two_branch_sum runs on your code.
 */
#include "rv_steps.h"

/* Two 3x3 convs that read the same input and are summed are one conv:
 *
 *     conv(x, W1) + b1 + conv(x, W2) + b2 = conv(x, W1 + W2) + (b1 + b2)
 *
 * Fill w = w1 + w2 and b = b1 + b2, element by element.
 *
 * What you may assume (the caller, rv_sum_convs, has checked it): every
 * tensor is on the CPU, float, with its values in t->data (rv_tensor_numel(t)
 * of them); w1, w2 and w have one shape (O, I/g, KH, KW); b1, b2 and b have
 * (O). w may be the same tensor as w1 or w2, and b as b1 or b2 (the fold of
 * a block adds its branches into w in place). Return RV_OK. */
rv_status rv_step_sum_convs(const rv_tensor *w1, const rv_tensor *b1, const rv_tensor *w2,
                            const rv_tensor *b2, rv_tensor *w, rv_tensor *b)
{
    (void)w1, (void)b1, (void)w2, (void)b2, (void)w, (void)b;
    return rv_error(RV_ENOTIMPL,
                    "exercise 1, rv_step_sum_convs (lessons/exercises/01_sum_convs.c): "
                    "not implemented yet");
}
