/* Exercise 6 - the whole network switched (lesson 06).
 *
 * Read lesson 06 first (build/bin/06_network_switch, lessons/06_network_switch.c).
 * Grade it: ctest --test-dir build-exercises -R exercise_06 --output-on-failure
 * (after cmake --workflow --preset exercises). The grader runs your function
 * with the course's own steps 1 to 5; build-exercises/bin/06_network_switch
 * runs on all of yours, so it passes once exercises 1 to 6 do.
 */
#include "rv_steps.h"

/* The notebook's RepVGG.switch_to_fast: every block of the train-time net
 * replaced by its deploy-time block, in place, block by block:
 *
 *     fast->blocks[i] = the switched train->blocks[i],   i = 0 .. n_blocks - 1
 *
 * rv_block_switch_to_fast(&train->blocks[i], &fast->blocks[i]) switches one
 * block (it runs your exercise 5). Stop at the first error and return it.
 *
 * What you may assume (the caller, rv_net_switch_to_fast, has checked it):
 * fast has train->n_blocks blocks, all empty, on train's device, and its head
 * (if any) is copied already. Return RV_OK. */
rv_status rv_step_switch_net(const rv_net *train, rv_net *fast)
{
    (void)train, (void)fast;
    return rv_error(RV_ENOTIMPL,
                    "exercise 6, rv_step_switch_net (lessons/exercises/06_switch_net.c): "
                    "not implemented yet");
}
