/* net.c - a RepVGG network: init, switch, planned buffers, forward. */
#include <stdlib.h>
#include <string.h>

#include "rv_net.h"
#include "rv_steps.h"
#include "rv_winograd.h"

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
    rv_net_unplan(net);
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

static rv_status plan(rv_net *net, const rv_tensor *x, int64_t shapes[][4])
{
    rv_status st = walk_shapes(net, x, shapes);
    if (st != RV_OK || memcmp(net->planned, x->dim, sizeof net->planned) == 0) return st;
    int64_t need[3] = {0, 0, 0};
    for (int i = 0; i < net->n_blocks; i++) {
        int64_t n = numel4(shapes[i]);
        if (n > need[i % 2]) need[i % 2] = n;
        if (!rv_block_is_fused(rv_net_spec(net, i)) && n > need[2])
            need[2] = n; /* the branch buffer */
    }
    if (net->head_w.data) { /* pooled features */
        int64_t pooled = shapes[net->n_blocks - 1][0] * shapes[net->n_blocks - 1][1];
        if (pooled > need[2]) need[2] = pooled;
    }
    const char *what[3] = {"activations (even blocks)", "activations (odd blocks)",
                           "branch scratch"};
    rv_net_unplan(net);
    for (int i = 0; i < 3; i++) {
        if (need[i] &&
            (st = rv_tensor_alloc1(&net->buf[i], net->device, need[i], what[i])) != RV_OK) {
            rv_net_unplan(net);
            return st;
        }
    }
    for (int i = 0; i < net->n_blocks && st == RV_OK; i++) {
        const int64_t *in = i ? shapes[i - 1] : x->dim;
        st = rv_block_plan(&net->blocks[i], in);
    }
    if (st != RV_OK) {
        rv_net_unplan(net);
        return st;
    }
    memcpy(net->planned, x->dim, sizeof net->planned);
    return RV_OK;
}

/* A tensor of shape s over buffer b's memory (no ownership). */
static rv_tensor view(const rv_tensor *b, int ndim, const int64_t *s)
{
    rv_tensor v = {.data = b->data, .ndim = ndim, .device = b->device};
    memcpy(v.dim, s, (size_t)ndim * sizeof *s);
    return v;
}

/* Runs the blocks (and the head) on planned buffers. With y == NULL the last
 * block writes into a buffer and the head is skipped; with r != NULL every
 * train-time block calibrates its BN statistics on the way. */
static rv_status run(rv_net *net, const rv_tensor *x, rv_tensor *y, rv_rng *r)
{
    int64_t shapes[RV_MAX_BLOCKS][4];
    rv_status st = plan(net, x, shapes);
    if (st != RV_OK) return st;
    rv_tensor cur = *x;
    int last = net->n_blocks - 1, head = y && net->head_w.data;
    for (int i = 0; i <= last && st == RV_OK; i++) {
        rv_tensor next = (i == last && y && !head) ? *y : view(&net->buf[i % 2], 4, shapes[i]);
        rv_tensor tmp = view(&net->buf[2], 4, shapes[i]);
        rv_tensor *t = rv_block_is_fused(rv_net_spec(net, i)) ? NULL : &tmp;
        st = r ? rv_block_calibrate_bn(&net->blocks[i], &cur, t, &next, r)
               : rv_block_forward(&net->blocks[i], &cur, t, &next);
        cur = next;
    }
    if (st == RV_OK && head) {
        int64_t pooled[2] = {shapes[last][0], shapes[last][1]};
        rv_tensor feat = view(&net->buf[2], 2, pooled);
        st = rv_global_avgpool(&cur, &feat);
        if (st == RV_OK) st = rv_linear(&feat, &net->head_w, &net->head_b, y);
    }
    return st;
}

rv_status rv_net_forward(rv_net *net, const rv_tensor *x, rv_tensor *y)
{
    int64_t out[4];
    int rank;
    rv_status st = rv_net_out_shape(net, x, out, &rank);
    if (st != RV_OK) return st;
    rv_tensor expect = {.ndim = rank, .dim = {out[0], out[1], out[2], out[3]}};
    if (!rv_tensor_same_shape(y, &expect) || y->device != net->device || x->device != net->device)
        return rv_error(RV_EINVAL, "forward: input and output must be on the net's device, "
                                   "output shaped as rv_net_out_shape says");
    return run(net, x, y, NULL);
}

void rv_net_unplan(rv_net *net)
{
    for (int i = 0; i < 3; i++) rv_tensor_free(&net->buf[i]);
    for (int i = 0; i < net->n_blocks; i++) rv_block_unplan(&net->blocks[i]);
    memset(net->planned, 0, sizeof net->planned);
}

rv_status rv_net_calibrate_bn(rv_net *net, const rv_tensor *x, rv_rng *r)
{
    if (rv_net_is_deploy(net))
        return rv_error(RV_EINVAL, "calibrate_bn: the net is deploy-time (no BN)");
    if (x->device != net->device)
        return rv_error(RV_EINVAL, "calibrate_bn: input on another device");
    return run(net, x, NULL, r);
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

size_t rv_net_buffer_bytes(const rv_net *net)
{
    size_t b = 0;
    for (int i = 0; i < 3; i++) b += rv_tensor_bytes(&net->buf[i]);
    return b;
}

void rv_net_winograd_layers(const rv_net *net, int layers[2])
{
    layers[0] = layers[1] = 0;
    for (int i = 0; i < net->n_blocks; i++)
        for (int k = 0; k < net->blocks[i].spec.n_branches; k++) {
            int m = rv_winograd_tile_of(&net->blocks[i].branch[k].u);
            if (m) layers[m == 4]++;
        }
}

size_t rv_net_planned_weight_bytes(const rv_net *net)
{
    size_t b = 0;
    for (int i = 0; i < net->n_blocks; i++)
        for (int k = 0; k < net->blocks[i].spec.n_branches; k++)
            b += rv_tensor_bytes(&net->blocks[i].branch[k].u) +
                 rv_tensor_bytes(&net->blocks[i].branch[k].packed);
    return b;
}
