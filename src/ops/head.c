/* head.c - the classifier head on the CPU: global average pooling, linear layer.
 *
 * The linear layer is one row-major GEMM, y (N x M) = x (N x K) * w^T (K x M),
 * through OpenBLAS with the bias preloaded into y (beta = 1).
 */
#include <cblas.h>

#include "rv_dispatch.h"
#include "rv_elem.h"
#include "rv_ops.h"

rv_status rv_global_avgpool_cpu(const rv_tensor *x, rv_tensor *y)
{
    int64_t n = y->dim[0] * y->dim[1], HW = x->dim[2] * x->dim[3];
    for (int64_t i = 0; i < n; i++) y->data[i] = rv_avgpool_elem(x->data, HW, i);
    return RV_OK;
}

rv_status rv_global_avgpool(const rv_tensor *x, rv_tensor *y)
{
    if (x->ndim != 4 || y->ndim != 2 || y->dim[0] != x->dim[0] || y->dim[1] != x->dim[1])
        return rv_error(RV_EINVAL, "global_avgpool: need x (N, C, H, W) and y (N, C)");
    if (x->device != y->device)
        return rv_error(RV_EINVAL, "global_avgpool: tensors on different devices");
    return RV_DISPATCH(x->device, rv_global_avgpool, x, y);
}

rv_status rv_linear_cpu(const rv_tensor *x, const rv_tensor *w, const rv_tensor *b, rv_tensor *y)
{
    int64_t N = x->dim[0], K = x->dim[1], M = w->dim[0];
    for (int64_t n = 0; n < N; n++)
        for (int64_t m = 0; m < M; m++) y->data[n * M + m] = b ? b->data[m] : 0.0f;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)N, (int)M, (int)K, 1.0f, x->data,
                (int)K, w->data, (int)K, 1.0f, y->data, (int)M);
    return RV_OK;
}

rv_status rv_linear(const rv_tensor *x, const rv_tensor *w, const rv_tensor *b, rv_tensor *y)
{
    if (x->ndim != 2 || w->ndim != 2 || y->ndim != 2 || w->dim[1] != x->dim[1] ||
        y->dim[0] != x->dim[0] || y->dim[1] != w->dim[0] ||
        (b && (b->ndim != 1 || b->dim[0] != w->dim[0])))
        return rv_error(RV_EINVAL, "linear: need x (N, K), w (M, K), b (M) and y (N, M)");
    if (w->device != x->device || y->device != x->device || (b && b->device != x->device))
        return rv_error(RV_EINVAL, "linear: tensors on different devices");
    return RV_DISPATCH(x->device, rv_linear, x, w, b, y);
}
