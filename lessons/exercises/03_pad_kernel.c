/* Exercise 3 - a 1x1 conv is a 3x3 conv with a zero-padded kernel (lesson 03).
 *
 * Read lesson 03 first (build/bin/03_pad_1x1_to_3x3, lessons/03_pad_1x1_to_3x3.c).
 * Grade it: ctest --test-dir build-exercises -R exercise_03 --output-on-failure
 * (after cmake --workflow --preset exercises). Once it passes,
 * build-exercises/bin/03_pad_1x1_to_3x3 runs on your code.
 */
#include "rv_steps.h"

/* Centre every kernel slice of w in a larger one of zeros, the notebook's
 * F.pad(weight, [1, 1, 1, 1]) for a 1x1 into a 3x3:
 *
 *     y[o][c][top + i][left + j] = w[o][c][i][j],   zero everywhere else,
 *     top = (KH' - KH) / 2,   left = (KW' - KW) / 2
 *
 * w is (O, C, KH, KW) and y is (O, C, KH', KW'), both row-major: element
 * (o, c, i, j) of w is w->data[((o * C + c) * KH + i) * KW + j]. A 1x1 lands
 * on the centre of a 3x3; ACNet's 1x3 kernel (KH = 1, KW = 3) on its middle
 * row; a 3x3 in a 5x5 one ring in. y's values on entry are anything: write
 * every one of them.
 *
 * What you may assume (the caller, rv_pad_kernel, has checked it): both on
 * the CPU; y's O and C are w's; KH' - KH and KW' - KW are even and >= 0
 * (equal sizes: a copy). Return RV_OK. */
rv_status rv_step_pad_kernel(const rv_tensor *w, rv_tensor *y)
{
    (void)w, (void)y;
    return rv_error(RV_ENOTIMPL,
                    "exercise 3, rv_step_pad_kernel (lessons/exercises/03_pad_kernel.c): "
                    "not implemented yet");
}
