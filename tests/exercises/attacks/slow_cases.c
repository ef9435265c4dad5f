/* Attack: the right sums, each after 9.5 s of sleep: under a case's 10 s,
 * but five of them are more than the exercise's 45 s. The last case gets
 * what is left, and the grading ends in time.
 * expect: FAIL exercise 1, case 5, [^:]*: out of time
 * expect: what was left of the exercise's time
 */
#include <time.h>

#include "rv_steps.h"

rv_status rv_step_sum_convs(const rv_tensor *w1, const rv_tensor *b1, const rv_tensor *w2,
                            const rv_tensor *b2, rv_tensor *w, rv_tensor *b)
{
    int64_t nw = rv_tensor_numel(w), nb = rv_tensor_numel(b);
    struct timespec t = {.tv_sec = 9, .tv_nsec = 500000000};
    while (nanosleep(&t, &t) != 0) continue;
    for (int64_t i = 0; i < nw; i++) w->data[i] = w1->data[i] + w2->data[i];
    for (int64_t o = 0; o < nb; o++) b->data[o] = b1->data[o] + b2->data[o];
    return RV_OK;
}
