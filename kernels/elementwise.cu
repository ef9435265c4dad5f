/* elementwise.cu - batch norm (inference), ReLU, add, border padding, average
 * pooling, the bias/ReLU epilogue and fake INT8 quantization on the GPU.
 *
 * One thread per output element; each body is the shared rv_*_elem function
 * (src/ops/internal/rv_elem.h) that the CPU versions in src/ loop over, in
 * 32-bit indices where the sizes allow it (rv_launch_1d, rv_launch.h).
 */
#include "rv_launch.h"
#include "rv_ops.h"
#include "rv_quant.h"

template <typename I>
__global__ void affine_kernel(const float *x, const float *scale, const float *shift, I C, I HW,
                              I n, float *y)
{
    I i = rv_thread_index<I>();
    if (i < n) y[i] = rv_affine_elem(x, scale, shift, C, HW, i);
}

template <typename I> __global__ void relu_kernel(const float *x, I n, float *y)
{
    I i = rv_thread_index<I>();
    if (i < n) y[i] = rv_relu_elem(x, i);
}

template <typename I> __global__ void add_kernel(const float *a, const float *b, I n, float *y)
{
    I i = rv_thread_index<I>();
    if (i < n) y[i] = rv_add_elem(a, b, i);
}

template <typename I, typename G>
__global__ void pad_border_kernel(const float *x, const float *value, G g, I n, float *y)
{
    I i = rv_thread_index<I>();
    if (i < n) y[i] = rv_pad_border_elem(x, value, g, i);
}

template <typename I, typename G>
__global__ void avgpool2d_kernel(const float *x, G g, I n, float *y)
{
    I i = rv_thread_index<I>();
    if (i < n) y[i] = rv_avgpool2d_elem(x, g, i);
}

template <typename I>
__global__ void bias_act_kernel(float *y, const float *bias, int relu, I C, I HW, I n)
{
    I i = rv_thread_index<I>();
    if (i < n) y[i] = rv_bias_act_elem(y, bias, relu, C, HW, i);
}

template <typename I>
__global__ void fake_quant_tensor_kernel(const float *x, float scale, I n, float *y)
{
    I i = rv_thread_index<I>();
    if (i < n) y[i] = rv_fake_quant(x[i], scale);
}

template <typename I>
__global__ void fake_quant_channel_kernel(const float *w, const float *scales, I inner, I n,
                                          float *y)
{
    I i = rv_thread_index<I>();
    if (i < n) y[i] = rv_fake_quant_channel_elem(w, scales, inner, i);
}

rv_status rv_bias_act_cuda(float *y, const float *bias, int relu, int64_t C, int64_t HW, int64_t n)
{
    return rv_launch_1d("bias and relu", n, n, [&](unsigned blocks, auto n_) {
        using I = decltype(n_);
        bias_act_kernel<<<RV_GRID(blocks)>>>(y, bias, relu, (I)C, (I)HW, n_);
    });
}

extern "C" rv_status rv_batchnorm_cuda(const rv_tensor *x, const rv_bn *bn, rv_tensor *y)
{
    int64_t n = rv_tensor_numel(x);
    return rv_launch_1d("batchnorm", n, n, [&](unsigned blocks, auto n_) {
        using I = decltype(n_);
        affine_kernel<<<RV_GRID(blocks)>>>(x->data, bn->scale.data, bn->shift.data, (I)x->dim[1],
                                           (I)(x->dim[2] * x->dim[3]), n_, y->data);
    });
}

extern "C" rv_status rv_relu_cuda(const rv_tensor *x, rv_tensor *y)
{
    int64_t n = rv_tensor_numel(x);
    return rv_launch_1d("relu", n, n, [&](unsigned blocks, auto n_) {
        relu_kernel<<<RV_GRID(blocks)>>>(x->data, n_, y->data);
    });
}

extern "C" rv_status rv_add_cuda(const rv_tensor *a, const rv_tensor *b, rv_tensor *y)
{
    int64_t n = rv_tensor_numel(a);
    return rv_launch_1d("add", n, n, [&](unsigned blocks, auto n_) {
        add_kernel<<<RV_GRID(blocks)>>>(a->data, b->data, n_, y->data);
    });
}

extern "C" rv_status rv_pad_border_cuda(const rv_tensor *x, int pad_h, int pad_w,
                                        const rv_tensor *value, rv_tensor *y)
{
    rv_conv_geom g = {
        .C = x->dim[1], .H = x->dim[2], .W = x->dim[3], .pad_h = pad_h, .pad_w = pad_w};
    int64_t n = rv_tensor_numel(y); /* y is the larger */
    return rv_launch_1d("pad_border", n, n, [&](unsigned blocks, auto n_) {
        pad_border_kernel<<<RV_GRID(blocks)>>>(x->data, value->data, rv_geom_as(g, n_), n_,
                                               y->data);
    });
}

extern "C" rv_status rv_avgpool2d_cuda(const rv_tensor *x, rv_pool_params p, rv_tensor *y)
{
    rv_conv_geom g = rv_pool_geom_of(x, p, y);
    int64_t n = rv_tensor_numel(y);
    return rv_launch_1d("avgpool2d", n, rv_tensor_numel(x), [&](unsigned blocks, auto n_) {
        avgpool2d_kernel<<<RV_GRID(blocks)>>>(x->data, rv_geom_as(g, n_), n_, y->data);
    });
}

extern "C" rv_status rv_fake_quant_tensor_cuda(const rv_tensor *x, float scale, rv_tensor *y)
{
    int64_t n = rv_tensor_numel(x);
    return rv_launch_1d("fake_quant", n, n, [&](unsigned blocks, auto n_) {
        fake_quant_tensor_kernel<<<RV_GRID(blocks)>>>(x->data, scale, n_, y->data);
    });
}

extern "C" rv_status rv_fake_quant_channel_cuda(const rv_tensor *w, const rv_tensor *scales,
                                                rv_tensor *y)
{
    int64_t n = rv_tensor_numel(w);
    return rv_launch_1d("fake_quant_channel", n, n, [&](unsigned blocks, auto n_) {
        using I = decltype(n_);
        fake_quant_channel_kernel<<<RV_GRID(blocks)>>>(w->data, scales->data, (I)(n / w->dim[0]),
                                                       n_, y->data);
    });
}
