/* plan.c - a network's plan (rv_plan.h): buffers, block plans and one
 * workspace made once for an input shape; forwards that allocate nothing. */
#include <stdlib.h>
#include <string.h>

#include "rv_alloc.h"
#include "rv_gemm.h"
#include "rv_plan.h"
#ifdef RV_HAVE_CUDA
#include "rv_cuda.h"
#endif

static int64_t numel4(const int64_t *s) { return s[0] * s[1] * s[2] * s[3]; }

/* The ping, pong and branch buffers' floats: the largest even-numbered and
 * odd-numbered block outputs, and the largest multi-branch block output (or
 * the pooled features of the head). */
static void buffer_floats(const rv_plan *p, int64_t need[3])
{
    const rv_net *net = p->net;
    need[0] = need[1] = need[2] = 0;
    for (int i = 0; i < net->n_blocks; i++) {
        int64_t n = numel4(p->shapes[i]);
        if (n > need[i % 2]) need[i % 2] = n;
        if (!rv_block_is_fused(rv_net_spec(net, i)) && n > need[2]) need[2] = n;
    }
    if (net->head_w.data) {
        int64_t pooled = p->shapes[net->n_blocks - 1][0] * p->shapes[net->n_blocks - 1][1];
        if (pooled > need[2]) need[2] = pooled;
    }
}

rv_status rv_plan_build(rv_plan *p, const rv_net *net, const int64_t in[4], rv_device dev,
                        const rv_options *opt)
{
    memset(p, 0, sizeof *p);
    p->net = net;
    p->device = dev;
    if (opt) p->opt = *opt;
    memcpy(p->in, in, sizeof p->in);
    if (dev != net->device)
        return rv_error(RV_EINVAL, "plan: the net's weights are on %s, the plan is for %s",
                        rv_device_name(net->device), rv_device_name(dev));
    rv_tensor x = {.ndim = 4, .dim = {in[0], in[1], in[2], in[3]}, .device = dev};
    rv_status st = rv_net_block_shapes(net, &x, p->shapes);
    if (st == RV_OK) st = rv_net_out_shape(net, &x, p->out, &p->out_rank);
    if (st != RV_OK) return st;
    p->blocks = calloc((size_t)net->n_blocks, sizeof *p->blocks);
    if (!p->blocks) return rv_error(RV_ENOMEM, "plan: cannot hold %d block plans", net->n_blocks);
    int64_t need[3];
    buffer_floats(p, need);
    const char *what[3] = {"activations (even blocks)", "activations (odd blocks)",
                           "branch scratch"};
    for (int i = 0; i < 3 && st == RV_OK; i++)
        if (need[i]) st = rv_tensor_alloc1(&p->buf[i], dev, need[i], what[i]);
    size_t ws = 0;
    for (int i = 0; i < net->n_blocks && st == RV_OK; i++) {
        st =
            rv_block_plan_build(&p->blocks[i], &net->blocks[i], i ? p->shapes[i - 1] : in, &p->opt);
        size_t n = st == RV_OK ? rv_block_plan_workspace_bytes(&p->blocks[i], &net->blocks[i]) : 0;
        ws = n > ws ? n : ws;
    }
    if (st == RV_OK && ws)
        st = rv_tensor_alloc1(&p->workspace, dev, (int64_t)((ws + 3) / sizeof(float)), "workspace");
    if (st != RV_OK) rv_plan_free(p);
    return st;
}

rv_status rv_plan_build_counted(rv_plan *p, const rv_net *net, const rv_tensor *x,
                                const rv_options *opt, size_t *bytes)
{
    rv_mem_reset_peak(x->device);
    size_t before = rv_mem(x->device).current;
    rv_status st = rv_plan_build(p, net, x->dim, x->device, opt);
    *bytes = rv_mem(x->device).peak - before;
    return st;
}

void rv_plan_free(rv_plan *p)
{
    if (p->blocks)
        for (int i = 0; i < p->net->n_blocks; i++) rv_block_plan_free(&p->blocks[i]);
    free(p->blocks);
    for (int i = 0; i < 3; i++) rv_tensor_free(&p->buf[i]);
    rv_tensor_free(&p->workspace);
    memset(p, 0, sizeof *p);
}

/* A tensor of shape s over buffer b's memory (no ownership). */
static rv_tensor view(const rv_tensor *b, int ndim, const int64_t *s)
{
    return rv_tensor_view(b->data, b->device, ndim, s);
}

rv_status rv_plan_forward(rv_plan *p, const rv_tensor *x, rv_tensor *y)
{
    const rv_net *net = p->net;
    rv_tensor expect = {.ndim = p->out_rank, .dim = {p->out[0], p->out[1], p->out[2], p->out[3]}};
    if (x->ndim != 4 || memcmp(x->dim, p->in, sizeof p->in) != 0)
        return rv_error(RV_EINVAL, "forward: the input's shape is not the one the plan was "
                                   "made for");
    if (!rv_tensor_same_shape(y, &expect) || y->device != p->device || x->device != p->device)
        return rv_error(RV_EINVAL, "forward: input and output must be on the plan's device, "
                                   "output shaped as rv_net_out_shape says");
    rv_status st = RV_OK;
#ifdef RV_HAVE_CUDA
    if (p->device == RV_CUDA) st = rv_cuda_set_tf32(p->opt.tf32); /* the handle's math mode */
#endif
    const rv_tensor *ws = p->workspace.data ? &p->workspace : NULL;
    rv_tensor cur = *x;
    int last = net->n_blocks - 1, head = net->head_w.data != NULL;
    for (int i = 0; i <= last && st == RV_OK; i++) {
        rv_tensor next = i == last && !head ? *y : view(&p->buf[i % 2], 4, p->shapes[i]);
        rv_tensor tmp = view(&p->buf[2], 4, p->shapes[i]);
        rv_tensor *t = rv_block_is_fused(rv_net_spec(net, i)) ? NULL : &tmp;
        st = rv_block_run(&net->blocks[i], &p->blocks[i], ws, &cur, t, &next);
        cur = next;
    }
    if (st == RV_OK && head) {
        int64_t pooled[2] = {p->shapes[last][0], p->shapes[last][1]};
        rv_tensor feat = view(&p->buf[2], 2, pooled);
        st = rv_global_avgpool(&cur, &feat);
        if (st == RV_OK) st = rv_linear(&feat, &net->head_w, &net->head_b, y);
    }
    return st;
}

rv_plan_info rv_plan_describe(const rv_plan *p)
{
    rv_plan_info d = {0};
    const rv_gemm_kernel *kern = p->blocks ? p->blocks[0].gemm : NULL;
    d.gemm = rv_gemm_kernel_name(kern);
    for (int i = 0; i < 3; i++) d.activation_bytes += rv_tensor_bytes(&p->buf[i]);
    d.workspace_bytes = rv_tensor_bytes(&p->workspace);
    for (int i = 0; p->blocks && i < p->net->n_blocks; i++) {
        const rv_block_plan *bp = &p->blocks[i];
        d.middle_bytes += rv_tensor_bytes(&bp->middle);
        d.weight_bytes += rv_block_plan_bytes(bp) - rv_tensor_bytes(&bp->middle);
        for (int k = 0; k < p->net->blocks[i].spec.n_branches; k++) {
            if (bp->path[k] == RV_PATH_NONE) continue;
            d.convs++;
            d.by_path[bp->path[k]]++;
        }
    }
    d.total_bytes = d.activation_bytes + d.weight_bytes + d.middle_bytes + d.workspace_bytes;
    int wino = d.by_path[RV_PATH_WINOGRAD_F2X2] + d.by_path[RV_PATH_WINOGRAD_F4X4];
    d.conv = p->device == RV_CUDA ? "im2col+cublas"
             : wino               ? (kern ? "winograd+packed" : "winograd+openblas")
                                  : (kern ? "im2col+packed" : "im2col+openblas");
    return d;
}
