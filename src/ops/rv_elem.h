/* rv_elem.h - per-element bodies shared by the CPU ops and the CUDA kernels.
 *
 * Each function computes output element `i` of an op from its inputs. The CPU
 * version of the op is a loop over i; the CUDA kernel runs one thread per i
 * (i = blockIdx.x * blockDim.x + threadIdx.x, grid = rv_ceil_div(n, block)).
 * Because the body is the same code on both sides, the CPU tests check the
 * kernels' index arithmetic too, on machines with no GPU.
 */
#ifndef RV_ELEM_H
#define RV_ELEM_H

#include <math.h>
#include <stdint.h>

#include "rv_exec.h"
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

/* Geometry of one convolution: input (C, H, W) of one image, kernel KH x KW,
 * output P x Q, padding pad_h rows and pad_w columns on each side. */
typedef struct {
    int64_t C, H, W, KH, KW, P, Q;
    int64_t stride, pad_h, pad_w;
} rv_conv_geom;

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

/* im2col: the column matrix of one image, (C*KH*KW) rows by (P*Q) columns,
 * row-major. Row r = (c*KH + kh)*KW + kw holds, for every output pixel (p, q),
 * the input pixel that kernel tap (c, kh, kw) multiplies there, or 0 where that
 * pixel is padding. Channels are the slowest index, so the rows of group g
 * form one contiguous block. */
RV_HD float rv_im2col_elem(const float *x /* (C, H, W) */, rv_conv_geom g, int64_t i)
{
    int64_t pq = g.P * g.Q;
    int64_t row = i / pq, col = i % pq;
    int64_t kw = row % g.KW, kh = (row / g.KW) % g.KH, c = row / (g.KW * g.KH);
    int64_t p = col / g.Q, q = col % g.Q;
    int64_t ih = p * g.stride - g.pad_h + kh, iw = q * g.stride - g.pad_w + kw;
    if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) return 0.0f;
    return x[(c * g.H + ih) * g.W + iw];
}

/* im2col of a batch of images x (n, C, H, W): element i of (n, C*KH*KW, P*Q). */
RV_HD float rv_im2col_batched_elem(const float *x, rv_conv_geom g, int64_t i)
{
    int64_t per_img = g.C * g.KH * g.KW * g.P * g.Q;
    return rv_im2col_elem(x + i / per_img * g.C * g.H * g.W, g, i % per_img);
}

/* Per-channel affine of an NCHW tensor, y = x * scale[c] + shift[c]: batch
 * norm in inference mode (scale, shift from rv_bn_coeffs). */
RV_HD float rv_affine_elem(const float *x, const float *scale, const float *shift, int64_t C,
                           int64_t HW, int64_t i)
{
    int64_t c = (i / HW) % C;
    return x[i] * scale[c] + shift[c];
}

/* Conv epilogue of one value: y + bias, then ReLU when relu != 0 (a NaN
 * stays NaN, as in PyTorch). */
RV_HD float rv_bias_act(float y, float bias, int relu)
{
    /* a select against a floor, no branch: inlined in a loop, the floor is
     * hoisted and the loop vectorises (a branch on relu kept gcc scalar) */
    float v = y + bias, lo = relu ? 0.0f : -INFINITY;
    return v < lo ? lo : v;
}

/* The same for element i of y (N, C, HW), bias[c] (bias may be NULL). */
RV_HD float rv_bias_act_elem(const float *y, const float *bias, int relu, int64_t C, int64_t HW,
                             int64_t i)
{
    return rv_bias_act(y[i], bias ? bias[(i / HW) % C] : 0.0f, relu);
}

/* x < 0 ? 0 : x, not x > 0 ? x : 0: a NaN stays NaN, as in PyTorch */
RV_HD float rv_relu_elem(const float *x, int64_t i) { return x[i] < 0.0f ? 0.0f : x[i]; }

RV_HD float rv_add_elem(const float *a, const float *b, int64_t i) { return a[i] + b[i]; }

/* Global average pooling: element i of y (N*C) is the mean of the HW values
 * of plane i of x. Summed in double so the mean does not depend on HW's size. */
RV_HD float rv_avgpool_elem(const float *x, int64_t HW, int64_t i)
{
    double sum = 0.0;
    for (int64_t k = 0; k < HW; k++) sum += x[i * HW + k];
    return (float)(sum / (double)HW);
}

/* Border padding: element i of y (N, C, H + 2 pad_h, W + 2 pad_w) is x's
 * pixel, or value[c] in the border of channel c. g holds C, H, W, pad_h, pad_w. */
RV_HD float rv_pad_border_elem(const float *x /* (N, C, H, W) */, const float *value,
                               rv_conv_geom g, int64_t i)
{
    int64_t OH = g.H + 2 * g.pad_h, OW = g.W + 2 * g.pad_w;
    int64_t w = i % OW - g.pad_w, h = (i / OW) % OH - g.pad_h, nc = i / (OW * OH);
    if (h < 0 || h >= g.H || w < 0 || w >= g.W) return value[nc % g.C];
    return x[(nc * g.H + h) * g.W + w];
}

/* Average pooling, zeros of the padding counted: element i of y (N, C, P, Q)
 * is the mean of x's KH x KW window at (p stride - pad_h, q stride - pad_w). */
RV_HD float rv_avgpool2d_elem(const float *x /* (N, C, H, W) */, rv_conv_geom g, int64_t i)
{
    int64_t q = i % g.Q, p = (i / g.Q) % g.P, nc = i / (g.P * g.Q);
    double sum = 0.0;
    for (int64_t kh = 0; kh < g.KH; kh++)
        for (int64_t kw = 0; kw < g.KW; kw++) {
            int64_t ih = p * g.stride - g.pad_h + kh, iw = q * g.stride - g.pad_w + kw;
            if (ih >= 0 && ih < g.H && iw >= 0 && iw < g.W) sum += x[(nc * g.H + ih) * g.W + iw];
        }
    return (float)(sum / (double)(g.KH * g.KW));
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

/* Element i of a per-channel fake quantization of w (O, inner): channel i / inner. */
RV_HD float rv_fake_quant_channel_elem(const float *w, const float *scales, int64_t inner,
                                       int64_t i)
{
    return rv_fake_quant(w[i], scales[i / inner]);
}

#endif
