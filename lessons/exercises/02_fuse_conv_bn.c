/* Exercise 2 - a conv and its batch norm are one conv (lesson 02).
 *
 * Read lesson 02 first (build/bin/02_conv_bn_fusion, lessons/02_conv_bn_fusion.c).
 * Grade it: ctest --test-dir build-exercises -R exercise_02 --output-on-failure
 * (after cmake --workflow --preset exercises). Once it passes,
 * build-exercises/bin/02_conv_bn_fusion runs on your code.
 */
#include <math.h>

#include "rv_steps.h"

/* A conv followed by a batch norm in inference (eval) mode is one conv:
 *
 *     bn(conv(x, W) + b) = conv(x, s*W) + (t + s*b)
 *     s[o] = gamma[o] / sqrt(var[o] + eps),   t[o] = beta[o] - mean[o] * s[o]
 *
 * for every output channel o. So w_out[o][...] = s[o] * w[o][...] (all
 * (C/g)*KH*KW values of output channel o) and b_out[o] = t[o] + s[o] * b[o].
 *
 * Finding the values: O = w->dim[0]. A tensor's values lie in t->data, row
 * after row (rv_tensor_numel(t) of them), so output channel o's values are the
 * n = rv_tensor_numel(w) / O floats from w->data + o * n on; b's value for
 * channel o is b->data[o].
 *
 * The BN (rv_bn.h): bn->gamma, bn->beta, bn->mean, bn->var are tensors of
 * bn->channels = O values on the CPU (read bn->gamma.data[o], ...); mean and
 * var are the running statistics kept while training; bn->eps is a double.
 * Compute s and t in double (the square root of a float sum loses digits),
 * store the results as float. Write the formula yourself: the library's
 * rv_bn_coeffs computes it for the BN op, and using it here would skip the
 * exercise.
 *
 * What you may assume (the caller, rv_fuse_conv_bn, has checked it): w and
 * w_out are (O, C/g, KH, KW); b is (O), or NULL for a conv without bias (then
 * b[o] = 0); b_out is (O); all on the CPU. w_out may be the same tensor as w
 * and b_out as b. Return RV_OK. */
rv_status rv_step_fuse_conv_bn(const rv_tensor *w, const rv_tensor *b, const rv_bn *bn,
                               rv_tensor *w_out, rv_tensor *b_out)
{
    (void)w, (void)b, (void)bn, (void)w_out, (void)b_out;
    return rv_error(RV_ENOTIMPL,
                    "exercise 2, rv_step_fuse_conv_bn (lessons/exercises/02_fuse_conv_bn.c): "
                    "not implemented yet");
}
