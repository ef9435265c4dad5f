/* Attack: SIGALRM and SIGXCPU ignored, then a loop for ever. The CPU-time
 * limit ends in SIGKILL, and the judge's own clock kills the group.
 * expect: FAIL exercise 1, case 1, [^:]*: out of time
 */
#include <signal.h>

#include "rv_steps.h"

rv_status rv_step_sum_convs(const rv_tensor *w1, const rv_tensor *b1, const rv_tensor *w2,
                            const rv_tensor *b2, rv_tensor *w, rv_tensor *b)
{
    (void)w1, (void)b1, (void)w2, (void)b2, (void)b;
    signal(SIGALRM, SIG_IGN);
    signal(SIGXCPU, SIG_IGN);
    for (volatile int64_t i = 0;; i++) w->data[0] = (float)i;
    return RV_OK;
}
