/* rv_elem.h - per-element bodies shared by the CPU ops and the CUDA kernels
 * (internal to the library: src/ops/ and kernels/).
 *
 * Each function computes output element `i` of an op from its inputs. The CPU
 * version of the op is a loop over i; the CUDA kernel runs one thread per i
 * (i = blockIdx.x * blockDim.x + threadIdx.x, grid = rv_ceil_div(n, block)).
 * Because the body is the same code on both sides, the CPU tests check the
 * kernels' index arithmetic too, on machines with no GPU.
 *
 * Two index widths. The CPU loops index in 64 bits. A GPU divides a 64-bit
 * integer in a long software routine but a 32-bit one in a few instructions,
 * and every body divides per element, so a kernel whose every index stays
 * below rv_index_fits32's bound runs the 32-bit bodies (rv_conv_geom32,
 * rv_im2col_elem32, ...; rv_elem_index.h says how the names go) and only a
 * larger one the 64-bit bodies. The launcher chooses (kernels/internal/rv_launch.h).
 */
#ifndef RV_ELEM_H
#define RV_ELEM_H

#include <math.h>
#include <stdint.h>

#include "rv_exec.h"
#include "rv_ops.h"
#include "rv_quant.h"

#ifdef __CUDACC__
#define RV_HD __host__ __device__ static inline
#else
#define RV_HD static inline
#endif

/* Threads per block of every 1-D kernel: a launch over n elements has
 * rv_ceil_div(n, RV_BLOCK) blocks, and thread i works on element i < n. */
#define RV_BLOCK 256

RV_HD int64_t rv_ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

/* Whether a kernel whose indices all stay below `span` (its element count,
 * and every offset into its inputs) can index in 32 bits. The grid's last
 * thread, n rounded up to a whole block, is then an int32_t too: RV_BLOCK
 * divides 2^31, so the blocks of n <= 2^31 - 1 elements end at 2^31 - 1. */
RV_HD int rv_index_fits32(int64_t span) { return span <= (int64_t)INT32_MAX; }

/* Conv epilogue of one value: y + bias, then ReLU when relu != 0 (a NaN
 * stays NaN, as in PyTorch). */
RV_HD float rv_bias_act(float y, float bias, int relu)
{
    /* a select against a floor, no branch: inlined in a loop, the floor is
     * hoisted and the loop vectorises (a branch on relu kept gcc scalar) */
    float v = y + bias, lo = relu ? 0.0f : -INFINITY;
    return v < lo ? lo : v;
}

/* Fake quantization of one value on the symmetric INT8 grid of scale s
 * (rv_quant.h): x times the float reciprocal of s, as PyTorch computes it;
 * nearbyintf rounds half to even (the default rounding mode, PyTorch's
 * std::nearbyint); the clamp is two comparisons, not fminf/fmaxf, so a NaN
 * stays NaN; + 0.0f turns the -0 of a negative value rounded to zero into +0,
 * as an integer grid point has no sign of zero. */
RV_HD float rv_fake_quant(float x, float s)
{
    float q = nearbyintf(x * (1.0f / s));
    q = q < (float)RV_QINT8_MIN   ? (float)RV_QINT8_MIN
        : q > (float)RV_QINT8_MAX ? (float)RV_QINT8_MAX
                                  : q;
    return (q + 0.0f) * s;
}

#define RV_IDX int64_t
#define RV_GEOM rv_conv_geom
#define RV_ELEM(f) f
#include "rv_elem_index.h"
#undef RV_IDX
#undef RV_GEOM
#undef RV_ELEM
#define RV_IDX int32_t
#define RV_GEOM rv_conv_geom32
#ifdef __cplusplus
#define RV_ELEM(f) f
#else
#define RV_ELEM(f) f##32
#endif
#include "rv_elem_index.h"
#undef RV_IDX
#undef RV_GEOM
#undef RV_ELEM

/* g in 32 bits, for a kernel that rv_index_fits32 allows to index so. */
RV_HD rv_conv_geom32 rv_conv_geom_narrow(rv_conv_geom g)
{
    rv_conv_geom32 n = {.C = (int32_t)g.C,
                        .H = (int32_t)g.H,
                        .W = (int32_t)g.W,
                        .KH = (int32_t)g.KH,
                        .KW = (int32_t)g.KW,
                        .P = (int32_t)g.P,
                        .Q = (int32_t)g.Q,
                        .stride = (int32_t)g.stride,
                        .pad_h = (int32_t)g.pad_h,
                        .pad_w = (int32_t)g.pad_w};
    return n;
}

/* A 1x1, stride-1, unpadded conv: the image is its own im2col matrix. */
RV_HD int rv_conv_is_pointwise(rv_conv_geom g)
{
    return g.KH == 1 && g.KW == 1 && g.stride == 1 && g.pad_h == 0 && g.pad_w == 0;
}

/* Images per chunk of a GPU's im2col (kernels/conv2d.cu): as many whose
 * columns (col_per_img floats each) fit in budget bytes (0: the default),
 * at least one, at most n; the workspace is the chunk's columns. */
RV_HD int64_t rv_cuda_col_chunk(int64_t n, int64_t col_per_img, size_t budget)
{
    int64_t fit =
        (int64_t)((budget ? budget : RV_CUDA_COL_BYTES) / ((size_t)col_per_img * sizeof(float)));
    return fit < 1 ? 1 : fit < n ? fit : n;
}

#ifdef __cplusplus
extern "C" {
#endif

/* The geometry of a kh x kw window of x (N, C, H, W) giving y (N, O, P, Q)
 * at p's stride and padding (src/ops/conv2d.c); of a pooling window. */
rv_conv_geom rv_conv_geom_of(const rv_tensor *x, int64_t kh, int64_t kw, const rv_tensor *y,
                             rv_conv_params p);
rv_conv_geom rv_pool_geom_of(const rv_tensor *x, rv_pool_params p, const rv_tensor *y);
/* The workspace of rv_conv2d_depthwise_cpu for one conv of geometry g, with
 * this thread count (src/ops/depthwise.c). */
size_t rv_conv2d_depthwise_workspace_bytes(rv_conv_geom g);

#ifdef __cplusplus
}
#endif
#endif
