/* Exercise 4 - the identity is a conv (lesson 04).
 *
 * Read lesson 04 first (build/bin/04_identity_as_conv, lessons/04_identity_as_conv.c).
 * Grade it: ctest --test-dir build-exercises -R exercise_04 --output-on-failure
 * (after cmake --workflow --preset exercises). Once it passes (and exercise 2,
 * which it also runs on), build-exercises/bin/04_identity_as_conv runs on your
 * code.
 */
#include "rv_steps.h"

/* The kernel whose conv (padding KH/2 x KW/2, stride 1, `groups` groups)
 * copies its input, the notebook's identity_conv:
 *
 *     w[o][o mod (C/g)][KH/2][KW/2] = 1 for every output channel o, 0 elsewhere
 *
 * w is (C, C/g, KH, KW), g = groups: with the channels in g groups, output
 * channel o reads only the C/g input channels of its own group, numbered
 * 0 .. C/g - 1 there, and its own channel is number o mod (C/g) among them.
 * Element (o, i, h, k) is w->data[((o * (C/g) + i) * KH + h) * KW + k]. w's
 * values on entry are anything: write every one of them.
 *
 * What you may assume (the caller, rv_identity_kernel, has checked it): w on
 * the CPU; groups >= 1 divides C = w->dim[0]; w->dim[1] = C/g; KH and KW odd.
 * Return RV_OK. */
rv_status rv_step_identity_kernel(int groups, rv_tensor *w)
{
    (void)groups, (void)w;
    return rv_error(RV_ENOTIMPL,
                    "exercise 4, rv_step_identity_kernel (lessons/exercises/04_identity_kernel.c): "
                    "not implemented yet");
}
