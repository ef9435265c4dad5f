/* head.cu - the classifier head on the GPU: global average pooling, linear layer.
 *
 * Linear as column-major cuBLAS: y (N x M row-major) is y^T (M x N col-major,
 * ld M); w (M x K row-major) is the col-major K x M matrix, so op(A) = T with
 * lda K; x (N x K row-major) is x^T (K x N col-major, ld K), op(B) = N:
 *     y^T = w * x^T  ->  cublasSgemm(T, N, m = M, n = N, k = K).
 * The bias is added by the conv epilogue (rv_bias_act_cuda) with HW = 1.
 */
#include "rv_launch.h"
#include "rv_ops.h"

template <typename I> __global__ void avgpool_kernel(const float *x, I HW, I n, float *y)
{
    I i = rv_thread_index<I>();
    if (i < n) y[i] = rv_avgpool_elem(x, HW, i);
}

extern "C" rv_status rv_global_avgpool_cuda(const rv_tensor *x, rv_tensor *y)
{
    int64_t n = y->dim[0] * y->dim[1], HW = x->dim[2] * x->dim[3];
    return rv_launch_1d("global_avgpool", n, rv_tensor_numel(x), [&](unsigned blocks, auto n_) {
        using I = decltype(n_);
        avgpool_kernel<<<RV_GRID(blocks)>>>(x->data, (I)HW, n_, y->data);
    });
}

extern "C" rv_status rv_linear_cuda(const rv_tensor *x, const rv_tensor *w, const rv_tensor *b,
                                    rv_tensor *y)
{
    int64_t N = x->dim[0], K = x->dim[1], M = w->dim[0];
    rv_status st = rv_cublas_fits("linear", M, N, K, 1);
    if (st != RV_OK) return st;
    cublasHandle_t h = NULL;
    st = rv_cublas(&h);
    if (st != RV_OK) return st;
    const float one = 1.0f, zero = 0.0f;
    CUBLAS_CHECK(rv_cublas_fn()->sgemm(h, CUBLAS_OP_T, CUBLAS_OP_N, (int)M, (int)N, (int)K, &one,
                                       w->data, (int)K, x->data, (int)K, &zero, y->data, (int)M));
    rv_cuda_count_launch();
    return b ? rv_bias_act_cuda(y->data, b->data, 0, M, 1, N * M) : RV_OK;
}
