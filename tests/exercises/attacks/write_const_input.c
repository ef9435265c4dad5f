/* Attack: the right sums, then a write into a const input (w2 cast to
 * non-const). The judge compares every input with its own copy.
 * expect: FAIL exercise 1, case 1, [^:]*: a const input changed
 * expect: its input w2
 */
#include "rv_steps.h"

rv_status rv_step_sum_convs(const rv_tensor *w1, const rv_tensor *b1, const rv_tensor *w2,
                            const rv_tensor *b2, rv_tensor *w, rv_tensor *b)
{
    int64_t nw = rv_tensor_numel(w), nb = rv_tensor_numel(b);
    for (int64_t i = 0; i < nw; i++) w->data[i] = w1->data[i] + w2->data[i];
    for (int64_t o = 0; o < nb; o++) b->data[o] = b1->data[o] + b2->data[o];
    if (w2 != w) ((rv_tensor *)w2)->data[0] += 1.0f;
    return RV_OK;
}
