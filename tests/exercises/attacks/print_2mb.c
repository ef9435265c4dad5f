/* Attack: the biases forgotten, and 2 MB printed on every call, so that the
 * verdict drowns (JUnit keeps 300 KB of a test's output). The judge keeps
 * the first 2 KiB and the last 64 KiB, shows five lines, and prints its
 * verdict last.
 * expect: FAIL exercise 1, case 2, [^:]*: a wrong result
 * expect: your code printed 2097152 bytes
 */
#include <stdio.h>
#include <string.h>

#include "rv_steps.h"

rv_status rv_step_sum_convs(const rv_tensor *w1, const rv_tensor *b1, const rv_tensor *w2,
                            const rv_tensor *b2, rv_tensor *w, rv_tensor *b)
{
    static char line[1024];
    memset(line, 'x', sizeof line - 1);
    for (int i = 0; i < 2048; i++) printf("%s\n", line);
    int64_t nw = rv_tensor_numel(w), nb = rv_tensor_numel(b);
    for (int64_t i = 0; i < nw; i++) w->data[i] = w1->data[i] + w2->data[i];
    for (int64_t o = 0; o < nb; o++) b->data[o] = b1->data[o];
    (void)b2;
    return RV_OK;
}
