/* mobileone.c - MobileOne's block as two branch lists, and the block in both
 * forms with buffers (rv_mobileone.h). */
#include "rv_measure.h"
#include "rv_mobileone.h"

rv_status rv_mobileone_specs(rv_mobileone m, rv_block_spec *dw, rv_block_spec *pw)
{
    if (m.k < 1 || m.k > RV_MOBILEONE_MAX_K)
        return rv_error(RV_EINVAL,
                        "MobileOne: k = %d conv branches, expected 1 to %d (a part holds at most "
                        "%d branches: k convs, the scale branch, the identity)",
                        m.k, RV_MOBILEONE_MAX_K, RV_MAX_BRANCHES);
    if (m.in_ch < 1 || m.out_ch < 1 || m.stride < 1)
        return rv_error(RV_EINVAL,
                        "MobileOne: need channels and stride >= 1, got %lld -> %lld, "
                        "stride %d",
                        (long long)m.in_ch, (long long)m.out_ch, m.stride);
    const rv_branch_spec conv3 = {
        .kind = RV_BRANCH_CONV, .kh = 3, .kw = 3, .pad_h = 1, .pad_w = 1, .bn = 1};
    const rv_branch_spec conv1 = {.kind = RV_BRANCH_CONV, .kh = 1, .kw = 1, .bn = 1};
    const rv_branch_spec identity = {.kind = RV_BRANCH_IDENTITY, .bn = 1};
    rv_branch_spec b[RV_MAX_BRANCHES];
    int id_dw, id_pw, n = 0;
    rv_status st = rv_block_wants_identity(m.in_ch, m.in_ch, m.stride, &id_dw);
    if (st == RV_OK) st = rv_block_wants_identity(m.in_ch, m.out_ch, 1, &id_pw);
    if (st != RV_OK) return st;
    for (int i = 0; i < m.k; i++) b[n++] = conv3;
    b[n++] = conv1; /* the scale branch */
    if (id_dw) b[n++] = identity;
    *dw = rv_block_spec_list(m.in_ch, m.in_ch, m.stride, (int)m.in_ch, 3, n, b);
    n = 0;
    for (int i = 0; i < m.k; i++) b[n++] = conv1;
    if (id_pw) b[n++] = identity;
    *pw = rv_block_spec_list(m.in_ch, m.out_ch, 1, 1, 1, n, b);
    return RV_OK;
}

rv_status rv_mobileone_pair_train(void *ctx)
{
    rv_mobileone_pair *p = ctx;
    rv_status st = rv_block_run(&p->train[0], &p->plan[0][0], NULL, &p->x, &p->tmp[0], &p->mid);
    return st == RV_OK
               ? rv_block_run(&p->train[1], &p->plan[1][0], NULL, &p->mid, &p->tmp[1], &p->y)
               : st;
}

rv_status rv_mobileone_pair_fast(void *ctx)
{
    rv_mobileone_pair *p = ctx;
    rv_status st = rv_block_run(&p->fast[0], &p->plan[0][1], NULL, &p->x, NULL, &p->midf);
    return st == RV_OK ? rv_block_run(&p->fast[1], &p->plan[1][1], NULL, &p->midf, NULL, &p->yf)
                       : st;
}

rv_status rv_mobileone_pair_build(rv_mobileone_pair *p, rv_mobileone m, rv_device dev, int n, int s,
                                  uint64_t seed)
{
    *p = (rv_mobileone_pair){.m = m};
    rv_rng rng = rv_rng_seed(seed);
    rv_block_spec spec[2];
    int64_t in[4] = {n, m.in_ch, s, s}, mid[4], out[4];
    size_t held[2][2] = {{0}};
    rv_status st = rv_mobileone_specs(m, &spec[0], &spec[1]);
    for (int i = 0; i < 2 && st == RV_OK; i++) {
        st = rv_block_init_random(&p->train[i], spec[i], &rng, dev);
        if (st == RV_OK) st = rv_block_switch_to_fast(&p->train[i], &p->fast[i]);
    }
    if (st == RV_OK) st = rv_tensor_random(&p->x, dev, 4, in, &rng, -1.0f, 1.0f, "x");
    if (st == RV_OK) st = rv_block_out_shape(&spec[0], &p->x, mid);
    rv_tensor mid_shape = {.ndim = 4, .dim = {mid[0], mid[1], mid[2], mid[3]}};
    if (st == RV_OK) st = rv_block_out_shape(&spec[1], &mid_shape, out);
    for (int i = 0; i < 2 && st == RV_OK; i++) {
        st = rv_block_plan_build(&p->plan[i][0], &p->train[i], i ? mid : in, NULL);
        if (st == RV_OK) st = rv_block_plan_build(&p->plan[i][1], &p->fast[i], i ? mid : in, NULL);
    }
    rv_tensor *const o_mid[3] = {&p->tmp[0], &p->mid, &p->midf};
    rv_tensor *const o_out[3] = {&p->tmp[1], &p->y, &p->yf};
    if (st == RV_OK) st = rv_alloc_form_buffers(o_mid, 3, 2, dev, mid, held[0]);
    if (st == RV_OK) st = rv_alloc_form_buffers(o_out, 3, 2, dev, out, held[1]);
    for (int f = 0; f < 2; f++) p->held[f] = held[0][f] + held[1][f];
    if (st != RV_OK) rv_mobileone_pair_free(p);
    return st;
}

void rv_mobileone_pair_free(rv_mobileone_pair *p)
{
    for (int i = 0; i < 2; i++) {
        rv_block_plan_free(&p->plan[i][0]);
        rv_block_plan_free(&p->plan[i][1]);
        rv_block_free(&p->train[i]);
        rv_block_free(&p->fast[i]);
    }
    rv_tensor *t[7] = {&p->x, &p->tmp[0], &p->tmp[1], &p->mid, &p->y, &p->midf, &p->yf};
    for (int i = 0; i < 7; i++) rv_tensor_free(t[i]);
}
