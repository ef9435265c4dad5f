/* rv_launch.h - launching the 1-D kernels of kernels/ (C++ side only;
 * internal to the library).
 *
 * Every element-wise kernel is one thread per output element,
 *
 *     template <typename I> __global__ void k(..., I n, float *y)
 *     {
 *         I i = rv_thread_index<I>();
 *         if (i < n) y[i] = rv_..._elem(..., i);        // src/ops/internal/rv_elem.h
 *     }
 *
 * and its launcher hands rv_launch_1d the element count n, the span (the
 * largest count of elements any of its threads indexes into, input or
 * output) and a lambda that launches k. rv_launch_1d checks the grid, picks
 * the index type and calls the lambda with the grid's blocks and n in that
 * type: int32_t when rv_index_fits32(span) (every index then fits, the last
 * block's spare threads included), int64_t above. The lambda casts the op's
 * other sizes to the type of the n it is given (decltype) and its geometry
 * with rv_geom_as:
 *
 *     return rv_launch_1d("relu", n, n, [&](unsigned blocks, auto n_) {
 *         relu_kernel<<<RV_GRID(blocks)>>>(x->data, n_, y->data);
 *     });
 */
#ifndef RV_LAUNCH_H
#define RV_LAUNCH_H

#include "cuda_check.h"
#include "rv_elem.h"

/* gridDim.x's limit: 2^31 - 1 blocks */
#define RV_MAX_BLOCKS 2147483647LL

/* kernel<<<RV_GRID(blocks)>>>: RV_BLOCK threads a block, the library's stream */
#define RV_GRID(blocks) (blocks), RV_BLOCK, 0, rv_cuda_stream()

template <typename I> __device__ static inline I rv_thread_index(void)
{
    return (I)blockIdx.x * (I)blockDim.x + (I)threadIdx.x;
}

/* g in the index type of n (the value of n is not used) */
static inline rv_conv_geom rv_geom_as(rv_conv_geom g, int64_t) { return g; }
static inline rv_conv_geom32 rv_geom_as(rv_conv_geom g, int32_t) { return rv_conv_geom_narrow(g); }

template <typename F>
static rv_status rv_launch_1d(const char *op, int64_t n, int64_t span, F launch)
{
    if (n <= 0) return RV_OK; /* no element, no launch (a grid of 0 blocks is an error) */
    int64_t blocks = rv_ceil_div(n, RV_BLOCK);
    if (blocks > RV_MAX_BLOCKS)
        return rv_error(RV_EINVAL,
                        "%s: %lld elements need %lld blocks of %d threads, more than the %lld a "
                        "GPU launches at once",
                        op, (long long)n, (long long)blocks, RV_BLOCK, RV_MAX_BLOCKS);
    if (rv_index_fits32(n > span ? n : span))
        launch((unsigned)blocks, (int32_t)n);
    else
        launch((unsigned)blocks, n);
    CUDA_CHECK_LAUNCH();
    return RV_OK;
}

/* The epilogue shared by conv2d and linear: y (n elements, channel-major in
 * blocks of HW) := y + bias[c] (bias may be NULL), then ReLU if relu. */
rv_status rv_bias_act_cuda(float *y, const float *bias, int relu, int64_t C, int64_t HW, int64_t n);

#endif
