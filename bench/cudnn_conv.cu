/* cudnn_conv.cu - the cuDNN side of bench/exp_cudnn.c (see cudnn_conv.h).
 *
 * The legacy convolution API (still in cuDNN 9). Math is CUDNN_FMA_MATH:
 * plain FP32 FMA kernels, no TF32 tensor cores, the same arithmetic our
 * im2col + cuBLAS SGEMM path does, so the comparison is of algorithms, not
 * of precisions. It is set on the descriptor before cudnnFind, only an
 * algorithm timed with it is kept, and the descriptor is set again from
 * that algorithm's result.
 */
#include <cudnn.h>
#include <stdio.h>
#include <stdlib.h>

#include "cudnn_conv.h"
#include "rv_alloc.h"
#include "rv_cuda.h"

#define CUDNN_CHECK(call)                                                                          \
    do {                                                                                           \
        cudnnStatus_t s_ = (call);                                                                 \
        if (s_ != CUDNN_STATUS_SUCCESS)                                                            \
            return rv_error(RV_EDEVICE, "%s:%d: %s: %s", __FILE__, __LINE__, #call,                \
                            cudnnGetErrorString(s_));                                              \
    } while (0)

struct rv_cudnn_conv {
    cudnnHandle_t handle;
    cudnnTensorDescriptor_t x_desc, y_desc, b_desc;
    cudnnFilterDescriptor_t w_desc;
    cudnnConvolutionDescriptor_t conv_desc;
    cudnnActivationDescriptor_t act_desc;
    cudnnConvolutionFwdAlgo_t algo;
    void *workspace;
    size_t workspace_bytes;
    const float *x, *w, *b;
    float *y;
};

static const char *algo_name(cudnnConvolutionFwdAlgo_t a)
{
    switch (a) {
    case CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM:
        return "implicit_gemm";
    case CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM:
        return "implicit_precomp_gemm";
    case CUDNN_CONVOLUTION_FWD_ALGO_GEMM:
        return "gemm";
    case CUDNN_CONVOLUTION_FWD_ALGO_DIRECT:
        return "direct";
    case CUDNN_CONVOLUTION_FWD_ALGO_FFT:
        return "fft";
    case CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING:
        return "fft_tiling";
    case CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD:
        return "winograd";
    case CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED:
        return "winograd_nonfused";
    default:
        return "unknown";
    }
}

static rv_status setup(rv_cudnn_conv *c, const rv_tensor *x, const rv_tensor *w, rv_conv_params p,
                       const int64_t o[4], char *algo, int algo_len)
{
    CUDNN_CHECK(cudnnCreate(&c->handle));
    CUDNN_CHECK(cudnnSetStream(c->handle, rv_cuda_stream()));
    CUDNN_CHECK(cudnnCreateTensorDescriptor(&c->x_desc));
    CUDNN_CHECK(cudnnCreateTensorDescriptor(&c->y_desc));
    CUDNN_CHECK(cudnnCreateTensorDescriptor(&c->b_desc));
    CUDNN_CHECK(cudnnCreateFilterDescriptor(&c->w_desc));
    CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&c->conv_desc));
    CUDNN_CHECK(cudnnCreateActivationDescriptor(&c->act_desc));
    CUDNN_CHECK(cudnnSetTensor4dDescriptor(c->x_desc, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT,
                                           (int)x->dim[0], (int)x->dim[1], (int)x->dim[2],
                                           (int)x->dim[3]));
    CUDNN_CHECK(cudnnSetTensor4dDescriptor(c->y_desc, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT,
                                           (int)o[0], (int)o[1], (int)o[2], (int)o[3]));
    CUDNN_CHECK(cudnnSetTensor4dDescriptor(c->b_desc, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1,
                                           (int)o[1], 1, 1));
    CUDNN_CHECK(cudnnSetFilter4dDescriptor(c->w_desc, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW,
                                           (int)w->dim[0], (int)w->dim[1], (int)w->dim[2],
                                           (int)w->dim[3]));
    /* cross-correlation, as PyTorch and our conv2d compute it */
    CUDNN_CHECK(cudnnSetConvolution2dDescriptor(c->conv_desc, p.pad_h, p.pad_w, p.stride, p.stride,
                                                1, 1, CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
    CUDNN_CHECK(cudnnSetConvolutionGroupCount(c->conv_desc, p.groups));
    CUDNN_CHECK(cudnnSetConvolutionMathType(c->conv_desc, CUDNN_FMA_MATH));
    CUDNN_CHECK(cudnnSetActivationDescriptor(c->act_desc, CUDNN_ACTIVATION_RELU,
                                             CUDNN_NOT_PROPAGATE_NAN, 0.0));
    /* cudnnFind runs every algorithm on these buffers and sorts them by time */
    cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    int found = 0;
    CUDNN_CHECK(cudnnFindConvolutionForwardAlgorithm(c->handle, c->x_desc, c->w_desc, c->conv_desc,
                                                     c->y_desc, CUDNN_CONVOLUTION_FWD_ALGO_COUNT,
                                                     &found, perf));
    /* Only CUDNN_FMA_MATH is FP32 throughout: CUDNN_DEFAULT_MATH lets FP32
     * data use TF32 tensor cores on Ampere and later. */
    int best = -1;
    for (int i = 0; i < found && best < 0; i++)
        if (perf[i].status == CUDNN_STATUS_SUCCESS && perf[i].mathType == CUDNN_FMA_MATH) best = i;
    if (best < 0) return rv_error(RV_EDEVICE, "cuDNN: no FP32 (FMA) algorithm for this conv");
    c->algo = perf[best].algo;
    /* cuDNN picks the kernel from the algorithm and the descriptor's math
     * type together: the descriptor takes the one the algorithm was timed with */
    CUDNN_CHECK(cudnnSetConvolutionMathType(c->conv_desc, perf[best].mathType));
    c->workspace_bytes = perf[best].memory;
    snprintf(algo, algo_len, "%s", algo_name(c->algo));
    if (c->workspace_bytes &&
        !(c->workspace = rv_alloc(RV_CUDA, c->workspace_bytes, "cuDNN workspace")))
        return RV_ENOMEM;
    return RV_OK;
}

extern "C" rv_status rv_cudnn_conv_create(const rv_tensor *x, const rv_tensor *w,
                                          const rv_tensor *b, rv_conv_params p, rv_tensor *y,
                                          rv_cudnn_conv **out, char *algo, int algo_len,
                                          size_t *workspace_bytes)
{
    int64_t o[4];
    rv_status st = rv_conv2d_shape(x, w, b, p, o);
    if (st != RV_OK) return st;
    if (!b || !p.relu || x->device != RV_CUDA || w->device != RV_CUDA || b->device != RV_CUDA ||
        y->device != RV_CUDA)
        return rv_error(RV_EINVAL, "cuDNN conv: needs a bias, ReLU and tensors on cuda");
    rv_cudnn_conv *c = (rv_cudnn_conv *)calloc(1, sizeof *c);
    if (!c) return rv_error(RV_ENOMEM, "cuDNN conv: out of host memory");
    c->x = x->data;
    c->w = w->data;
    c->b = b->data;
    c->y = y->data;
    st = setup(c, x, w, p, o, algo, algo_len);
    if (st != RV_OK) {
        rv_cudnn_conv_destroy(c);
        return st;
    }
    *workspace_bytes = c->workspace_bytes;
    *out = c;
    return RV_OK;
}

extern "C" rv_status rv_cudnn_conv_forward(void *conv)
{
    rv_cudnn_conv *c = (rv_cudnn_conv *)conv;
    const float one = 1.0f, zero = 0.0f;
    /* y = ReLU(1 * conv(x, w) + 0 * z + b), z aliased to y as cuDNN allows */
    CUDNN_CHECK(cudnnConvolutionBiasActivationForward(
        c->handle, &one, c->x_desc, c->x, c->w_desc, c->w, c->conv_desc, c->algo, c->workspace,
        c->workspace_bytes, &zero, c->y_desc, c->y, c->b_desc, c->b, c->act_desc, c->y_desc, c->y));
    rv_cuda_count_launch();
    return RV_OK;
}

extern "C" void rv_cudnn_conv_destroy(rv_cudnn_conv *c)
{
    if (!c) return;
    if (c->workspace) rv_free(RV_CUDA, c->workspace, c->workspace_bytes);
    if (c->act_desc) cudnnDestroyActivationDescriptor(c->act_desc);
    if (c->conv_desc) cudnnDestroyConvolutionDescriptor(c->conv_desc);
    if (c->w_desc) cudnnDestroyFilterDescriptor(c->w_desc);
    if (c->b_desc) cudnnDestroyTensorDescriptor(c->b_desc);
    if (c->y_desc) cudnnDestroyTensorDescriptor(c->y_desc);
    if (c->x_desc) cudnnDestroyTensorDescriptor(c->x_desc);
    if (c->handle) cudnnDestroy(c->handle);
    free(c);
}
