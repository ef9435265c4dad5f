/* block_pair.c - a block in both forms with its buffers, for the lessons and
 * the bench (rv_block.h). */
#include "rv_block.h"
#include "rv_measure.h"

rv_status rv_block_pair_train(void *ctx)
{
    rv_block_pair *p = ctx;
    return rv_block_run(&p->train, &p->plan[0], NULL, &p->x, &p->tmp, &p->y);
}

rv_status rv_block_pair_fast(void *ctx)
{
    rv_block_pair *p = ctx;
    return rv_block_run(&p->fast, &p->plan[1], NULL, &p->x, NULL, &p->yf);
}

rv_status rv_block_pair_build(rv_block_pair *p, rv_block_spec spec, rv_device dev, int n, int s,
                              uint64_t seed)
{
    *p = (rv_block_pair){0};
    rv_rng rng = rv_rng_seed(seed);
    int64_t out[4];
    rv_status st = rv_block_init_random(&p->train, spec, &rng, dev);
    if (st == RV_OK) st = rv_block_switch_to_fast(&p->train, &p->fast);
    const int64_t in[4] = {n, spec.in_ch, s, s};
    if (st == RV_OK) st = rv_block_plan_build(&p->plan[0], &p->train, in, NULL);
    if (st == RV_OK) st = rv_block_plan_build(&p->plan[1], &p->fast, in, NULL);
    if (st == RV_OK) st = rv_tensor_random(&p->x, dev, 4, in, &rng, -1.0f, 1.0f, "x");
    if (st == RV_OK) st = rv_block_out_shape(&spec, &p->x, out);
    rv_tensor *const o[3] = {&p->tmp, &p->y, &p->yf};
    if (st == RV_OK) st = rv_alloc_form_buffers(o, 3, 2, dev, out, p->held);
    if (st != RV_OK) rv_block_pair_free(p);
    return st;
}

void rv_block_pair_free(rv_block_pair *p)
{
    rv_block_plan_free(&p->plan[0]);
    rv_block_plan_free(&p->plan[1]);
    rv_block_free(&p->train);
    rv_block_free(&p->fast);
    rv_tensor *t[4] = {&p->x, &p->tmp, &p->y, &p->yf};
    for (int i = 0; i < 4; i++) rv_tensor_free(t[i]);
}
