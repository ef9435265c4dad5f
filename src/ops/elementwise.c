/* elementwise.c - ReLU, add, border padding and average pooling on the CPU, with
 * dispatchers. */
#include "rv_dispatch.h"
#include "rv_elem.h"
#include "rv_ops.h"

static rv_status check_pair(const char *op, const rv_tensor *a, const rv_tensor *y)
{
    if (!rv_tensor_same_shape(a, y))
        return rv_error(RV_EINVAL, "%s: input and output shapes differ", op);
    if (a->device != y->device) return rv_error(RV_EINVAL, "%s: tensors on different devices", op);
    return RV_OK;
}

rv_status rv_relu_cpu(const rv_tensor *x, rv_tensor *y)
{
    int64_t n = rv_tensor_numel(x);
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++) y->data[i] = rv_relu_elem(x->data, i);
    return RV_OK;
}

rv_status rv_relu(const rv_tensor *x, rv_tensor *y)
{
    rv_status st = check_pair("relu", x, y);
    return st != RV_OK ? st : RV_DISPATCH(x->device, rv_relu, x, y);
}

rv_status rv_add_cpu(const rv_tensor *a, const rv_tensor *b, rv_tensor *y)
{
    int64_t n = rv_tensor_numel(a);
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++) y->data[i] = rv_add_elem(a->data, b->data, i);
    return RV_OK;
}

rv_status rv_add(const rv_tensor *a, const rv_tensor *b, rv_tensor *y)
{
    rv_status st = check_pair("add", a, y);
    if (st == RV_OK) st = check_pair("add", b, y);
    return st != RV_OK ? st : RV_DISPATCH(a->device, rv_add, a, b, y);
}

rv_status rv_pad_border_cpu(const rv_tensor *x, int pad_h, int pad_w, const rv_tensor *value,
                            rv_tensor *y)
{
    rv_conv_geom g = {
        .C = x->dim[1], .H = x->dim[2], .W = x->dim[3], .pad_h = pad_h, .pad_w = pad_w};
    int64_t n = rv_tensor_numel(y);
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++) y->data[i] = rv_pad_border_elem(x->data, value->data, g, i);
    return RV_OK;
}

rv_status rv_pad_border(const rv_tensor *x, int pad_h, int pad_w, const rv_tensor *value,
                        rv_tensor *y)
{
    if (x->ndim != 4 || y->ndim != 4 || pad_h < 0 || pad_w < 0 || y->dim[0] != x->dim[0] ||
        y->dim[1] != x->dim[1] || y->dim[2] != x->dim[2] + 2 * pad_h ||
        y->dim[3] != x->dim[3] + 2 * pad_w || value->ndim != 1 || value->dim[0] != x->dim[1])
        return rv_error(RV_EINVAL, "pad_border: need x (N, C, H, W), value (C) and y (N, C, "
                                   "H + 2 pad_h, W + 2 pad_w)");
    if (x->device != y->device || value->device != x->device)
        return rv_error(RV_EINVAL, "pad_border: tensors on different devices");
    return RV_DISPATCH(x->device, rv_pad_border, x, pad_h, pad_w, value, y);
}

rv_conv_geom rv_pool_geom_of(const rv_tensor *x, rv_pool_params p, const rv_tensor *y)
{
    rv_conv_params window = {.stride = p.stride, .pad_h = p.pad_h, .pad_w = p.pad_w};
    return rv_conv_geom_of(x, p.kh, p.kw, y, window);
}

rv_status rv_avgpool2d_cpu(const rv_tensor *x, rv_pool_params p, rv_tensor *y)
{
    rv_conv_geom g = rv_pool_geom_of(x, p, y);
    int64_t n = rv_tensor_numel(y);
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++) y->data[i] = rv_avgpool2d_elem(x->data, g, i);
    return RV_OK;
}

rv_status rv_avgpool2d(const rv_tensor *x, rv_pool_params p, rv_tensor *y)
{
    if (x->ndim != 4 || y->ndim != 4 || p.kh < 1 || p.kw < 1 || p.stride < 1 || p.pad_h < 0 ||
        p.pad_w < 0 || 2 * p.pad_h > p.kh || 2 * p.pad_w > p.kw || x->dim[2] + 2 * p.pad_h < p.kh ||
        x->dim[3] + 2 * p.pad_w < p.kw)
        return rv_error(RV_EINVAL,
                        "avgpool2d: need x (N, C, H, W), a %dx%d window that fits "
                        "the padded input, stride >= 1, padding at most half the window",
                        p.kh, p.kw);
    int64_t P = (x->dim[2] + 2 * p.pad_h - p.kh) / p.stride + 1;
    int64_t Q = (x->dim[3] + 2 * p.pad_w - p.kw) / p.stride + 1;
    if (y->dim[0] != x->dim[0] || y->dim[1] != x->dim[1] || y->dim[2] != P || y->dim[3] != Q)
        return rv_error(RV_EINVAL, "avgpool2d: output must be (N, C, %lld, %lld)", (long long)P,
                        (long long)Q);
    if (x->device != y->device)
        return rv_error(RV_EINVAL, "avgpool2d: tensors on different devices");
    return RV_DISPATCH(x->device, rv_avgpool2d, x, p, y);
}
