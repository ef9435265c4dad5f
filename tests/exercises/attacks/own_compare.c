/* Attack: the library's comparison replaced by one that always agrees, and
 * a step that writes nothing. The comparison that counts is the judge's,
 * which links no student code.
 * expect: FAIL exercise 1, case 1, [^:]*: a wrong result
 * expect: NaN: a value never written
 */
#include "rv_check.h"
#include "rv_steps.h"

rv_cmp rv_compare(const float *a, const float *ref, int64_t n, rv_tol tol)
{
    (void)a, (void)ref, (void)tol;
    return (rv_cmp){.n = n, .pass = 1};
}

rv_status rv_step_sum_convs(const rv_tensor *w1, const rv_tensor *b1, const rv_tensor *w2,
                            const rv_tensor *b2, rv_tensor *w, rv_tensor *b)
{
    (void)w1, (void)b1, (void)w2, (void)b2, (void)w, (void)b;
    return RV_OK;
}
