/* rv_grad.h - the backward ops, and the forward ops that only training has.
 *
 * For an op y = f(x, w), its backward takes dy = dL/dy, the gradient of the
 * loss L with respect to the op's output, and gives dx = dL/dx, dw = dL/dw
 * (the chain rule: dx = J_x^T dy). Outputs are preallocated by the caller
 * and overwritten, never accumulated into; an output passed as NULL is not
 * computed. CPU only for now: a tensor on a GPU is RV_EINVAL.
 *
 * The sum of branches y = a(x) + b(x) + x needs no op of its own: each
 * branch receives dy itself (the same tensor, no copy), and the gradients
 * that flow back into the shared input add up, dx = dx_a + dx_b + dy,
 * which is rv_add (rv_ops.h).
 *
 * conv2d has a naive reference (_ref: loop nests from the definitions,
 * sums in double) and a fast version (_cpu: im2col + OpenBLAS, checked
 * against _ref); the other ops are written once, straight from their
 * formulas with sums in double, and checked against finite differences.
 * tests/torch/check_grads.py checks every one against PyTorch's autograd.
 */
#ifndef RV_GRAD_H
#define RV_GRAD_H

#include <stdint.h>

#include "rv_ops.h"

#ifdef __cplusplus
extern "C" {
#endif

/* For y = conv(x, w) + b (p.relu must be 0: ReLU has its own backward):
 *   db[o]          = sum over n, p, q of dy[n, o, p, q]
 *   dw[o, c, i, j] = sum over n, p, q of dy[n, o, p, q] x[n, c0 + c, p s - ph + i, q s - pw + j]
 *   dx[n, c, h, w] = sum of dy[n, o, p, q] w[o, c - c0, i, j] over the (o, p, q, i, j) that
 *                    read x[n, c, h, w]
 * with c0 the first input channel of o's group, s the stride, ph, pw the
 * padding (the padding's zeros get no gradient). dy (N, O, P, Q); dx like x,
 * dw like w, db (O). */
rv_status rv_conv2d_backward(const rv_tensor *x, const rv_tensor *w, const rv_tensor *dy,
                             rv_conv_params p, rv_tensor *dx, rv_tensor *dw, rv_tensor *db);
/* The same with e's workspace (e->workspace, at least
 * rv_conv2d_backward_workspace_bytes; e NULL or its workspace NULL: the
 * library's shared one, grown on demand), so that a training plan's step
 * allocates nothing. Only e->workspace is read. */
rv_status rv_conv2d_backward_run(const rv_tensor *x, const rv_tensor *w, const rv_tensor *dy,
                                 rv_conv_params p, const rv_conv_exec *e, rv_tensor *dx,
                                 rv_tensor *dw, rv_tensor *db);
/* Bytes of workspace the fast backward takes for x's shape (its data
 * unused) with this thread count, computing dx when want_dx and dw when
 * want_dw; 0 when the shapes do not fit. */
size_t rv_conv2d_backward_workspace_bytes(const rv_tensor *x, const rv_tensor *w, rv_conv_params p,
                                          int want_dx, int want_dw);
rv_status rv_conv2d_backward_ref(const rv_tensor *x, const rv_tensor *w, const rv_tensor *dy,
                                 rv_conv_params p, rv_tensor *dx, rv_tensor *dw, rv_tensor *db);
/* Per image: col = im2col(x), dw_g += dy_g col_g^T, dcol_g = w_g^T dy_g,
 * dx = col2im(dcol) (src/ops/conv2d_backward.c). */
rv_status rv_conv2d_backward_cpu(const rv_tensor *x, const rv_tensor *w, const rv_tensor *dy,
                                 rv_conv_params p, const rv_conv_exec *e, rv_tensor *dx,
                                 rv_tensor *dw, rv_tensor *db);

/* PyTorch's BatchNorm2d default: running = (1 - momentum) running + momentum batch */
#define RV_BN_MOMENTUM 0.1

/* Batch norm in training mode, over x (N, C, H, W), m = N H W values a channel:
 *   mean = sum x / m,  var = sum (x - mean)^2 / m  (biased: what normalises)
 *   y = (x - mean) / sqrt(var + bn->eps) * gamma + beta
 *   running mean = (1 - momentum) running mean + momentum mean
 *   running var  = (1 - momentum) running var + momentum var m / (m - 1)  (unbiased)
 * bn->gamma, beta, mean, var on the CPU (mean, var updated in place; call
 * rv_bn_prepare before an inference-mode rv_batchnorm). saved_mean and
 * saved_invstd (C) receive mean and 1 / sqrt(var + eps) for the backward.
 * m < 2 is RV_EINVAL (no variance to estimate, as in PyTorch). */
rv_status rv_bn_train_forward(const rv_tensor *x, rv_bn *bn, double momentum, rv_tensor *y,
                              rv_tensor *saved_mean, rv_tensor *saved_invstd);
/* Its backward, with xh = (x - mean) invstd:
 *   dbeta = sum dy,  dgamma = sum dy xh,
 *   dx = gamma invstd / m (m dy - dbeta - xh dgamma)
 * (the batch statistics depend on x: the two subtracted terms). */
rv_status rv_bn_train_backward(const rv_tensor *x, const rv_tensor *dy, const rv_bn *bn,
                               const rv_tensor *saved_mean, const rv_tensor *saved_invstd,
                               rv_tensor *dx, rv_tensor *dgamma, rv_tensor *dbeta);

/* y = max(x, 0): dx = dy where y > 0, else 0 (PyTorch's choice at x = 0).
 * Takes the forward's output y, so the forward may run in place; dx may be dy. */
rv_status rv_relu_backward(const rv_tensor *y, const rv_tensor *dy, rv_tensor *dx);

/* y (N, C) = mean of x (N, C, H, W): dx[n, c, h, w] = dy[n, c] / (H W). */
rv_status rv_global_avgpool_backward(const rv_tensor *dy, rv_tensor *dx);

/* y (N, M) = x (N, K) w^T + b: dx = dy w (N, K), dw = dy^T x (M, K),
 * db = sum over n of dy (M). */
rv_status rv_linear_backward(const rv_tensor *x, const rv_tensor *w, const rv_tensor *dy,
                             rv_tensor *dx, rv_tensor *dw, rv_tensor *db);

/* Softmax cross-entropy of logits z (N, M) with labels[n] in [0, M):
 *   *loss = mean over n of (log sum_j exp z[n, j] - z[n, labels[n]])
 *   dz = (softmax(z) - onehot(labels)) / N   (dz may be NULL)
 * in double, shifted by each row's maximum so that no exp overflows. */
rv_status rv_softmax_xent(const rv_tensor *z, const int32_t *labels, double *loss, rv_tensor *dz);

#ifdef __cplusplus
}
#endif
#endif
