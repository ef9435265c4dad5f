/* block_plan.c - how a block's convs run for one input shape and set of
 * options (rv_block.h): each conv's path chosen once, its weight prepared for
 * that path once (Winograd-domain or packed, on the CPU), the middle buffer
 * of the branches that have one. The block is only read. */
#include <string.h>

#include "rv_block.h"
#include "rv_gemm.h"
#include "rv_winograd.h"

const char *rv_conv_path_name(rv_conv_path path)
{
    static const char *const names[] = {
        [RV_PATH_NONE] = "no conv",
        [RV_PATH_IM2COL] = "im2col + OpenBLAS",
        [RV_PATH_IM2COL_PACKED] = "im2col + packed",
        [RV_PATH_WINOGRAD_F2X2] = "winograd F(2x2)",
        [RV_PATH_WINOGRAD_F4X4] = "winograd F(4x4)",
        [RV_PATH_DEPTHWISE] = "depthwise",
        [RV_PATH_GPU] = "im2col + cuBLAS",
    };
    return path >= RV_PATH_NONE && path <= RV_PATH_GPU ? names[path] : "?";
}

/* Floats of a middle branch's middle, then its padded copy, for input in */
static int64_t middle_floats(const rv_block_spec *s, const rv_branch_spec *b, const int64_t in[4],
                             int64_t *mid)
{
    int64_t M = rv_branch_mid_channels(s, b);
    *mid = in[0] * M * in[2] * in[3];
    return *mid + in[0] * M * (in[2] + 2 * b->pad_h) * (in[3] + 2 * b->pad_w);
}

/* The input shape of branch i's (k x k) conv: the block's input, or a
 * middle branch's middle (padded unless zero_border). */
static void conv_input(const rv_block_spec *s, int i, const int64_t in[4], int64_t x[4])
{
    const rv_branch_spec *bs = &s->branch[i];
    memcpy(x, in, 4 * sizeof *x);
    if (!rv_branch_has_middle(bs)) return;
    x[1] = rv_branch_mid_channels(s, bs);
    if (!bs->zero_border) {
        x[2] += 2 * bs->pad_h;
        x[3] += 2 * bs->pad_w;
    }
}

/* Branch i's path, and its weight prepared for it */
static rv_status choose(rv_block_plan *bp, const rv_block *b, int i)
{
    const rv_block_spec *s = &b->spec;
    const rv_tensor *w = &b->branch[i].w;
    rv_conv_params p = rv_branch_conv_params(s, &s->branch[i]);
    int64_t x[4];
    conv_input(s, i, bp->in, x);
    if (!w->data) { /* identity, pools: no conv of their own */
        bp->path[i] = RV_PATH_NONE;
        return RV_OK;
    }
    if (w->device != RV_CPU) {
        bp->path[i] = RV_PATH_GPU;
        return RV_OK;
    }
    if (p.groups > 1 && p.groups == x[1] && w->dim[0] == p.groups) {
        bp->path[i] = RV_PATH_DEPTHWISE;
        return RV_OK;
    }
    if (!bp->opt.no_winograd && rv_winograd_applies(w, p)) {
        int m = bp->opt.winograd_tile ? bp->opt.winograd_tile
                                      : rv_winograd_tile(x[0], x[2], x[3], bp->gemm);
        bp->path[i] = m == 4 ? RV_PATH_WINOGRAD_F4X4 : RV_PATH_WINOGRAD_F2X2;
        return rv_winograd_weights(w, m, bp->gemm, &bp->prepared[i]);
    }
    bp->path[i] = bp->gemm ? RV_PATH_IM2COL_PACKED : RV_PATH_IM2COL;
    return rv_conv2d_pack(w, p, bp->gemm, &bp->prepared[i]);
}

rv_status rv_block_plan_build(rv_block_plan *bp, const rv_block *b, const int64_t in[4],
                              const rv_options *opt)
{
    memset(bp, 0, sizeof *bp);
    if (opt) bp->opt = *opt;
    memcpy(bp->in, in, sizeof bp->in);
    if (in[1] != b->spec.in_ch)
        return rv_error(RV_EINVAL, "block plan: input of %lld channels, the block takes %lld",
                        (long long)in[1], (long long)b->spec.in_ch);
    rv_status st = rv_gemm_kernel_for(bp->opt.gemm, &bp->gemm);
    int64_t need = 0, mid;
    for (int i = 0; i < b->spec.n_branches && st == RV_OK; i++) {
        const rv_branch_spec *bs = &b->spec.branch[i];
        if (rv_branch_has_middle(bs)) {
            int64_t f = middle_floats(&b->spec, bs, in, &mid);
            need = f > need ? f : need;
        }
        st = choose(bp, b, i);
    }
    if (st == RV_OK && need) st = rv_tensor_alloc1(&bp->middle, b->device, need, "branch middle");
    if (st != RV_OK) rv_block_plan_free(bp);
    return st;
}

void rv_block_plan_free(rv_block_plan *bp)
{
    for (int i = 0; i < RV_MAX_BRANCHES; i++) rv_tensor_free(&bp->prepared[i]);
    rv_tensor_free(&bp->middle);
}

size_t rv_block_plan_bytes(const rv_block_plan *bp)
{
    size_t n = rv_tensor_bytes(&bp->middle);
    for (int i = 0; i < RV_MAX_BRANCHES; i++) n += rv_tensor_bytes(&bp->prepared[i]);
    return n;
}

size_t rv_block_plan_workspace_bytes(const rv_block_plan *bp, const rv_block *b)
{
    const rv_block_spec *s = &b->spec;
    size_t most = 0;
    for (int i = 0; i < s->n_branches; i++) {
        const rv_branch *br = &b->branch[i];
        int64_t x[4];
        conv_input(s, i, bp->in, x);
        rv_conv_exec e = rv_block_conv_exec(bp, i, NULL);
        rv_tensor xs = {.ndim = 4, .dim = {x[0], x[1], x[2], x[3]}, .device = b->device};
        if (bp->path[i] != RV_PATH_NONE) {
            size_t n =
                rv_conv2d_workspace_bytes(&xs, &br->w, rv_branch_conv_params(s, &s->branch[i]), &e);
            most = n > most ? n : most;
        }
        if (br->w1.data) { /* the 1x1 conv into the middle, on the plain path */
            rv_tensor xin = {.ndim = 4,
                             .dim = {bp->in[0], bp->in[1], bp->in[2], bp->in[3]},
                             .device = b->device};
            rv_conv_exec plain = rv_block_conv_exec(NULL, i, NULL);
            size_t n = rv_conv2d_workspace_bytes(&xin, &br->w1, rv_branch_1x1_params(s), &plain);
            most = n > most ? n : most;
        }
    }
    return most;
}

rv_conv_exec rv_block_conv_exec(const rv_block_plan *bp, int i, const rv_tensor *ws)
{
    if (!bp) return (rv_conv_exec){.workspace = ws};
    rv_conv_path path = bp->path[i];
    int wino = path == RV_PATH_WINOGRAD_F2X2 || path == RV_PATH_WINOGRAD_F4X4;
    const rv_tensor *prep = bp->prepared[i].data ? &bp->prepared[i] : NULL;
    return (rv_conv_exec){.winograd = wino ? prep : NULL,
                          .packed = path == RV_PATH_IM2COL_PACKED ? prep : NULL,
                          .gemm = bp->gemm,
                          .winograd_chunk_bytes = bp->opt.winograd_chunk_bytes,
                          .cuda_col_bytes = bp->opt.cuda_col_bytes,
                          .workspace = ws};
}
