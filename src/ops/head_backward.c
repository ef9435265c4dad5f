/* head_backward.c - the backward of the pointwise ops and of the classifier
 * head on the CPU: ReLU, global average pooling, the linear layer, and the
 * loss, softmax cross-entropy (formulas in rv_grad.h).
 *
 * The head is small (a batch of 128 by a few hundred features by 10
 * classes), so these are plain loops with sums in double, the reference
 * and the version that runs at once.
 */
#include <math.h>

#include "rv_grad.h"

static int on_cpu(const rv_tensor *const *t, int n)
{
    for (int i = 0; i < n; i++)
        if (t[i] && t[i]->device != RV_CPU) return 0;
    return 1;
}

rv_status rv_relu_backward(const rv_tensor *y, const rv_tensor *dy, rv_tensor *dx)
{
    if (!rv_tensor_same_shape(y, dy) || !rv_tensor_same_shape(y, dx) ||
        !on_cpu((const rv_tensor *[]){y, dy, dx}, 3))
        return rv_error(RV_EINVAL, "relu backward: y, dy and dx must have one shape, on the CPU");
    int64_t n = rv_tensor_numel(y);
    for (int64_t i = 0; i < n; i++) dx->data[i] = y->data[i] > 0.0f ? dy->data[i] : 0.0f;
    return RV_OK;
}

rv_status rv_global_avgpool_backward(const rv_tensor *dy, rv_tensor *dx)
{
    if (dx->ndim != 4 || dy->ndim != 2 || dy->dim[0] != dx->dim[0] || dy->dim[1] != dx->dim[1] ||
        !on_cpu((const rv_tensor *[]){dy, dx}, 2))
        return rv_error(RV_EINVAL, "global_avgpool backward: need dy (N, C), dx (N, C, H, W), "
                                   "on the CPU");
    int64_t NC = dy->dim[0] * dy->dim[1], HW = dx->dim[2] * dx->dim[3];
    for (int64_t i = 0; i < NC; i++) {
        float g = (float)((double)dy->data[i] / (double)HW);
        for (int64_t j = 0; j < HW; j++) dx->data[i * HW + j] = g;
    }
    return RV_OK;
}

rv_status rv_linear_backward(const rv_tensor *x, const rv_tensor *w, const rv_tensor *dy,
                             rv_tensor *dx, rv_tensor *dw, rv_tensor *db)
{
    if (x->ndim != 2 || w->ndim != 2 || dy->ndim != 2 || w->dim[1] != x->dim[1] ||
        dy->dim[0] != x->dim[0] || dy->dim[1] != w->dim[0] ||
        (dx && !rv_tensor_same_shape(dx, x)) || (dw && !rv_tensor_same_shape(dw, w)) ||
        (db && (db->ndim != 1 || db->dim[0] != w->dim[0])) ||
        !on_cpu((const rv_tensor *[]){x, w, dy, dx, dw, db}, 6))
        return rv_error(RV_EINVAL, "linear backward: need x (N, K), w (M, K), dy (N, M), dx "
                                   "like x, dw like w, db (M), on the CPU");
    int64_t N = x->dim[0], K = x->dim[1], M = w->dim[0];
    for (int64_t n = 0; dx && n < N; n++)
        for (int64_t k = 0; k < K; k++) {
            double s = 0.0;
            for (int64_t m = 0; m < M; m++) s += (double)dy->data[n * M + m] * w->data[m * K + k];
            dx->data[n * K + k] = (float)s;
        }
    for (int64_t m = 0; (dw || db) && m < M; m++) {
        for (int64_t k = 0; dw && k < K; k++) {
            double s = 0.0;
            for (int64_t n = 0; n < N; n++) s += (double)dy->data[n * M + m] * x->data[n * K + k];
            dw->data[m * K + k] = (float)s;
        }
        double s = 0.0;
        for (int64_t n = 0; n < N; n++) s += dy->data[n * M + m];
        if (db) db->data[m] = (float)s;
    }
    return RV_OK;
}

rv_status rv_softmax_xent(const rv_tensor *z, const int32_t *labels, double *loss, rv_tensor *dz)
{
    if (z->ndim != 2 || (dz && !rv_tensor_same_shape(z, dz)) ||
        !on_cpu((const rv_tensor *[]){z, dz}, 2))
        return rv_error(RV_EINVAL, "softmax cross-entropy: need logits (N, M) and dz like them, "
                                   "on the CPU");
    int64_t N = z->dim[0], M = z->dim[1];
    for (int64_t n = 0; n < N; n++)
        if (labels[n] < 0 || labels[n] >= M)
            return rv_error(RV_EINVAL,
                            "softmax cross-entropy: label %lld is %d, not a class 0..%lld",
                            (long long)n, labels[n], (long long)(M - 1));
    double total = 0.0;
    for (int64_t n = 0; n < N; n++) {
        const float *row = z->data + n * M;
        double mx = row[0], sum = 0.0;
        for (int64_t j = 1; j < M; j++) mx = row[j] > mx ? row[j] : mx;
        for (int64_t j = 0; j < M; j++) sum += exp(row[j] - mx);
        total += log(sum) + mx - row[labels[n]];
        for (int64_t j = 0; dz && j < M; j++)
            dz->data[n * M + j] =
                (float)((exp(row[j] - mx) / sum - (j == labels[n] ? 1.0 : 0.0)) / (double)N);
    }
    *loss = total / (double)N;
    return RV_OK;
}
