/* Attack: the right sums, and 3 GB allocated and written on every call, to
 * take the machine's memory. Under AddressSanitizer the judge allows 2 GB
 * per allocation and 2 GB resident.
 * expect: FAIL exercise 1, case 1, [^:]*: too much memory
 */
#include <stdlib.h>
#include <string.h>

#include "rv_steps.h"

rv_status rv_step_sum_convs(const rv_tensor *w1, const rv_tensor *b1, const rv_tensor *w2,
                            const rv_tensor *b2, rv_tensor *w, rv_tensor *b)
{
    size_t huge = (size_t)3 << 30;
    char *volatile p = malloc(huge);
    if (p) memset(p, 1, huge);
    free(p);
    int64_t nw = rv_tensor_numel(w), nb = rv_tensor_numel(b);
    for (int64_t i = 0; i < nw; i++) w->data[i] = w1->data[i] + w2->data[i];
    for (int64_t o = 0; o < nb; o++) b->data[o] = b1->data[o] + b2->data[o];
    return RV_OK;
}
