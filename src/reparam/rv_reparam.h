/* rv_reparam.h - the re-parameterization algebra, on weights (host tensors).
 *
 * Each rewrite turns a train-time structure into one conv with bias that
 * computes the same function (the RepVGG paper, section 3.3):
 *   sum of branches   conv(x, W1) + conv(x, W2) = conv(x, W1 + W2)       (rv_add)
 *   conv + BN         bn(conv(x, W) + b) = conv(x, W*s) + (t + s*b)       (rv_fuse_conv_bn)
 *                     with s = gamma / sqrt(var + eps), t = beta - mean*s (rv_bn_coeffs)
 *   1x1 -> 3x3        a 1x1 kernel zero-padded to 3x3, used with padding 1
 *                                                                         (rv_pad_kernel)
 *   identity          a KxK kernel with a 1 at the centre of input channel
 *                     i % (C/groups) of output channel i                  (rv_identity_kernel)
 */
#ifndef RV_REPARAM_H
#define RV_REPARAM_H

#include "rv_bn.h"
#include "rv_tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* w_out = w * s[o], b_out = t[o] + s[o] * b[o]; b may be NULL (a conv without
 * bias). w_out and b_out are preallocated, (O, C/g, KH, KW) and (O), on the
 * CPU; w_out may be w. Computed in double, stored in float. */
rv_status rv_fuse_conv_bn(const rv_tensor *w, const rv_tensor *b, const rv_bn *bn, rv_tensor *w_out,
                          rv_tensor *b_out);

/* Fills w (C, C/groups, K, K), K odd, with the identity kernel. */
rv_status rv_identity_kernel(int groups, rv_tensor *w);

#ifdef __cplusplus
}
#endif
#endif
