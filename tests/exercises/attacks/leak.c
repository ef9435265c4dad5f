/* Attack: the right sums, and a megabyte allocated and never freed on every
 * call. LeakSanitizer runs at the runner's exit, after each case.
 * expect: FAIL exercise 1, case 1, [^:]*: a memory leak
 * expect: 1048576 byte
 * expect: leak\.c:1[0-9]
 */
#include <stdlib.h>
#include <string.h>

#include "rv_steps.h"

static void scratch(void)
{
    char *volatile p = malloc(1 << 20); /* volatile: the compiler may not drop it unused */
    if (p) memset(p, 1, 1 << 20);
}

rv_status rv_step_sum_convs(const rv_tensor *w1, const rv_tensor *b1, const rv_tensor *w2,
                            const rv_tensor *b2, rv_tensor *w, rv_tensor *b)
{
    int64_t nw = rv_tensor_numel(w), nb = rv_tensor_numel(b);
    scratch();
    for (int64_t i = 0; i < nw; i++) w->data[i] = w1->data[i] + w2->data[i];
    for (int64_t o = 0; o < nb; o++) b->data[o] = b1->data[o] + b2->data[o];
    return RV_OK;
}
