/* Attack: a wrong answer, and a zero byte written to descriptors 3 to 20
 * before the case and after the step, hoping one is the verdict's pipe.
 * The verdict is no descriptor's: the answer on descriptor 3 no longer
 * starts as the runner's, and would be wrong anyway.
 * expect: FAIL exercise 1, case 1, [^:]*: an answer that is not the runner's
 */
#include <unistd.h>

#include "rv_steps.h"

static void zeros(void)
{
    for (int fd = 3; fd <= 20; fd++)
        if (write(fd, "", 1)) continue;
}

__attribute__((constructor)) static void before(void) { zeros(); }

rv_status rv_step_sum_convs(const rv_tensor *w1, const rv_tensor *b1, const rv_tensor *w2,
                            const rv_tensor *b2, rv_tensor *w, rv_tensor *b)
{
    (void)w1, (void)b1, (void)w2, (void)b2, (void)w, (void)b;
    zeros();
    return RV_OK;
}
