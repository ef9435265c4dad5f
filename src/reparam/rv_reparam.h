/* rv_reparam.h - the re-parameterization algebra, on weights (host tensors).
 *
 * Every branch of a re-parameterizable block is linear in its input until the
 * ReLU, so it is one conv with bias, and a sum of such convs is one conv
 * (the RepVGG paper, section 3.3; ACNet, DBB and MobileOne use the same rules):
 *   sum of branches   conv(x, W1) + b1 + conv(x, W2) + b2
 *                       = conv(x, W1 + W2) + (b1 + b2)                    (rv_sum_convs)
 *   conv + BN         bn(conv(x, W) + b) = conv(x, s*W) + (t + s*b),
 *                     s = gamma / sqrt(var + eps), t = beta - mean*s      (rv_fuse_conv_bn)
 *   smaller kernel    a 1x1 (or 1x3, 3x1) kernel centred in zeros is the
 *                     3x3 one, its padding grown to match               (rv_pad_kernel)
 *   identity          a KxK kernel with a 1 at the centre of input channel
 *                     o % (C/groups) of output channel o                 (rv_identity_kernel)
 * and, beyond the notebook:
 *   average pooling   a kxk average pool = a conv with 1/k^2 on every tap of
 *                     that same channel                                  (rv_avgpool_kernel)
 *   1x1 then kxk      conv(pad_v(conv(x, W1) + b1), W2) + b2 = conv(x, W2 W1) + (b2 + W2 b1)
 *                     when the middle is padded with b1, not with zeros   (rv_merge_1x1_kxk)
 *   concatenation     concat(conv(x, W1), conv(x, W2)) = conv(x, [W1; W2]) (rv_concat_kernels)
 *
 * The first four are the notebook's steps: each checks its arguments here and
 * calls its step (rv_steps.h), which lives in a file of its own so that the
 * course's exercises can replace it with a student's. All tensors are on the
 * CPU; computed in double where a product is involved, stored in float.
 */
#ifndef RV_REPARAM_H
#define RV_REPARAM_H

#include "rv_bn.h"
#include "rv_tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* w = w1 + w2, b = b1 + b2: w* (O, I/g, KH, KW) of one shape, b* (O); w may
 * be w1 or w2 and b b1 or b2 (accumulating in place). */
rv_status rv_sum_convs(const rv_tensor *w1, const rv_tensor *b1, const rv_tensor *w2,
                       const rv_tensor *b2, rv_tensor *w, rv_tensor *b);

/* w_out = w * s[o], b_out = t[o] + s[o] * b[o]; b may be NULL (a conv without
 * bias). w_out and b_out are preallocated, (O, C/g, KH, KW) and (O); w_out may
 * be w and b_out may be b. */
rv_status rv_fuse_conv_bn(const rv_tensor *w, const rv_tensor *b, const rv_bn *bn, rv_tensor *w_out,
                          rv_tensor *b_out);

/* y (O, C, KH', KW') = w (O, C, KH, KW) centred in zeros: (KH' - KH) / 2 rows
 * above and below, (KW' - KW) / 2 columns left and right; both differences
 * even and >= 0 (a 1x1 or a 1x3 into a 3x3; equal sizes copy). */
rv_status rv_pad_kernel(const rv_tensor *w, rv_tensor *y);

/* Fills w (C, C/groups, KH, KW), KH and KW odd, with the identity kernel. */
rv_status rv_identity_kernel(int groups, rv_tensor *w);

/* Fills w (C, C/groups, k, k) with the kernel of a k x k average pool that
 * counts the padding (PyTorch's count_include_pad): 1/k^2 on every tap of
 * input channel o % (C/groups) of output channel o. */
rv_status rv_avgpool_kernel(int groups, rv_tensor *w);

/* A 1x1 conv (w1 (M, I/g, 1, 1), bias b1 (M)) then a kxk conv (w2 (O, M/g,
 * KH, KW), bias b2 (O)), both with `groups`, as one conv: w (O, I/g, KH, KW),
 * b (O) preallocated. Exact when the kxk conv pads its input with b1, the
 * value the 1x1 conv gives at a zero-padded input (DBB's BN-and-pad). */
rv_status rv_merge_1x1_kxk(const rv_tensor *w1, const rv_tensor *b1, const rv_tensor *w2,
                           const rv_tensor *b2, int groups, rv_tensor *w, rv_tensor *b);

/* Convs with one input, their outputs concatenated along channels, as one
 * conv: w ((O1 + ... + On), I, KH, KW) = w[0] then w[1] ... along the output
 * channels, b likewise (groups 1; the kernels share KH x KW: rv_pad_kernel
 * them first). */
rv_status rv_concat_kernels(const rv_tensor *const *ws, const rv_tensor *const *bs, int n,
                            rv_tensor *w, rv_tensor *b);

#ifdef __cplusplus
}
#endif
#endif
