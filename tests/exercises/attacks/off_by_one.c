/* Attack: the right sums, and one float written past the end of w. The
 * tensors are allocated at their exact size, so AddressSanitizer sees the
 * write, names this file and line, and the judge prints its report once.
 * expect: FAIL exercise 1, case 1, [^:]*: a memory fault
 * expect: heap-buffer-overflow
 * expect: off_by_one\.c:18
 * once: heap-buffer-overflow
 */
#include "rv_steps.h"

rv_status rv_step_sum_convs(const rv_tensor *w1, const rv_tensor *b1, const rv_tensor *w2,
                            const rv_tensor *b2, rv_tensor *w, rv_tensor *b)
{
    int64_t nw = rv_tensor_numel(w), nb = rv_tensor_numel(b);
    for (int64_t i = 0; i < nw; i++) w->data[i] = w1->data[i] + w2->data[i];
    for (int64_t o = 0; o < nb; o++) b->data[o] = b1->data[o] + b2->data[o];
    /* one float past the end: the classic off-by-one */
    w->data[nw] = 0.0f;
    return RV_OK;
}
