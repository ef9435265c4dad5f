/* train_plan.c - the training plan (rv_train.h): buffers and gradients made
 * once for a batch shape; a forward in training mode that saves what the
 * backward reads; the backward, block by block from the loss to the first
 * block, through rv_grad.h's ops. Every conv runs on the plain path (im2col
 * + OpenBLAS), forward and backward, with the plan's workspace. */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rv_grad.h"
#include "rv_train.h"

static int64_t numel4(const int64_t *s) { return s[0] * s[1] * s[2] * s[3]; }

static rv_tensor view(const rv_tensor *b, int ndim, const int64_t *s)
{
    return rv_tensor_view(b->data, b->device, ndim, s);
}

static rv_status alloc(rv_train_plan *p, rv_tensor *t, int ndim, const int64_t *dim,
                       const char *what)
{
    rv_status st = rv_tensor_alloc(t, RV_CPU, ndim, dim, what);
    if (st == RV_OK) p->bytes += rv_tensor_bytes(t);
    return st;
}

static rv_status alloc_like(rv_train_plan *p, rv_tensor *t, const rv_tensor *like, const char *what)
{
    return alloc(p, t, like->ndim, like->dim, what);
}

static rv_status alloc_vec(rv_train_plan *p, rv_tensor *t, int64_t n, const char *what)
{
    return alloc(p, t, 1, &n, what);
}

static const int64_t *in_shape(const rv_train_plan *p, int i)
{
    return i ? p->shapes[i - 1] : p->in;
}

/* The conv exec of every conv of the plan: the plain path, its workspace. */
static rv_conv_exec exec_of(const rv_train_plan *p)
{
    return (rv_conv_exec){.workspace = p->workspace.data ? &p->workspace : NULL};
}

/* --- where each parameter and its gradient are ---------------------------------- */

#define BRANCH_AT(k, member)                                                                       \
    (offsetof(rv_block, branch) + (size_t)(k) * sizeof(rv_branch) + (member))
#define TBRANCH_AT(k, member)                                                                      \
    (offsetof(rv_train_block, branch) + (size_t)(k) * sizeof(rv_train_branch) +                    \
     offsetof(rv_train_branch, member))

static void slot(rv_train_plan *p, int block, size_t param_at, size_t grad_at, rv_param_kind kind,
                 const char *fmt, ...)
{
    rv_train_slot *s = &p->slots[p->n_params++];
    *s = (rv_train_slot){.block = block, .param_at = param_at, .grad_at = grad_at, .kind = kind};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->name, sizeof s->name, fmt, ap);
    va_end(ap);
}

/* Every parameter of the net, in the order rv_train_params promises. */
static void list_slots(rv_train_plan *p)
{
    const rv_net *net = p->net;
    size_t gamma = offsetof(rv_bn, gamma), beta = offsetof(rv_bn, beta);
    for (int i = 0; i < net->n_blocks; i++) {
        const rv_block_spec *s = rv_net_spec(net, i);
        for (int k = 0; k < s->n_branches; k++) {
            const rv_branch_spec *bs = &s->branch[k];
            if (bs->kind == RV_BRANCH_CONV) {
                slot(p, i, BRANCH_AT(k, offsetof(rv_branch, w)), TBRANCH_AT(k, dw), RV_PARAM_WEIGHT,
                     "blocks.%d.branches.%d.conv.weight", i, k);
                if (bs->bias)
                    slot(p, i, BRANCH_AT(k, offsetof(rv_branch, b)), TBRANCH_AT(k, db),
                         RV_PARAM_BIAS, "blocks.%d.branches.%d.conv.bias", i, k);
            }
            if (bs->bn) {
                size_t bn = offsetof(rv_branch, bn);
                slot(p, i, BRANCH_AT(k, bn + gamma), TBRANCH_AT(k, dgamma), RV_PARAM_BN,
                     "blocks.%d.branches.%d.bn.weight", i, k);
                slot(p, i, BRANCH_AT(k, bn + beta), TBRANCH_AT(k, dbeta), RV_PARAM_BN,
                     "blocks.%d.branches.%d.bn.bias", i, k);
            }
        }
        if (s->post_bn) {
            slot(p, i, offsetof(rv_block, post) + gamma, offsetof(rv_train_block, post_dgamma),
                 RV_PARAM_BN, "blocks.%d.post_bn.weight", i);
            slot(p, i, offsetof(rv_block, post) + beta, offsetof(rv_train_block, post_dbeta),
                 RV_PARAM_BN, "blocks.%d.post_bn.bias", i);
        }
    }
    slot(p, -1, offsetof(rv_net, head_w), offsetof(rv_train_plan, dhead_w), RV_PARAM_WEIGHT,
         "head.weight");
    slot(p, -1, offsetof(rv_net, head_b), offsetof(rv_train_plan, dhead_b), RV_PARAM_BIAS,
         "head.bias");
}

static const rv_tensor *param_in(const rv_net *net, const rv_train_slot *s)
{
    const char *base = s->block < 0 ? (const char *)net : (const char *)&net->blocks[s->block];
    return (const rv_tensor *)(base + s->param_at);
}

static rv_tensor *param_in_writable(rv_net *net, const rv_train_slot *s)
{
    char *base = s->block < 0 ? (char *)net : (char *)&net->blocks[s->block];
    return (rv_tensor *)(base + s->param_at);
}

static rv_tensor *grad_in(rv_train_plan *p, const rv_train_slot *s)
{
    char *base = s->block < 0 ? (char *)p : (char *)&p->blocks[s->block];
    return (rv_tensor *)(base + s->grad_at);
}

/* --- building -------------------------------------------------------------------- */

static rv_status check_net(const rv_net *net)
{
    if (net->device != RV_CPU)
        return rv_error(RV_EINVAL, "training plan: the net is on %s; training runs on the CPU",
                        rv_device_name(net->device));
    if (!net->head_w.data)
        return rv_error(RV_EINVAL, "training plan: the net has no classifier head (the loss "
                                   "needs logits)");
    if (net->n_blocks < 1 || net->n_blocks > RV_MAX_BLOCKS)
        return rv_error(RV_EINVAL, "training plan: %d blocks (1 to %d)", net->n_blocks,
                        RV_MAX_BLOCKS);
    for (int i = 0; i < net->n_blocks; i++) {
        const rv_block_spec *s = rv_net_spec(net, i);
        for (int k = 0; k < s->n_branches; k++)
            if (s->branch[k].kind != RV_BRANCH_CONV && s->branch[k].kind != RV_BRANCH_IDENTITY)
                return rv_error(RV_EINVAL,
                                "training plan: block %d, branch %d: only conv and identity "
                                "branches can be trained",
                                i, k);
    }
    return RV_OK;
}

/* What the forward saves of block i. */
static rv_status build_block(rv_train_plan *p, int i)
{
    const rv_block_spec *s = rv_net_spec(p->net, i);
    rv_train_block *t = &p->blocks[i];
    int64_t O = p->shapes[i][1];
    rv_status st = alloc(p, &t->out, 4, p->shapes[i], "block output (training)");
    for (int k = 0; k < s->n_branches && st == RV_OK; k++) {
        const rv_branch_spec *bs = &s->branch[k];
        rv_train_branch *tb = &t->branch[k];
        if (bs->kind == RV_BRANCH_CONV && bs->bn) /* what its BN's backward reads */
            st = alloc(p, &tb->conv, 4, p->shapes[i], "branch conv output (training)");
        if (bs->bn && st == RV_OK) st = alloc_vec(p, &tb->mean, O, "BN batch mean");
        if (bs->bn && st == RV_OK) st = alloc_vec(p, &tb->invstd, O, "BN batch 1/std");
    }
    if (s->post_bn && st == RV_OK) st = alloc(p, &t->sum, 4, p->shapes[i], "sum before the BN");
    if (s->post_bn && st == RV_OK) st = alloc_vec(p, &t->post_mean, O, "BN batch mean");
    if (s->post_bn && st == RV_OK) st = alloc_vec(p, &t->post_invstd, O, "BN batch 1/std");
    return st;
}

/* Activation-gradient and scratch floats: grad[k] the largest output of the
 * blocks i with i % 2 == k; scratch[0] a BN'd or second branch's output,
 * scratch[1] a post-sum BN's input gradient, scratch[2] one branch's dx
 * while another's is in grad. And the largest workspace of any conv. */
static void sizes(const rv_train_plan *p, int64_t grad[2], int64_t scratch[3], size_t *ws)
{
    const rv_net *net = p->net;
    grad[0] = grad[1] = scratch[0] = scratch[1] = scratch[2] = 0;
    *ws = 0;
    for (int i = 0; i < net->n_blocks; i++) {
        const rv_block *b = &net->blocks[i];
        const rv_block_spec *s = &b->spec;
        int64_t n = numel4(p->shapes[i]), nin = numel4(in_shape(p, i));
        if (n > grad[i % 2]) grad[i % 2] = n;
        if (n > scratch[0]) scratch[0] = n;
        if (s->post_bn && n > scratch[1]) scratch[1] = n;
        if (i > 0 && s->n_branches > 1 && nin > scratch[2]) scratch[2] = nin;
        const int64_t *d = in_shape(p, i);
        rv_tensor x = {.ndim = 4, .dim = {d[0], d[1], d[2], d[3]}, .device = RV_CPU};
        for (int k = 0; k < s->n_branches; k++) {
            if (s->branch[k].kind != RV_BRANCH_CONV) continue;
            rv_conv_params cp = rv_branch_conv_params(s, &s->branch[k]);
            size_t f = rv_conv2d_workspace_bytes(&x, &b->branch[k].w, cp, NULL);
            size_t g = rv_conv2d_backward_workspace_bytes(&x, &b->branch[k].w, cp, i > 0, 1);
            *ws = f > *ws ? f : *ws;
            *ws = g > *ws ? g : *ws;
        }
    }
}

rv_status rv_train_plan_build(rv_train_plan *p, const rv_net *net, const int64_t in[4])
{
    memset(p, 0, sizeof *p);
    p->net = net;
    memcpy(p->in, in, sizeof p->in);
    rv_status st = check_net(net);
    if (st != RV_OK) return st;
    rv_tensor x = {.ndim = 4, .dim = {in[0], in[1], in[2], in[3]}, .device = RV_CPU};
    st = rv_net_block_shapes(net, &x, p->shapes);
    if (st != RV_OK) return st;
    int last = net->n_blocks - 1;
    int64_t N = in[0], C = p->shapes[last][1];
    p->classes = net->head_w.dim[0];
    if (net->head_w.ndim != 2 || net->head_w.dim[1] != C)
        return rv_error(RV_EINVAL,
                        "training plan: the head takes %lld features, the last block "
                        "gives %lld",
                        (long long)(net->head_w.ndim == 2 ? net->head_w.dim[1] : -1), (long long)C);
    p->blocks = calloc((size_t)net->n_blocks, sizeof *p->blocks);
    /* at most 4 a branch and 2 a post-sum BN a block, and the head's 2 */
    p->slots = calloc((size_t)net->n_blocks * (4 * RV_MAX_BRANCHES + 2) + 2, sizeof *p->slots);
    if (!p->blocks || !p->slots) {
        rv_train_plan_free(p);
        return rv_error(RV_ENOMEM, "training plan: cannot hold %d blocks", net->n_blocks);
    }
    st = alloc(p, &p->input, 4, in, "training batch");
    for (int i = 0; i < net->n_blocks && st == RV_OK; i++) st = build_block(p, i);
    int64_t feat[2] = {N, C}, logits[2] = {N, p->classes};
    if (st == RV_OK) st = alloc(p, &p->features, 2, feat, "pooled features");
    if (st == RV_OK) st = alloc(p, &p->dfeatures, 2, feat, "pooled features' gradient");
    if (st == RV_OK) st = alloc(p, &p->logits, 2, logits, "logits");
    if (st == RV_OK) st = alloc(p, &p->dlogits, 2, logits, "logits' gradient");
    int64_t grad[2], scratch[3];
    size_t ws;
    sizes(p, grad, scratch, &ws);
    for (int k = 0; k < 2 && st == RV_OK; k++)
        if (grad[k]) st = alloc_vec(p, &p->grad[k], grad[k], "activation gradient");
    for (int k = 0; k < 3 && st == RV_OK; k++)
        if (scratch[k]) st = alloc_vec(p, &p->scratch[k], scratch[k], "training scratch");
    if (st == RV_OK && ws)
        st = alloc_vec(p, &p->workspace, (int64_t)((ws + sizeof(float) - 1) / sizeof(float)),
                       "training workspace");
    if (st == RV_OK) list_slots(p);
    for (int i = 0; i < p->n_params && st == RV_OK; i++) /* a gradient shaped as its parameter */
        st = alloc_like(p, grad_in(p, &p->slots[i]), param_in(net, &p->slots[i]), "gradient");
    if (st != RV_OK) rv_train_plan_free(p);
    return st;
}

static void free_all(rv_tensor *const *t, int n)
{
    for (int i = 0; i < n; i++) rv_tensor_free(t[i]);
}

void rv_train_plan_free(rv_train_plan *p)
{
    for (int i = 0; p->blocks && i < p->net->n_blocks; i++) {
        rv_train_block *t = &p->blocks[i];
        for (int k = 0; k < RV_MAX_BRANCHES; k++) {
            rv_train_branch *b = &t->branch[k];
            free_all((rv_tensor *[]){&b->conv, &b->mean, &b->invstd, &b->dw, &b->db, &b->dgamma,
                                     &b->dbeta},
                     7);
        }
        free_all((rv_tensor *[]){&t->sum, &t->post_mean, &t->post_invstd, &t->post_dgamma,
                                 &t->post_dbeta, &t->out},
                 6);
    }
    free_all((rv_tensor *[]){&p->input, &p->features, &p->logits, &p->dlogits, &p->dfeatures,
                             &p->dhead_w, &p->dhead_b, &p->grad[0], &p->grad[1], &p->scratch[0],
                             &p->scratch[1], &p->scratch[2], &p->workspace},
             13);
    free(p->blocks);
    free(p->slots);
    memset(p, 0, sizeof *p);
}

size_t rv_train_plan_bytes(const rv_train_plan *p) { return p->bytes; }

rv_status rv_train_params(rv_train_plan *p, rv_net *net, rv_train_param *out)
{
    if (net != p->net)
        return rv_error(RV_EINVAL, "training plan: its parameters are listed for the net it was "
                                   "built from");
    for (int i = 0; i < p->n_params; i++) {
        const rv_train_slot *s = &p->slots[i];
        out[i] = (rv_train_param){
            .param = param_in_writable(net, s), .grad = grad_in(p, s), .kind = s->kind};
        memcpy(out[i].name, s->name, sizeof out[i].name);
    }
    return RV_OK;
}

/* --- the step ---------------------------------------------------------------------- */

/* Block i in training mode: each branch (conv, its BN with batch statistics)
 * summed, the post-sum BN, ReLU; the conv outputs, the sum and the output
 * saved in the plan, every BN's running statistics updated. */
static rv_status block_forward(rv_train_plan *p, rv_net *net, int i)
{
    rv_block *b = &net->blocks[i];
    const rv_block_spec *s = &b->spec;
    rv_train_block *t = &p->blocks[i];
    const rv_tensor *x = i ? &p->blocks[i - 1].out : &p->input;
    rv_tensor *acc = s->post_bn ? &t->sum : &t->out;
    rv_tensor tmp = view(&p->scratch[0], 4, p->shapes[i]);
    rv_conv_exec e = exec_of(p);
    rv_status st = RV_OK;
    for (int k = 0; k < s->n_branches && st == RV_OK; k++) {
        const rv_branch_spec *bs = &s->branch[k];
        rv_branch *br = &b->branch[k];
        rv_train_branch *tb = &t->branch[k];
        const rv_tensor *term = x; /* the branch's output: x itself for a bare identity */
        rv_tensor *dst = k == 0 ? acc : &tmp;
        if (bs->kind == RV_BRANCH_CONV) { /* a conv with no BN: nothing of it is saved */
            rv_tensor *out = bs->bn ? &tb->conv : dst;
            st = rv_conv2d_run(x, &br->w, bs->bias ? &br->b : NULL, rv_branch_conv_params(s, bs),
                               &e, out);
            term = out;
        }
        if (st == RV_OK && bs->bn) {
            st = rv_bn_train_forward(term, &br->bn, RV_BN_MOMENTUM, dst, &tb->mean, &tb->invstd);
            term = dst;
        }
        if (st == RV_OK)
            st =
                k == 0 ? (term == acc ? RV_OK : rv_tensor_copy(acc, term)) : rv_add(acc, term, acc);
    }
    if (st == RV_OK && s->post_bn)
        st = rv_bn_train_forward(&t->sum, &b->post, RV_BN_MOMENTUM, &t->out, &t->post_mean,
                                 &t->post_invstd);
    if (st == RV_OK && !s->no_relu) st = rv_relu(&t->out, &t->out);
    return st;
}

rv_status rv_train_forward(rv_train_plan *p, rv_net *net, const rv_tensor *x, const int32_t *labels,
                           double *loss)
{
    if (net != p->net)
        return rv_error(RV_EINVAL, "training forward: not the net the plan was built from");
    if (!labels || !loss)
        return rv_error(RV_EINVAL, "training forward: the labels and the loss are needed");
    if (x->ndim != 4 || memcmp(x->dim, p->in, sizeof p->in) != 0 || x->device != RV_CPU)
        return rv_error(RV_EINVAL,
                        "training forward: the batch is not shaped as the plan's "
                        "(%lld, %lld, %lld, %lld), on the CPU",
                        (long long)p->in[0], (long long)p->in[1], (long long)p->in[2],
                        (long long)p->in[3]);
    p->forward_done = 0;
    rv_status st = rv_tensor_copy(&p->input, x);
    for (int i = 0; i < net->n_blocks && st == RV_OK; i++) st = block_forward(p, net, i);
    if (st == RV_OK) st = rv_global_avgpool(&p->blocks[net->n_blocks - 1].out, &p->features);
    if (st == RV_OK) st = rv_linear(&p->features, &net->head_w, &net->head_b, &p->logits);
    if (st == RV_OK) st = rv_softmax_xent(&p->logits, labels, loss, &p->dlogits);
    p->forward_done = st == RV_OK;
    return st;
}

/* Block i's backward: the gradient of its output in grad[i % 2] (consumed),
 * its parameters' gradients, and (i > 0) its input's into grad[(i - 1) % 2]. */
static rv_status block_backward(rv_train_plan *p, int i)
{
    const rv_block *b = &p->net->blocks[i];
    const rv_block_spec *s = &b->spec;
    rv_train_block *t = &p->blocks[i];
    const rv_tensor *x = i ? &p->blocks[i - 1].out : &p->input;
    rv_tensor g = view(&p->grad[i % 2], 4, p->shapes[i]);
    rv_tensor dconv = view(&p->scratch[0], 4, p->shapes[i]);
    rv_tensor dsum = {0}, dx_buf = {0}, dxk = {0}, *dx = NULL;
    if (s->post_bn) dsum = view(&p->scratch[1], 4, p->shapes[i]);
    if (i > 0) {
        dx_buf = view(&p->grad[(i - 1) % 2], 4, p->shapes[i - 1]);
        dx = &dx_buf;
        if (s->n_branches > 1) dxk = view(&p->scratch[2], 4, p->shapes[i - 1]);
    }
    rv_conv_exec e = exec_of(p);
    rv_status st = s->no_relu ? RV_OK : rv_relu_backward(&t->out, &g, &g);
    const rv_tensor *ds = &g;
    if (st == RV_OK && s->post_bn) {
        st = rv_bn_train_backward(&t->sum, &g, &b->post, &t->post_mean, &t->post_invstd, &dsum,
                                  &t->post_dgamma, &t->post_dbeta);
        ds = &dsum;
    }
    for (int k = 0; k < s->n_branches && st == RV_OK; k++) {
        const rv_branch_spec *bs = &s->branch[k];
        const rv_branch *br = &b->branch[k];
        rv_train_branch *tb = &t->branch[k];
        const rv_tensor *dc = ds; /* the gradient of the branch's conv output (or of x) */
        if (bs->bn) {
            const rv_tensor *bn_in = bs->kind == RV_BRANCH_CONV ? &tb->conv : x;
            st = rv_bn_train_backward(bn_in, ds, &br->bn, &tb->mean, &tb->invstd, &dconv,
                                      &tb->dgamma, &tb->dbeta);
            dc = &dconv;
        }
        /* the first branch writes dx, the others add theirs to it */
        if (st == RV_OK && bs->kind == RV_BRANCH_CONV) {
            rv_tensor *into = dx && k > 0 ? &dxk : dx;
            st = rv_conv2d_backward_run(x, &br->w, dc, rv_branch_conv_params(s, bs), &e, into,
                                        &tb->dw, bs->bias ? &tb->db : NULL);
            if (st == RV_OK && dx && k > 0) st = rv_add(dx, &dxk, dx);
        } else if (st == RV_OK && dx) {
            st = k > 0 ? rv_add(dx, dc, dx) : rv_tensor_copy(dx, dc);
        }
    }
    return st;
}

rv_status rv_train_backward(rv_train_plan *p)
{
    if (!p->forward_done)
        return rv_error(RV_EINVAL, "training backward: no forward of its own before it");
    const rv_net *net = p->net;
    int last = net->n_blocks - 1;
    rv_tensor g = view(&p->grad[last % 2], 4, p->shapes[last]);
    rv_status st = rv_linear_backward(&p->features, &net->head_w, &p->dlogits, &p->dfeatures,
                                      &p->dhead_w, &p->dhead_b);
    if (st == RV_OK) st = rv_global_avgpool_backward(&p->dfeatures, &g);
    for (int i = last; i >= 0 && st == RV_OK; i--) st = block_backward(p, i);
    p->forward_done = 0;
    return st;
}
