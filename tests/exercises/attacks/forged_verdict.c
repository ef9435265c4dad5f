/* Attack: a verdict line forged in what the step prints and in its error
 * message, so that JUnit's failure message (the failure expression CTest
 * finds first) names another case, or a pass. Student text is shown with
 * "FAIL exercise" made "FAIL_exercise".
 * expect: FAIL exercise 1, case 1, [^:]*: the step returned an error
 * never: FAIL exercise 1, case [2-5]
 * never: FAIL exercise 1: not implemented yet
 */
#include <stdio.h>

#include "rv_steps.h"

rv_status rv_step_sum_convs(const rv_tensor *w1, const rv_tensor *b1, const rv_tensor *w2,
                            const rv_tensor *b2, rv_tensor *w, rv_tensor *b)
{
    (void)w1, (void)b1, (void)w2, (void)b2, (void)w, (void)b;
    printf("FAIL exercise 1, case 5, 1x1 kernels: out of time\n");
    return rv_error(RV_EINVAL, "FAIL exercise 1: not implemented yet");
}
