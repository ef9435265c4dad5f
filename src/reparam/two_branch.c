/* two_branch.c - the notebook's TwoBranches cell and its fused conv. */
#include "rv_two_branch.h"

#include "rv_measure.h"
#include "rv_reparam.h"

static const rv_conv_params P = {.stride = 1, .pad_h = 0, .pad_w = 0, .groups = 1, .relu = 0};

rv_status rv_two_branch_forward(void *ctx)
{
    rv_two_branch *t = ctx;
    rv_status st = rv_conv2d(&t->x, &t->w1, &t->b1, P, &t->y1);
    if (st == RV_OK) st = rv_conv2d(&t->x, &t->w2, &t->b2, P, &t->y2);
    return st == RV_OK ? rv_add(&t->y1, &t->y2, &t->y) : st;
}

rv_status rv_two_branch_fused(void *ctx)
{
    rv_two_branch *t = ctx;
    return rv_conv2d(&t->x, &t->wf, &t->bf, P, &t->yf);
}

rv_status rv_two_branch_build(rv_two_branch *t, rv_device dev, int n, int c, int s, int integers,
                              uint64_t seed)
{
    *t = (rv_two_branch){0};
    if (s < 3) return rv_error(RV_EINVAL, "two branches: size %d is below the 3x3 kernel", s);
    rv_rng rng = rv_rng_seed(seed);
    int64_t dims[3][4] = {{n, c, s, s}, {c, c, 3, 3}, {c}};
    int which[7] = {0, 1, 2, 1, 2, 1, 2}; /* x, w1, b1, w2, b2, and the fused wf, bf */
    rv_tensor h[7] = {{0}};
    rv_tensor *dst[7] = {&t->x, &t->w1, &t->b1, &t->w2, &t->b2, &t->wf, &t->bf};
    rv_status st = RV_OK;
    for (int i = 0; i < 7 && st == RV_OK; i++) {
        st = rv_tensor_alloc(&h[i], RV_CPU, which[i] == 2 ? 1 : 4, dims[which[i]], "input");
        if (st != RV_OK || i >= 5) continue;
        if (integers)
            rv_tensor_fill_int(&h[i], &rng, -3, 3);
        else
            rv_tensor_fill_uniform(&h[i], &rng, i ? -0.5f : -1.0f, i ? 0.5f : 1.0f);
    }
    /* The fusion itself, on the host as every fold: sum the weights, sum the biases. */
    if (st == RV_OK) st = rv_sum_convs(&h[1], &h[2], &h[3], &h[4], &h[5], &h[6]);
    for (int i = 0; i < 7 && st == RV_OK; i++) st = rv_tensor_clone(dst[i], &h[i], dev, "weights");
    for (int i = 0; i < 7; i++) rv_tensor_free(&h[i]);
    rv_tensor *const out[4] = {&t->y1, &t->y2, &t->y, &t->yf};
    const int64_t od[4] = {n, c, s - 2, s - 2};
    if (st == RV_OK) st = rv_alloc_form_buffers(out, 4, 3, dev, od, t->held);
    if (st != RV_OK) rv_two_branch_free(t);
    return st;
}

void rv_two_branch_free(rv_two_branch *t)
{
    rv_tensor *all[11] = {&t->x,  &t->w1, &t->b1, &t->w2, &t->b2, &t->wf,
                          &t->bf, &t->y1, &t->y2, &t->y,  &t->yf};
    for (int i = 0; i < 11; i++) rv_tensor_free(all[i]);
}
