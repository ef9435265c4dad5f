/* sgd.c - the SGD update of rv_sgd.h.
 *
 * Every parameter is checked before any is touched, so that a bad one
 * leaves the whole step undone (a half-applied step cannot be resumed).
 * Each line below is one line of PyTorch's _single_tensor_sgd, in float32,
 * so the two round alike; C11 (no GNU extensions) does not contract a + b * c
 * into a fused multiply-add, which keeps a run the same bit for bit.
 */
#include <math.h>
#include <stdio.h>

#include "rv_sgd.h"

static rv_status check_param(const rv_sgd *opt, const rv_sgd_param *q, int i)
{
    char fallback[32];
    snprintf(fallback, sizeof fallback, "parameter %d", i);
    const char *name = q->name ? q->name : fallback;
    if (!q->param || !q->grad || !q->param->data || !q->grad->data)
        return rv_error(RV_EINVAL, "SGD: %s has no tensor or no gradient", name);
    if (q->param->device != RV_CPU || q->grad->device != RV_CPU)
        return rv_error(RV_EINVAL, "SGD: %s: the optimizer runs on the CPU", name);
    char a[64], b[64];
    if (!rv_tensor_same_shape(q->param, q->grad))
        return rv_error(RV_EINVAL, "SGD: %s is %s but its gradient is %s", name,
                        rv_tensor_shape_str(q->param, a, sizeof a),
                        rv_tensor_shape_str(q->grad, b, sizeof b));
    if (opt->momentum == 0.0f) return RV_OK;
    if (!q->buf || !q->buf->data || q->buf->device != RV_CPU ||
        !rv_tensor_same_shape(q->param, q->buf))
        return rv_error(RV_EINVAL, "SGD: %s needs a momentum buffer of its shape on the CPU", name);
    return RV_OK;
}

rv_status rv_sgd_step(rv_sgd *opt, float lr, const rv_sgd_param *ps, int n)
{
    if (!(opt->momentum >= 0.0f && opt->momentum < 1.0f))
        return rv_error(RV_EINVAL, "SGD: momentum %g is not in [0, 1)", opt->momentum);
    if (!(opt->weight_decay >= 0.0f) || !isfinite(opt->weight_decay))
        return rv_error(RV_EINVAL, "SGD: weight decay %g is not a number >= 0", opt->weight_decay);
    if (opt->nesterov && opt->momentum == 0.0f)
        return rv_error(RV_EINVAL, "SGD: Nesterov's momentum needs a momentum above 0");
    if (!(lr >= 0.0f) || !isfinite(lr))
        return rv_error(RV_EINVAL, "SGD: learning rate %g is not a number >= 0", lr);
    if (n < 0 || (n > 0 && !ps)) return rv_error(RV_EINVAL, "SGD: %d parameters", n);
    for (int i = 0; i < n; i++) {
        rv_status st = check_param(opt, &ps[i], i);
        if (st != RV_OK) return st;
    }
    const float mu = opt->momentum;
    const int first = opt->steps == 0;
    for (int i = 0; i < n; i++) {
        const float wd = ps[i].decay ? opt->weight_decay : 0.0f;
        float *p = ps[i].param->data, *b = mu != 0.0f ? ps[i].buf->data : NULL;
        const float *grad = ps[i].grad->data;
        for (int64_t k = 0, m = rv_tensor_numel(ps[i].param); k < m; k++) {
            float g = grad[k];
            if (wd != 0.0f) g = g + wd * p[k];
            if (b) {
                b[k] = first ? g : mu * b[k] + g;
                g = opt->nesterov ? g + mu * b[k] : b[k];
            }
            p[k] = p[k] - lr * g;
        }
    }
    opt->steps++;
    return RV_OK;
}
