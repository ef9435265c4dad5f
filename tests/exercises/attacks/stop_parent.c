/* Attack: the right sums, after stopping the parent process (SIGSTOP), in
 * case the parent is the grader. The parent is the judge's supervisor; the
 * judge sees it stop.
 * expect: FAIL exercise 1, case 1, [^:]*: a process stopped
 * expect: stopped the grader's process
 */
#include <signal.h>
#include <unistd.h>

#include "rv_steps.h"

rv_status rv_step_sum_convs(const rv_tensor *w1, const rv_tensor *b1, const rv_tensor *w2,
                            const rv_tensor *b2, rv_tensor *w, rv_tensor *b)
{
    int64_t nw = rv_tensor_numel(w), nb = rv_tensor_numel(b);
    kill(getppid(), SIGSTOP);
    for (int64_t i = 0; i < nw; i++) w->data[i] = w1->data[i] + w2->data[i];
    for (int64_t o = 0; o < nb; o++) b->data[o] = b1->data[o] + b2->data[o];
    return RV_OK;
}
