/* Attack: a constructor that ends the process with status 0 before main,
 * so that a grader which passes on exit status 0 passes. The judge wants
 * the runner's answer, not an exit status.
 * expect: FAIL exercise 1, case 1, [^:]*: the process ended before it answered
 * expect: exited \(status 0\) before returning case 1
 */
#include <unistd.h>

#include "rv_steps.h"

__attribute__((constructor)) static void before(void) { _exit(0); }

rv_status rv_step_sum_convs(const rv_tensor *w1, const rv_tensor *b1, const rv_tensor *w2,
                            const rv_tensor *b2, rv_tensor *w, rv_tensor *b)
{
    (void)w1, (void)b1, (void)w2, (void)b2, (void)w, (void)b;
    return RV_OK;
}
