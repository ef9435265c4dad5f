/* two_branch.c - the notebook's TwoBranches cell and its fused conv. */
#include "rv_two_branch.h"

#include "rv_measure.h"

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
    int which[5] = {0, 1, 2, 1, 2}; /* x, w1, b1, w2, b2 */
    rv_tensor *in[5] = {&t->x, &t->w1, &t->b1, &t->w2, &t->b2};
    rv_status st = RV_OK;
    for (int i = 0; i < 5 && st == RV_OK; i++) {
        rv_tensor h;
        st = rv_tensor_alloc(&h, RV_CPU, which[i] == 2 ? 1 : 4, dims[which[i]], "input");
        if (st != RV_OK) break;
        if (integers)
            rv_tensor_fill_int(&h, &rng, -3, 3);
        else
            rv_tensor_fill_uniform(&h, &rng, i ? -0.5f : -1.0f, i ? 0.5f : 1.0f);
        st = rv_tensor_clone(in[i], &h, dev, "input");
        rv_tensor_free(&h);
    }
    /* The fusion itself: sum the weights, sum the biases. */
    if (st == RV_OK) st = rv_tensor_alloc(&t->wf, dev, 4, dims[1], "fused weight");
    if (st == RV_OK) st = rv_tensor_alloc(&t->bf, dev, 1, dims[2], "fused bias");
    if (st == RV_OK) st = rv_add(&t->w1, &t->w2, &t->wf);
    if (st == RV_OK) st = rv_add(&t->b1, &t->b2, &t->bf);
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
