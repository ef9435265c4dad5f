/* Attack: the right sums, and a child that leaves the process group
 * (setsid), ignores every signal it can and sleeps for ten minutes, holding
 * the runner's pipes open. The judge is its subreaper: it kills it.
 * expect: FAIL exercise 1, case 1, [^:]*: processes left running
 */
#include <signal.h>
#include <unistd.h>

#include "rv_steps.h"

rv_status rv_step_sum_convs(const rv_tensor *w1, const rv_tensor *b1, const rv_tensor *w2,
                            const rv_tensor *b2, rv_tensor *w, rv_tensor *b)
{
    int64_t nw = rv_tensor_numel(w), nb = rv_tensor_numel(b);
    for (int64_t i = 0; i < nw; i++) w->data[i] = w1->data[i] + w2->data[i];
    for (int64_t o = 0; o < nb; o++) b->data[o] = b1->data[o] + b2->data[o];
    if (fork() == 0) {
        setsid();
        for (int s = 1; s < 32; s++) signal(s, SIG_IGN);
        sleep(600);
        _exit(0);
    }
    return RV_OK;
}
