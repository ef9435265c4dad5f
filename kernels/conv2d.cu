/* conv2d.cu - conv2d on the GPU: im2col kernel + cuBLAS SGEMM + bias/ReLU epilogue.
 *
 * Same algorithm and arguments as rv_conv2d_cpu (src/ops/conv2d.c); the
 * im2col index arithmetic is the shared rv_im2col_elem
 * (src/ops/internal/rv_elem.h), in 32 bits when a chunk's columns and images
 * allow it (rv_launch_1d). Every size handed to cuBLAS as an int is checked
 * first (rv_cublas_fits).
 *
 * Row-major onto column-major cuBLAS. For one image and group g we want
 *   Y_g (Og x PQ) = W_g (Og x K) * col_g (K x PQ),   all row-major.
 * A row-major r x c matrix is the column-major c x r matrix (its transpose)
 * with leading dimension c. Transposing the product,
 *   Y_g^T (PQ x Og) = col_g^T (PQ x K) * W_g^T (K x Og),
 * is a plain column-major GEMM with m = PQ, n = Og, k = K, A = col_g (lda PQ),
 * B = W_g (ldb K), C = Y_g (ldc PQ): no transposes, no copies. Images are the
 * batch of cublasSgemmStridedBatched (W shared: stride 0), groups a loop.
 * A batch runs in chunks of images whose columns fit in the plan's
 * cuda_col_bytes (rv_exec.h; rv_cuda_col_chunk), at least one image a chunk:
 * where one image's columns alone pass that budget, the workspace is one
 * image's columns, larger than the budget (the budget sets the chunk, not a
 * cap).
 */
#include "rv_alloc.h"
#include "rv_launch.h"
#include "rv_ops.h"

/* col (n_img, C*KH*KW, P*Q) from x (n_img, C, H, W); n = n_img * C*KH*KW*P*Q */
template <typename I, typename G>
__global__ void im2col_kernel(const float *x, G g, I n, float *col)
{
    I i = rv_thread_index<I>();
    if (i < n) col[i] = rv_im2col_batched_elem(x, g, i);
}

extern "C" rv_status rv_conv2d_cuda(const rv_tensor *x, const rv_tensor *w, const rv_tensor *b,
                                    rv_conv_params p, const rv_conv_exec *e, rv_tensor *y)
{
    rv_conv_geom g = rv_conv_geom_of(x, w->dim[2], w->dim[3], y, p);
    int64_t N = x->dim[0], O = w->dim[0], G = p.groups;
    int64_t PQ = g.P * g.Q, Og = O / G, K = w->dim[1] * g.KH * g.KW;
    int64_t col_per_img = g.C * g.KH * g.KW * PQ; /* = G * K * PQ */
    int pointwise = rv_conv_is_pointwise(g);

    int64_t chunk = N;
    float *col = NULL;
    rv_status st = rv_cublas_fits("conv2d", PQ, Og, K, N);
    if (st != RV_OK) return st;
    if (!pointwise) {
        chunk = rv_cuda_col_chunk(N, col_per_img, e ? e->cuda_col_bytes : 0);
        st = rv_exec_workspace(e, RV_CUDA, (size_t)(chunk * col_per_img) * sizeof(float), &col);
        if (st != RV_OK) return st;
    }
    cublasHandle_t h = NULL;
    st = rv_cublas(&h);
    if (st != RV_OK) return st;
    const float one = 1.0f, zero = 0.0f;
    for (int64_t n0 = 0; n0 < N; n0 += chunk) {
        int64_t nb = N - n0 < chunk ? N - n0 : chunk;
        const float *xn = x->data + n0 * g.C * g.H * g.W;
        if (!pointwise) {
            int64_t total = nb * col_per_img;
            st = rv_launch_1d(
                "conv2d im2col", total, nb * g.C * g.H * g.W, [&](unsigned blocks, auto n_) {
                    im2col_kernel<<<RV_GRID(blocks)>>>(xn, rv_geom_as(g, n_), n_, col);
                });
            if (st != RV_OK) return st;
        }
        const float *cn = pointwise ? xn : col;
        for (int64_t grp = 0; grp < G; grp++) {
            CUBLAS_CHECK(rv_cublas_fn()->sgemm_strided_batched(
                h, CUBLAS_OP_N, CUBLAS_OP_N, (int)PQ, (int)Og, (int)K, &one, cn + grp * K * PQ,
                (int)PQ, col_per_img, w->data + grp * Og * K, (int)K, 0, &zero,
                y->data + n0 * O * PQ + grp * Og * PQ, (int)PQ, O * PQ, (int)nb));
            rv_cuda_count_launch();
        }
    }
    if (b || p.relu)
        return rv_bias_act_cuda(y->data, b ? b->data : NULL, p.relu, O, PQ, N * O * PQ);
    return RV_OK;
}
