/* rv_ops.h - the ops: conv2d, batch norm (inference), ReLU, add, border padding,
 * average pooling, the head.
 *
 * Each op has a dispatcher (rv_conv2d) that checks shapes and devices and
 * calls the version for the tensors' device: _cpu (C, OpenBLAS) or _cuda
 * (kernels/, cuBLAS), declared side by side with the same arguments. conv2d
 * also has _ref, the naive loop nest every fast path is tested against.
 * Outputs are preallocated by the caller; ops never allocate tensors.
 */
#ifndef RV_OPS_H
#define RV_OPS_H

#include "rv_bn.h"
#include "rv_exec.h"
#include "rv_tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Build it with designated initialisers (.stride = 1, .pad_h = 1, ...): a
 * field added later is then zero only where that is meant. */
typedef struct {
    int stride;       /* the same along height and width */
    int pad_h, pad_w; /* zeros added above and below, left and right */
    int groups;
    int relu; /* apply ReLU after the bias (the fused deploy-time layer) */
} rv_conv_params;

/* An average pool's window, kh x kw, moved by stride, over an input padded
 * with pad_h rows and pad_w columns of zeros on each side. Designated
 * initialisers too (.kh = 3, .kw = 3, .stride = 1, ...). */
typedef struct {
    int kh, kw;
    int stride; /* the same along height and width */
    int pad_h, pad_w;
} rv_pool_params;

/* Output shape of conv2d, after checking x (N, C, H, W), w (O, C/groups, KH, KW)
 * and b (O) or NULL against each other and p. */
rv_status rv_conv2d_shape(const rv_tensor *x, const rv_tensor *w, const rv_tensor *b,
                          rv_conv_params p, int64_t out[4]);

/* y (N, O, P, Q) = conv(x, w) + b, ReLU if p.relu;
 * P = (H + 2 pad_h - KH) / stride + 1, Q = (W + 2 pad_w - KW) / stride + 1.
 * Multiply-adds: N*O*P*Q*(C/groups)*KH*KW. */
rv_status rv_conv2d(const rv_tensor *x, const rv_tensor *w, const rv_tensor *b, rv_conv_params p,
                    rv_tensor *y);
/* The same conv run the way its plan prepared (rv_exec.h): Winograd or the
 * packed-weights kernel on the CPU, the plan's workspace and budgets; e
 * NULL is rv_conv2d. */
rv_status rv_conv2d_run(const rv_tensor *x, const rv_tensor *w, const rv_tensor *b,
                        rv_conv_params p, const rv_conv_exec *e, rv_tensor *y);
/* Bytes of workspace rv_conv2d_run needs for an input of x's shape on x's
 * device (x's data unused), with this thread count; 0 when the shapes do
 * not fit. */
size_t rv_conv2d_workspace_bytes(const rv_tensor *x, const rv_tensor *w, rv_conv_params p,
                                 const rv_conv_exec *e);
rv_status rv_conv2d_ref(const rv_tensor *x, const rv_tensor *w, const rv_tensor *b,
                        rv_conv_params p, rv_tensor *y);
rv_status rv_conv2d_cpu(const rv_tensor *x, const rv_tensor *w, const rv_tensor *b,
                        rv_conv_params p, const rv_conv_exec *e, rv_tensor *y);
/* On a GPU the batch runs in chunks of images whose im2col columns (C*KH*KW
 * x P*Q floats an image) fit in e->cuda_col_bytes (rv_exec.h), at least one
 * image a chunk (so one image whose columns alone are larger gets a
 * workspace of that size). */
rv_status rv_conv2d_cuda(const rv_tensor *x, const rv_tensor *w, const rv_tensor *b,
                         rv_conv_params p, const rv_conv_exec *e, rv_tensor *y);

/* packed = w (O, C/g, KH, KW) packed for kernel k (rv_gemm.h), group by
 * group (each group's O/g x (C/g) KH KW matrix), for a conv that runs
 * im2col on the CPU; left empty (and RV_OK) when k is NULL (OpenBLAS), w is
 * not on the CPU or the conv is depthwise. */
rv_status rv_conv2d_pack(const rv_tensor *w, rv_conv_params p, const rv_gemm_kernel *k,
                         rv_tensor *packed);

/* The depthwise conv (p.groups == C == O, w (C, 1, KH, KW)) on the CPU,
 * direct: threads over the (image, channel) planes, bias and ReLU fused
 * (src/ops/depthwise.c). rv_conv2d_cpu runs every such conv through it. */
rv_status rv_conv2d_depthwise_cpu(const rv_tensor *x, const rv_tensor *w, const rv_tensor *b,
                                  rv_conv_params p, const rv_conv_exec *e, rv_tensor *y);

/* y = (x - mean) / sqrt(var + eps) * gamma + beta per channel, with the
 * running statistics (bn->scale, bn->shift on x's device; see rv_bn.h). */
rv_status rv_batchnorm(const rv_tensor *x, const rv_bn *bn, rv_tensor *y);
rv_status rv_batchnorm_cpu(const rv_tensor *x, const rv_bn *bn, rv_tensor *y);
rv_status rv_batchnorm_cuda(const rv_tensor *x, const rv_bn *bn, rv_tensor *y);

/* y = max(x, 0); y may be x. */
rv_status rv_relu(const rv_tensor *x, rv_tensor *y);
rv_status rv_relu_cpu(const rv_tensor *x, rv_tensor *y);
rv_status rv_relu_cuda(const rv_tensor *x, rv_tensor *y);

/* y = a + b, same shapes; y may be a or b. */
rv_status rv_add(const rv_tensor *a, const rv_tensor *b, rv_tensor *y);
rv_status rv_add_cpu(const rv_tensor *a, const rv_tensor *b, rv_tensor *y);
rv_status rv_add_cuda(const rv_tensor *a, const rv_tensor *b, rv_tensor *y);

/* y (N, C, H + 2 pad_h, W + 2 pad_w) = x (N, C, H, W) with a border of
 * value[c] around channel c (value (C) on x's device): a BN's shift as the
 * padding of the conv after it (DBB's 1x1-then-kxk branch). */
rv_status rv_pad_border(const rv_tensor *x, int pad_h, int pad_w, const rv_tensor *value,
                        rv_tensor *y);
rv_status rv_pad_border_cpu(const rv_tensor *x, int pad_h, int pad_w, const rv_tensor *value,
                            rv_tensor *y);
rv_status rv_pad_border_cuda(const rv_tensor *x, int pad_h, int pad_w, const rv_tensor *value,
                             rv_tensor *y);

/* y (N, C, P, Q) = the p.kh x p.kw average of x (N, C, H, W) at p's stride
 * and padding, the zeros of the padding counted (PyTorch's AvgPool2d,
 * count_include_pad); P = (H + 2 pad_h - kh) / stride + 1, Q likewise. */
rv_status rv_avgpool2d(const rv_tensor *x, rv_pool_params p, rv_tensor *y);
rv_status rv_avgpool2d_cpu(const rv_tensor *x, rv_pool_params p, rv_tensor *y);
rv_status rv_avgpool2d_cuda(const rv_tensor *x, rv_pool_params p, rv_tensor *y);

/* The classification head. y (N, C) = mean of x (N, C, H, W) over H and W. */
rv_status rv_global_avgpool(const rv_tensor *x, rv_tensor *y);
rv_status rv_global_avgpool_cpu(const rv_tensor *x, rv_tensor *y);
rv_status rv_global_avgpool_cuda(const rv_tensor *x, rv_tensor *y);

/* y (N, M) = x (N, K) w^T + b, w (M, K), b (M). */
rv_status rv_linear(const rv_tensor *x, const rv_tensor *w, const rv_tensor *b, rv_tensor *y);
rv_status rv_linear_cpu(const rv_tensor *x, const rv_tensor *w, const rv_tensor *b, rv_tensor *y);
rv_status rv_linear_cuda(const rv_tensor *x, const rv_tensor *w, const rv_tensor *b, rv_tensor *y);

#ifdef __cplusplus
}
#endif
#endif
