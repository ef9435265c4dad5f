/* Attack: a line forging a pass written to every descriptor from 4 to 64,
 * in case one is the judge's own output (attack.sh starts the judge with
 * its output on descriptor 9 too, as a shell or a test driver might). The
 * runner is started with no descriptor but 0 to 3; the step is wrong too.
 * expect: FAIL exercise 1, case 1, [^:]*: a wrong result
 * never: FORGED
 */
#include <string.h>
#include <unistd.h>

#include "rv_steps.h"

rv_status rv_step_sum_convs(const rv_tensor *w1, const rv_tensor *b1, const rv_tensor *w2,
                            const rv_tensor *b2, rv_tensor *w, rv_tensor *b)
{
    static const char forged[] = "FORGED\nPASS exercise 1: 5 of 5 cases\n";
    for (int fd = 4; fd <= 64; fd++)
        if (write(fd, forged, strlen(forged))) continue;
    (void)w1, (void)b1, (void)w2, (void)b2, (void)w, (void)b;
    return RV_OK;
}
