/* elementwise.c - ReLU, add and kernel zero-padding on the CPU, with dispatchers. */
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

rv_status rv_pad_kernel_cpu(const rv_tensor *w, rv_tensor *y)
{
    int64_t n = rv_tensor_numel(y);
    for (int64_t i = 0; i < n; i++)
        y->data[i] = rv_pad_kernel_elem(w->data, w->dim[2], w->dim[3], y->dim[2], y->dim[3], i);
    return RV_OK;
}

rv_status rv_pad_kernel(const rv_tensor *w, rv_tensor *y)
{
    char ws[64], ys[64];
    if (w->ndim != 4 || y->ndim != 4 || y->dim[0] != w->dim[0] || y->dim[1] != w->dim[1] ||
        y->dim[2] < w->dim[2] || y->dim[3] < w->dim[3] || (y->dim[2] - w->dim[2]) % 2 ||
        (y->dim[3] - w->dim[3]) % 2)
        return rv_error(RV_EINVAL,
                        "pad_kernel: cannot centre kernel %s in %s: the output needs the "
                        "weight's (O, C) and a kernel larger by an even number each way",
                        rv_tensor_shape_str(w, ws, sizeof ws),
                        rv_tensor_shape_str(y, ys, sizeof ys));
    if (w->device != y->device)
        return rv_error(RV_EINVAL, "pad_kernel: tensors on different devices");
    return RV_DISPATCH(w->device, rv_pad_kernel, w, y);
}
