/* cudnn_conv.h - the reference of bench/exp_cudnn.c: a conv + bias + ReLU
 * through cuDNN's fastest FP32 algorithm, on the library's stream, so rv_time can
 * time it like every other form. Linked into rv_bench only (RV_HAVE_CUDNN).
 */
#ifndef RV_CUDNN_CONV_H
#define RV_CUDNN_CONV_H

#include <stddef.h>

#include "rv_ops.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rv_cudnn_conv rv_cudnn_conv;

/* Describes y = ReLU(conv(x, w) + b) (p.relu must be set) for cuDNN, lets
 * cudnnFind* time every algorithm on these buffers, and keeps the fastest.
 * All tensors on RV_CUDA; algo receives the algorithm's name. */
rv_status rv_cudnn_conv_create(const rv_tensor *x, const rv_tensor *w, const rv_tensor *b,
                               rv_conv_params p, rv_tensor *y, rv_cudnn_conv **out, char *algo,
                               int algo_len, size_t *workspace_bytes);
rv_status rv_cudnn_conv_forward(void *conv); /* an rv_fn */
void rv_cudnn_conv_destroy(rv_cudnn_conv *c);

#ifdef __cplusplus
}
#endif
#endif
