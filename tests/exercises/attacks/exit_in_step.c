/* Attack: exit(0) inside the step, before anything is returned.
 * expect: FAIL exercise 1, case 1, [^:]*: the process ended before it answered
 * expect: exited \(status 0\) before returning case 1
 */
#include <stdlib.h>

#include "rv_steps.h"

rv_status rv_step_sum_convs(const rv_tensor *w1, const rv_tensor *b1, const rv_tensor *w2,
                            const rv_tensor *b2, rv_tensor *w, rv_tensor *b)
{
    (void)w1, (void)b1, (void)w2, (void)b2, (void)w, (void)b;
    exit(0);
}
