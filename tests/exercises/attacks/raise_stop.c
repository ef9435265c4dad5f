/* Attack: the step stops its own process (SIGSTOP), so that a grader
 * waiting for it waits for ever.
 * expect: FAIL exercise 1, case 1, [^:]*: a process stopped
 * expect: stopped itself
 */
#include <signal.h>

#include "rv_steps.h"

rv_status rv_step_sum_convs(const rv_tensor *w1, const rv_tensor *b1, const rv_tensor *w2,
                            const rv_tensor *b2, rv_tensor *w, rv_tensor *b)
{
    (void)w1, (void)b1, (void)w2, (void)b2, (void)w, (void)b;
    raise(SIGSTOP);
    return RV_OK;
}
