/* elementwise.cu - batch norm (inference), ReLU, add, border padding, average
 * pooling, the bias/ReLU epilogue and fake INT8 quantization on the GPU.
 *
 * One thread per output element; each body is the shared rv_*_elem function
 * (src/ops/rv_elem.h) that the CPU versions in src/ loop over.
 */
#include "cuda_check.h"
#include "rv_elem.h"
#include "rv_ops.h"
#include "rv_quant.h"

__global__ void affine_kernel(const float *x, const float *scale, const float *shift, int64_t C,
                              int64_t HW, int64_t n, float *y)
{
    int64_t i = RV_THREAD_INDEX;
    if (i < n) y[i] = rv_affine_elem(x, scale, shift, C, HW, i);
}

__global__ void relu_kernel(const float *x, int64_t n, float *y)
{
    int64_t i = RV_THREAD_INDEX;
    if (i < n) y[i] = rv_relu_elem(x, i);
}

__global__ void add_kernel(const float *a, const float *b, int64_t n, float *y)
{
    int64_t i = RV_THREAD_INDEX;
    if (i < n) y[i] = rv_add_elem(a, b, i);
}

__global__ void pad_border_kernel(const float *x, const float *value, rv_conv_geom g, int64_t n,
                                  float *y)
{
    int64_t i = RV_THREAD_INDEX;
    if (i < n) y[i] = rv_pad_border_elem(x, value, g, i);
}

__global__ void avgpool2d_kernel(const float *x, rv_conv_geom g, int64_t n, float *y)
{
    int64_t i = RV_THREAD_INDEX;
    if (i < n) y[i] = rv_avgpool2d_elem(x, g, i);
}

__global__ void bias_act_kernel(float *y, const float *bias, int relu, int64_t C, int64_t HW,
                                int64_t n)
{
    int64_t i = RV_THREAD_INDEX;
    if (i < n) y[i] = rv_bias_act_elem(y, bias, relu, C, HW, i);
}

__global__ void fake_quant_tensor_kernel(const float *x, float scale, int64_t n, float *y)
{
    int64_t i = RV_THREAD_INDEX;
    if (i < n) y[i] = rv_fake_quant(x[i], scale);
}

__global__ void fake_quant_channel_kernel(const float *w, const float *scales, int64_t inner,
                                          int64_t n, float *y)
{
    int64_t i = RV_THREAD_INDEX;
    if (i < n) y[i] = rv_fake_quant_channel_elem(w, scales, inner, i);
}

rv_status rv_bias_act_cuda(float *y, const float *bias, int relu, int64_t C, int64_t HW, int64_t n)
{
    bias_act_kernel<<<RV_GRID(n)>>>(y, bias, relu, C, HW, n);
    CUDA_CHECK_LAUNCH();
    return RV_OK;
}

extern "C" rv_status rv_batchnorm_cuda(const rv_tensor *x, const rv_bn *bn, rv_tensor *y)
{
    int64_t n = rv_tensor_numel(x);
    affine_kernel<<<RV_GRID(n)>>>(x->data, bn->scale.data, bn->shift.data, x->dim[1],
                                  x->dim[2] * x->dim[3], n, y->data);
    CUDA_CHECK_LAUNCH();
    return RV_OK;
}

extern "C" rv_status rv_relu_cuda(const rv_tensor *x, rv_tensor *y)
{
    int64_t n = rv_tensor_numel(x);
    relu_kernel<<<RV_GRID(n)>>>(x->data, n, y->data);
    CUDA_CHECK_LAUNCH();
    return RV_OK;
}

extern "C" rv_status rv_add_cuda(const rv_tensor *a, const rv_tensor *b, rv_tensor *y)
{
    int64_t n = rv_tensor_numel(a);
    add_kernel<<<RV_GRID(n)>>>(a->data, b->data, n, y->data);
    CUDA_CHECK_LAUNCH();
    return RV_OK;
}

extern "C" rv_status rv_pad_border_cuda(const rv_tensor *x, int pad_h, int pad_w,
                                        const rv_tensor *value, rv_tensor *y)
{
    rv_conv_geom g = {
        .C = x->dim[1], .H = x->dim[2], .W = x->dim[3], .pad_h = pad_h, .pad_w = pad_w};
    int64_t n = rv_tensor_numel(y);
    pad_border_kernel<<<RV_GRID(n)>>>(x->data, value->data, g, n, y->data);
    CUDA_CHECK_LAUNCH();
    return RV_OK;
}

extern "C" rv_status rv_avgpool2d_cuda(const rv_tensor *x, int kh, int kw, rv_conv_params p,
                                       rv_tensor *y)
{
    rv_conv_geom g = rv_conv_geom_of(x, kh, kw, y, p);
    int64_t n = rv_tensor_numel(y);
    avgpool2d_kernel<<<RV_GRID(n)>>>(x->data, g, n, y->data);
    CUDA_CHECK_LAUNCH();
    return RV_OK;
}

extern "C" rv_status rv_fake_quant_tensor_cuda(const rv_tensor *x, float scale, rv_tensor *y)
{
    int64_t n = rv_tensor_numel(x);
    fake_quant_tensor_kernel<<<RV_GRID(n)>>>(x->data, scale, n, y->data);
    CUDA_CHECK_LAUNCH();
    return RV_OK;
}

extern "C" rv_status rv_fake_quant_channel_cuda(const rv_tensor *w, const rv_tensor *scales,
                                                rv_tensor *y)
{
    int64_t n = rv_tensor_numel(w);
    fake_quant_channel_kernel<<<RV_GRID(n)>>>(w->data, scales->data, n / w->dim[0], n, y->data);
    CUDA_CHECK_LAUNCH();
    return RV_OK;
}
