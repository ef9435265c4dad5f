/* Step 6, the reference solution: the whole network switched block by block
 * (rv_steps.h). The exercise build compiles lessons/exercises/06_switch_net.c
 * instead. */
#include "rv_steps.h"

const char rv_reference_step_06[] = "reference solution of step 6"; /* see 01_sum_convs.c */

rv_status rv_step_switch_net(const rv_net *train, rv_net *fast)
{
    rv_status st = RV_OK;
    for (int i = 0; i < train->n_blocks && st == RV_OK; i++)
        st = rv_block_switch_to_fast(&train->blocks[i], &fast->blocks[i]);
    return st;
}
