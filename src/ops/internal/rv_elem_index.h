/* rv_elem_index.h - the per-element bodies of rv_elem.h, written once for
 * one index width (internal to the library; included by rv_elem.h only).
 *
 * rv_elem.h includes this file twice: with RV_IDX int64_t, the names as
 * they read here (rv_conv_geom, rv_im2col_elem, ...), and with RV_IDX
 * int32_t, every geometry and body suffixed 32 in C (rv_conv_geom32,
 * rv_im2col_elem32) because C has no overloading. In CUDA C++ the 32-bit
 * bodies keep the plain names, overloaded on the index type, so one kernel
 * template calls the body of the width it was launched with.
 * RV_GEOM names the geometry of this width, RV_ELEM(f) a body's name.
 */

/* Geometry of one convolution or pooling window: input (C, H, W) of one
 * image, window KH x KW, output P x Q, padding pad_h rows and pad_w columns
 * on each side. */
typedef struct {
    RV_IDX C, H, W, KH, KW, P, Q;
    RV_IDX stride, pad_h, pad_w;
} RV_GEOM;

/* im2col: the column matrix of one image, (C*KH*KW) rows by (P*Q) columns,
 * row-major. Row r = (c*KH + kh)*KW + kw holds, for every output pixel (p, q),
 * the input pixel that kernel tap (c, kh, kw) multiplies there, or 0 where that
 * pixel is padding. Channels are the slowest index, so the rows of group g
 * form one contiguous block. */
RV_HD float RV_ELEM(rv_im2col_elem)(const float *x /* (C, H, W) */, RV_GEOM g, RV_IDX i)
{
    RV_IDX pq = g.P * g.Q;
    RV_IDX row = i / pq, col = i % pq;
    RV_IDX kw = row % g.KW, kh = (row / g.KW) % g.KH, c = row / (g.KW * g.KH);
    RV_IDX p = col / g.Q, q = col % g.Q;
    RV_IDX ih = p * g.stride - g.pad_h + kh, iw = q * g.stride - g.pad_w + kw;
    if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) return 0.0f;
    return x[(c * g.H + ih) * g.W + iw];
}

/* im2col of a batch of images x (n, C, H, W): element i of (n, C*KH*KW, P*Q). */
RV_HD float RV_ELEM(rv_im2col_batched_elem)(const float *x, RV_GEOM g, RV_IDX i)
{
    RV_IDX per_img = g.C * g.KH * g.KW * g.P * g.Q;
    return RV_ELEM(rv_im2col_elem)(x + i / per_img * g.C * g.H * g.W, g, i % per_img);
}

/* Per-channel affine of an NCHW tensor, y = x * scale[c] + shift[c]: batch
 * norm in inference mode (scale, shift from rv_bn_coeffs). */
RV_HD float RV_ELEM(rv_affine_elem)(const float *x, const float *scale, const float *shift,
                                    RV_IDX C, RV_IDX HW, RV_IDX i)
{
    RV_IDX c = (i / HW) % C;
    return x[i] * scale[c] + shift[c];
}

/* The conv epilogue (rv_bias_act) of element i of y (N, C, HW), bias[c]
 * (bias may be NULL). */
RV_HD float RV_ELEM(rv_bias_act_elem)(const float *y, const float *bias, int relu, RV_IDX C,
                                      RV_IDX HW, RV_IDX i)
{
    return rv_bias_act(y[i], bias ? bias[(i / HW) % C] : 0.0f, relu);
}

/* x < 0 ? 0 : x, not x > 0 ? x : 0: a NaN stays NaN, as in PyTorch */
RV_HD float RV_ELEM(rv_relu_elem)(const float *x, RV_IDX i) { return x[i] < 0.0f ? 0.0f : x[i]; }

RV_HD float RV_ELEM(rv_add_elem)(const float *a, const float *b, RV_IDX i) { return a[i] + b[i]; }

/* Global average pooling: element i of y (N*C) is the mean of the HW values
 * of plane i of x. Summed in double so the mean does not depend on HW's size. */
RV_HD float RV_ELEM(rv_avgpool_elem)(const float *x, RV_IDX HW, RV_IDX i)
{
    double sum = 0.0;
    for (RV_IDX k = 0; k < HW; k++) sum += x[i * HW + k];
    return (float)(sum / (double)HW);
}

/* Border padding: element i of y (N, C, H + 2 pad_h, W + 2 pad_w) is x's
 * pixel, or value[c] in the border of channel c. g holds C, H, W, pad_h, pad_w. */
RV_HD float RV_ELEM(rv_pad_border_elem)(const float *x /* (N, C, H, W) */, const float *value,
                                        RV_GEOM g, RV_IDX i)
{
    RV_IDX OH = g.H + 2 * g.pad_h, OW = g.W + 2 * g.pad_w;
    RV_IDX w = i % OW - g.pad_w, h = (i / OW) % OH - g.pad_h, nc = i / (OW * OH);
    if (h < 0 || h >= g.H || w < 0 || w >= g.W) return value[nc % g.C];
    return x[(nc * g.H + h) * g.W + w];
}

/* Average pooling, zeros of the padding counted: element i of y (N, C, P, Q)
 * is the mean of x's KH x KW window at (p stride - pad_h, q stride - pad_w). */
RV_HD float RV_ELEM(rv_avgpool2d_elem)(const float *x /* (N, C, H, W) */, RV_GEOM g, RV_IDX i)
{
    RV_IDX q = i % g.Q, p = (i / g.Q) % g.P, nc = i / (g.P * g.Q);
    double sum = 0.0;
    for (RV_IDX kh = 0; kh < g.KH; kh++)
        for (RV_IDX kw = 0; kw < g.KW; kw++) {
            RV_IDX ih = p * g.stride - g.pad_h + kh, iw = q * g.stride - g.pad_w + kw;
            if (ih >= 0 && ih < g.H && iw >= 0 && iw < g.W) sum += x[(nc * g.H + ih) * g.W + iw];
        }
    return (float)(sum / (double)(g.KH * g.KW));
}

/* Element i of a per-channel fake quantization of w (O, inner): channel i / inner. */
RV_HD float RV_ELEM(rv_fake_quant_channel_elem)(const float *w, const float *scales, RV_IDX inner,
                                                RV_IDX i)
{
    return rv_fake_quant(w[i], scales[i / inner]);
}
