/* net.c - a RepVGG network: its parameters (init, switch, counts) and the
 * passes that need no plan of the caller's: a one-off forward, calibration. */
#include <stdlib.h>
#include <string.h>

#include "rv_net.h"
#include "rv_steps.h"
#include "rv_plan.h"

const rv_block_spec *rv_net_spec(const rv_net *net, int i) { return &net->blocks[i].spec; }

rv_status rv_net_alloc(rv_net *net, int n, rv_device dev)
{
    memset(net, 0, sizeof *net);
    net->device = dev;
    if (n < 1 || n > RV_MAX_BLOCKS)
        return rv_error(RV_EINVAL, "net: %d blocks is outside 1..%d", n, RV_MAX_BLOCKS);
    /* The block array is structure, not tensors: plain calloc. */
    net->blocks = calloc((size_t)n, sizeof *net->blocks);
    if (!net->blocks) return rv_error(RV_ENOMEM, "net: cannot hold %d blocks", n);
    net->n_blocks = n;
    return RV_OK;
}

int rv_net_is_deploy(const rv_net *net)
{
    for (int i = 0; i < net->n_blocks; i++)
        if (!rv_block_is_fused(&net->blocks[i].spec)) return 0;
    return net->n_blocks > 0;
}

static rv_status random_head(rv_net *net, int64_t classes, rv_rng *r)
{
    const rv_block_spec *last = rv_net_spec(net, net->n_blocks - 1);
    rv_tensor w, b;
    int64_t dim[2] = {classes, last->out_ch};
    rv_status st = rv_tensor_alloc(&w, RV_CPU, 2, dim, "linear.weight");
    if (st != RV_OK) return st;
    st = rv_tensor_alloc1(&b, RV_CPU, classes, "linear.bias");
    if (st == RV_OK) {
        rv_tensor_fill_uniform(&w, r, -0.1f, 0.1f);
        rv_tensor_fill_uniform(&b, r, -0.1f, 0.1f);
        st = rv_tensor_clone(&net->head_w, &w, net->device, "linear.weight");
        if (st == RV_OK) st = rv_tensor_clone(&net->head_b, &b, net->device, "linear.bias");
        rv_tensor_free(&b);
    }
    rv_tensor_free(&w);
    return st;
}

rv_status rv_net_init_random(rv_net *net, const rv_block_spec *specs, int n, int64_t classes,
                             rv_rng *r, rv_device dev)
{
    rv_status st = rv_net_alloc(net, n, dev);
    for (int i = 0; i < n && st == RV_OK; i++)
        st = rv_block_init_random(&net->blocks[i], specs[i], r, dev);
    if (st == RV_OK && classes > 0) st = random_head(net, classes, r);
    if (st != RV_OK) rv_net_free(net);
    return st;
}

void rv_net_free(rv_net *net)
{
    for (int i = 0; i < net->n_blocks; i++) rv_block_free(&net->blocks[i]);
    free(net->blocks);
    rv_tensor_free(&net->head_w);
    rv_tensor_free(&net->head_b);
    memset(net, 0, sizeof *net);
}

rv_status rv_net_switch_to_fast(const rv_net *train, rv_net *fast)
{
    if (rv_net_is_deploy(train))
        return rv_error(RV_EINVAL, "switch_to_fast: the net is already deploy-time");
    rv_status st = rv_net_alloc(fast, train->n_blocks, train->device);
    if (st == RV_OK && train->head_w.data) {
        st = rv_tensor_clone(&fast->head_w, &train->head_w, train->device, "linear.weight");
        if (st == RV_OK)
            st = rv_tensor_clone(&fast->head_b, &train->head_b, train->device, "linear.bias");
    }
    if (st == RV_OK) st = rv_step_switch_net(train, fast);
    for (int i = 0; i < fast->n_blocks && st == RV_OK; i++)
        if (!rv_block_is_fused(&fast->blocks[i].spec))
            st = rv_error(RV_EINVAL, "switch_to_fast: block %d was not switched", i);
    if (st != RV_OK) rv_net_free(fast);
    return st;
}

/* Shapes of every block's output for input x; returns the final rank-4 shape. */
static rv_status walk_shapes(const rv_net *net, const rv_tensor *x, int64_t shapes[][4])
{
    rv_tensor cur = {.ndim = 4, .dim = {x->dim[0], x->dim[1], x->dim[2], x->dim[3]}};
    if (x->ndim != 4) return rv_error(RV_EINVAL, "input: expected rank 4 (N, C, H, W)");
    for (int i = 0; i < net->n_blocks; i++) {
        const rv_block_spec *s = rv_net_spec(net, i);
        if (cur.dim[1] != s->in_ch)
            return rv_error(RV_EINVAL, "input: block %d expects %lld channels, got %lld", i,
                            (long long)s->in_ch, (long long)cur.dim[1]);
        rv_status st = rv_block_out_shape(s, &cur, shapes[i]);
        if (st != RV_OK) return st;
        memcpy(cur.dim, shapes[i], sizeof cur.dim);
    }
    return RV_OK;
}

rv_status rv_net_out_shape(const rv_net *net, const rv_tensor *x, int64_t out[4], int *rank)
{
    int64_t shapes[RV_MAX_BLOCKS][4];
    rv_status st = walk_shapes(net, x, shapes);
    if (st != RV_OK) return st;
    memcpy(out, shapes[net->n_blocks - 1], 4 * sizeof *out);
    *rank = 4;
    if (net->head_w.data) {
        out[1] = net->head_w.dim[0];
        out[2] = out[3] = 0;
        *rank = 2;
    }
    return RV_OK;
}

static int64_t numel4(const int64_t *s) { return s[0] * s[1] * s[2] * s[3]; }

rv_status rv_net_block_shapes(const rv_net *net, const rv_tensor *x, int64_t shapes[][4])
{
    return walk_shapes(net, x, shapes);
}

rv_status rv_net_forward(const rv_net *net, const rv_tensor *x, rv_tensor *y)
{
    rv_plan plan;
    rv_status st = rv_plan_build(&plan, net, x->dim, x->device, NULL);
    if (st == RV_OK) st = rv_plan_forward(&plan, x, y);
    rv_plan_free(&plan);
    return st;
}

/* Block by block, each on its own plan and buffers, freed as it goes: a
 * pass that changes the BNs only, so it owns the net (not a forward). */
rv_status rv_net_calibrate_bn(rv_net *net, const rv_tensor *x, rv_rng *r)
{
    if (rv_net_is_deploy(net))
        return rv_error(RV_EINVAL, "calibrate_bn: the net is deploy-time (no BN)");
    if (x->device != net->device)
        return rv_error(RV_EINVAL, "calibrate_bn: input on another device");
    int64_t shapes[RV_MAX_BLOCKS][4];
    rv_status st = walk_shapes(net, x, shapes);
    rv_tensor in = {0}, out = {0}, tmp = {0};
    const rv_tensor *cur = x;
    for (int i = 0; i < net->n_blocks && st == RV_OK; i++) {
        rv_block_plan bp;
        st = rv_block_plan_build(&bp, &net->blocks[i], cur->dim, NULL);
        if (st == RV_OK)
            st = rv_tensor_alloc(&out, net->device, 4, shapes[i], "calibration output");
        if (st == RV_OK)
            st = rv_tensor_alloc(&tmp, net->device, 4, shapes[i], "calibration branch");
        if (st == RV_OK) st = rv_block_calibrate_bn(&net->blocks[i], &bp, cur, &tmp, &out, r);
        rv_block_plan_free(&bp);
        rv_tensor_free(&tmp);
        rv_tensor_free(&in);
        in = out; /* the next block's input */
        out = (rv_tensor){0};
        cur = &in;
    }
    rv_tensor_free(&in);
    rv_tensor_free(&out);
    return st;
}

int64_t rv_net_params(const rv_net *net)
{
    int64_t n = 0;
    for (int i = 0; i < net->n_blocks; i++) n += rv_block_params(&net->blocks[i]);
    if (net->head_w.data) n += rv_tensor_numel(&net->head_w) + rv_tensor_numel(&net->head_b);
    return n;
}

double rv_net_macs(const rv_net *net, int64_t n, int64_t h, int64_t w)
{
    double macs = 0; /* a double: any shape that parses has a count, never an overflow */
    for (int i = 0; i < net->n_blocks; i++) {
        const rv_block_spec *s = rv_net_spec(net, i);
        macs += rv_block_macs(s, n, h, w);
        h = (h + 2 * s->pad_h - s->kh) / s->stride + 1;
        w = (w + 2 * s->pad_w - s->kw) / s->stride + 1;
    }
    if (net->head_w.data) macs += (double)n * rv_tensor_numel(&net->head_w);
    return macs;
}

size_t rv_net_min_activation_bytes(const rv_net *net, const rv_tensor *x)
{
    int64_t shapes[RV_MAX_BLOCKS][4], most = 0;
    if (walk_shapes(net, x, shapes) != RV_OK) return 0;
    for (int i = 0; i < net->n_blocks; i++) {
        int64_t pair = numel4(shapes[i]) + (i > 0 ? numel4(shapes[i - 1]) : 0);
        if (pair > most) most = pair;
    }
    return (size_t)most * sizeof(float);
}
