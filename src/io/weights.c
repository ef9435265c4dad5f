/* weights.c - a RepVGG network to and from named tensors (see rv_weights.h).
 *
 * Every tensor of a block has a slot; a slot's name is the block's prefix
 * (block_prefix) and the slot's suffix (slot_suffix), both per layout, so the
 * reader and the writer share one naming table.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rv_weights.h"

/* The slots of a block: four weights, then three BNs of four slots each
 * (gamma, beta, running_mean, running_var). */
enum {
    W3 = 0, /* 3x3 conv weight */
    W1,     /* 1x1 conv weight */
    WF,     /* fused (deploy-time) weight */
    BF,     /* fused bias */
    BN3 = 4,
    BN1 = 8,
    BNID = 12,
    SLOTS = 16
};
#define MAX_STAGES 8

static const char *const bn_field[4] = {"weight", "bias", "running_mean", "running_var"};
static const char *const role_name[2][7] = {
    [RV_LAYOUT_NOTEBOOK] = {"block.0.weight", "shortcut.0.weight", "conv.weight", "conv.bias",
                            "block.1.", "shortcut.1.", "identity."},
    [RV_LAYOUT_OFFICIAL] = {"rbr_dense.conv.weight", "rbr_1x1.conv.weight", "rbr_reparam.weight",
                            "rbr_reparam.bias", "rbr_dense.bn.", "rbr_1x1.bn.", "rbr_identity."},
};

const char *rv_layout_name(rv_layout l)
{
    return l == RV_LAYOUT_OFFICIAL ? "official" : "notebook";
}

rv_status rv_layout_parse(const char *s, rv_layout *out)
{
    if (strcmp(s, "notebook") == 0)
        *out = RV_LAYOUT_NOTEBOOK;
    else if (strcmp(s, "official") == 0)
        *out = RV_LAYOUT_OFFICIAL;
    else
        return rv_error(RV_EINVAL, "--layout: expected notebook or official, got '%s'", s);
    return RV_OK;
}

static void slot_suffix(rv_layout l, int slot, char *buf, size_t len)
{
    if (slot < BN3)
        snprintf(buf, len, "%s", role_name[l][slot]);
    else
        snprintf(buf, len, "%s%s", role_name[l][4 + (slot - BN3) / 4], bn_field[(slot - BN3) % 4]);
}

static void block_prefix(rv_layout l, int s, int b, char *buf, size_t len)
{
    if (l == RV_LAYOUT_NOTEBOOK)
        snprintf(buf, len, "stages.%d.%d.", s, b);
    else if (s == 0)
        snprintf(buf, len, "stage0.");
    else
        snprintf(buf, len, "stage%d.%d.", s, b);
}

/* Splits "<block prefix><suffix>" into stage, block and slot; 0 if the name
 * is not a block tensor of layout l. */
static int parse_name(rv_layout l, const char *name, int *s, int *b, int *slot)
{
    int used = 0;
    *s = *b = 0;
    if (l == RV_LAYOUT_NOTEBOOK) {
        if (sscanf(name, "stages.%d.%d.%n", s, b, &used) != 2 || used == 0) return 0;
    } else if (strncmp(name, "stage0.", 7) == 0) {
        used = 7;
    } else if (sscanf(name, "stage%d.%d.%n", s, b, &used) != 2 || used == 0 || *s == 0) {
        return 0;
    }
    char prefix[64], suffix[64];
    if (*s < 0 || *s >= MAX_STAGES || *b < 0 || *b >= RV_MAX_BLOCKS) return 0;
    block_prefix(l, *s, *b, prefix, sizeof prefix);
    if (strncmp(name, prefix, strlen(prefix)) != 0 || (size_t)used != strlen(prefix)) return 0;
    for (*slot = 0; *slot < SLOTS; (*slot)++) {
        slot_suffix(l, *slot, suffix, sizeof suffix);
        if (strcmp(name + used, suffix) == 0) return 1;
    }
    return 0;
}

static rv_status detect_layout(const rv_named *ts, int n, const char *file, rv_layout *out)
{
    int notebook = 0, official = 0;
    for (int i = 0; i < n; i++) {
        notebook |= strncmp(ts[i].name, "stages.", 7) == 0;
        official |=
            strncmp(ts[i].name, "stage0.", 7) == 0 || strncmp(ts[i].name, "stage1.", 7) == 0;
    }
    if (notebook == official)
        return rv_error(RV_EFORMAT, "%s: %s", file,
                        notebook ? "tensor names mix the notebook and official layouts"
                                 : "no RepVGG tensors (expected stages.* or stage0.* names)");
    *out = notebook ? RV_LAYOUT_NOTEBOOK : RV_LAYOUT_OFFICIAL;
    return RV_OK;
}

typedef struct {
    const rv_tensor *slot[MAX_STAGES][RV_MAX_BLOCKS][SLOTS];
    const rv_tensor *head_w, *head_b;
    int depth[MAX_STAGES], stages;
} table;

static rv_status fill_table(const rv_named *ts, int n, const char *file, rv_layout l, table *t)
{
    for (int i = 0; i < n; i++) {
        int s, b, slot;
        const rv_tensor **dst;
        if (l == RV_LAYOUT_OFFICIAL && strcmp(ts[i].name, "linear.weight") == 0)
            dst = &t->head_w;
        else if (l == RV_LAYOUT_OFFICIAL && strcmp(ts[i].name, "linear.bias") == 0)
            dst = &t->head_b;
        else if (parse_name(l, ts[i].name, &s, &b, &slot))
            dst = &t->slot[s][b][slot];
        else
            return rv_error(RV_EFORMAT, "%s: unexpected tensor '%s' for the %s layout", file,
                            ts[i].name, rv_layout_name(l));
        if (*dst) return rv_error(RV_EFORMAT, "%s: tensor '%s' appears twice", file, ts[i].name);
        *dst = &ts[i].t;
        const float *v = ts[i].t.data;
        for (int64_t k = 0; k < rv_tensor_numel(&ts[i].t); k++)
            if (!isfinite(v[k]))
                return rv_error(RV_EFORMAT, "%s: tensor '%s' holds %s at element %lld", file,
                                ts[i].name, isnan(v[k]) ? "NaN" : "Inf", (long long)k);
        if (dst != &t->head_w && dst != &t->head_b) {
            if (b + 1 > t->depth[s]) t->depth[s] = b + 1;
            if (s + 1 > t->stages) t->stages = s + 1;
        }
    }
    return RV_OK;
}

/* The name of slot `slot` of block (s, b), for messages and for writing. */
static void full_name(rv_layout l, int s, int b, int slot, char *buf, size_t len)
{
    char prefix[64], suffix[64];
    block_prefix(l, s, b, prefix, sizeof prefix);
    slot_suffix(l, slot, suffix, sizeof suffix);
    snprintf(buf, len, "%s%s", prefix, suffix);
}

static int has_shape(const rv_tensor *t, int ndim, int64_t a, int64_t b, int64_t c, int64_t d)
{
    int64_t want[4] = {a, b, c, d};
    if (t->ndim != ndim) return 0;
    for (int i = 0; i < ndim; i++)
        if (t->dim[i] != want[i]) return 0;
    return 1;
}

typedef struct {
    const table *t;
    const char *file;
    rv_layout l;
    int s, b;
} block_ctx;

static rv_status need(const block_ctx *c, int slot, const rv_tensor **out)
{
    *out = c->t->slot[c->s][c->b][slot];
    if (*out) return RV_OK;
    char name[128];
    full_name(c->l, c->s, c->b, slot, name, sizeof name);
    return rv_error(RV_EFORMAT, "%s: missing tensor '%s'", c->file, name);
}

static rv_status bad_shape(const block_ctx *c, int slot, const rv_tensor *t, const char *want)
{
    char name[128], got[64];
    full_name(c->l, c->s, c->b, slot, name, sizeof name);
    return rv_error(RV_EFORMAT, "%s: tensor '%s' has shape %s, expected %s", c->file, name,
                    rv_tensor_shape_str(t, got, sizeof got), want);
}

/* RepVGG's branches, in rv_repvgg_block_spec's order */
enum { BRANCH_3X3 = 0, BRANCH_1X1 = 1, BRANCH_ID = 2 };

/* Works out the block's spec from its weight (3x3 or fused) and in_ch. */
static rv_status block_spec(const block_ctx *c, int deploy, int64_t in_ch, rv_block_spec *spec)
{
    const rv_tensor *w;
    int slot = deploy ? WF : W3;
    rv_status st = need(c, slot, &w);
    if (st != RV_OK) return st;
    char want[96];
    if (w->ndim != 4 || w->dim[2] != 3 || w->dim[3] != 3 || w->dim[1] < 1 ||
        (in_ch > 0 && (in_ch % w->dim[1] || w->dim[0] % (in_ch / w->dim[1])))) {
        snprintf(want, sizeof want,
                 "(out, %lld/groups, 3, 3) with groups dividing both channel counts",
                 (long long)(in_ch > 0 ? in_ch : 3));
        return bad_shape(c, slot, w, want);
    }
    if (in_ch <= 0) in_ch = w->dim[1]; /* the stem: groups 1 */
    int stride = c->b == 0 ? 2 : 1;
    st = rv_repvgg_block_spec(in_ch, w->dim[0], stride, (int)(in_ch / w->dim[1]), spec);
    if (st != RV_OK) return st;
    const rv_tensor *const *id = c->t->slot[c->s][c->b] + BNID;
    int has_identity = id[0] || id[1] || id[2] || id[3];
    if (has_identity && spec->n_branches <= BRANCH_ID) {
        char name[128];
        full_name(c->l, c->s, c->b, BNID + 3, name, sizeof name);
        return rv_error(RV_EFORMAT,
                        "%s: '%s': an identity branch needs in == out and stride 1, "
                        "this block is %lld -> %lld at stride %d (the notebook's stride bug?)",
                        c->file, name, (long long)spec->in_ch, (long long)spec->out_ch, stride);
    }
    if (!has_identity && spec->n_branches > BRANCH_ID) spec->n_branches = BRANCH_ID;
    if (deploy) *spec = rv_fused_block_spec(spec);
    return RV_OK;
}

/* A BN (four slots from first), checked, into bn (allocated, on the CPU). */
static rv_status load_bn(const block_ctx *c, int first, rv_bn *bn)
{
    int64_t channels = bn->channels;
    const rv_tensor *p[4];
    for (int k = 0; k < 4; k++) {
        rv_status st = need(c, first + k, &p[k]);
        if (st != RV_OK) return st;
        if (!has_shape(p[k], 1, channels, 0, 0, 0)) {
            char want[32];
            snprintf(want, sizeof want, "(%lld)", (long long)channels);
            return bad_shape(c, first + k, p[k], want);
        }
    }
    for (int64_t i = 0; i < channels; i++)
        if (p[3]->data[i] < 0.0f) {
            char name[128];
            full_name(c->l, c->s, c->b, first + 3, name, sizeof name);
            return rv_error(RV_EFORMAT,
                            "%s: tensor '%s' is negative (%g) at channel %lld: a "
                            "variance cannot be",
                            c->file, name, p[3]->data[i], (long long)i);
        }
    rv_tensor *dst[4] = {&bn->gamma, &bn->beta, &bn->mean, &bn->var};
    rv_status st = RV_OK;
    for (int k = 0; k < 4 && st == RV_OK; k++) st = rv_tensor_copy(dst[k], p[k]);
    return st;
}

/* The tensor of `slot`, checked against out's shape, copied into out. */
static rv_status load_weight(const block_ctx *c, int slot, rv_tensor *out)
{
    const rv_tensor *w;
    rv_status st = need(c, slot, &w);
    if (st != RV_OK) return st;
    if (!rv_tensor_same_shape(w, out)) {
        char want[64];
        return bad_shape(c, slot, w, rv_tensor_shape_str(out, want, sizeof want));
    }
    return rv_tensor_copy(out, w);
}

static rv_status load_block(const block_ctx *c, const rv_block_spec *sp, rv_device dev, rv_block *b)
{
    rv_status st = rv_block_alloc(b, *sp);
    rv_branch *br = b->branch;
    if (st == RV_OK && rv_block_is_fused(sp)) {
        st = load_weight(c, WF, &br[0].w);
        if (st == RV_OK) st = load_weight(c, BF, &br[0].b);
    } else if (st == RV_OK) {
        st = load_weight(c, W3, &br[BRANCH_3X3].w);
        if (st == RV_OK) st = load_bn(c, BN3, &br[BRANCH_3X3].bn);
        if (st == RV_OK) st = load_weight(c, W1, &br[BRANCH_1X1].w);
        if (st == RV_OK) st = load_bn(c, BN1, &br[BRANCH_1X1].bn);
        if (st == RV_OK && sp->n_branches > BRANCH_ID) st = load_bn(c, BNID, &br[BRANCH_ID].bn);
    }
    return st == RV_OK ? rv_block_to(b, dev) : st;
}

static rv_status load_head(const table *t, const char *file, int64_t channels, rv_device dev,
                           rv_net *net)
{
    if (!t->head_w && !t->head_b) return RV_OK;
    if (!t->head_w || !t->head_b)
        return rv_error(RV_EFORMAT, "%s: missing tensor 'linear.%s'", file,
                        t->head_w ? "bias" : "weight");
    const rv_tensor *w = t->head_w, *b = t->head_b;
    if (w->ndim != 2 || w->dim[1] != channels || !has_shape(b, 1, w->dim[0], 0, 0, 0))
        return rv_error(RV_EFORMAT,
                        "%s: linear.weight must be (classes, %lld) and linear.bias "
                        "(classes)",
                        file, (long long)channels);
    rv_status st = rv_tensor_clone(&net->head_w, w, dev, "linear.weight");
    return st == RV_OK ? rv_tensor_clone(&net->head_b, b, dev, "linear.bias") : st;
}

rv_status rv_weights_to_net(const rv_named *ts, int n, const char *file, rv_device dev, rv_net *net,
                            rv_layout *layout)
{
    memset(net, 0, sizeof *net);
    rv_status st = detect_layout(ts, n, file, layout);
    if (st != RV_OK) return st;
    table *t = calloc(1, sizeof *t); /* structure, not tensor data */
    if (!t) return rv_error(RV_ENOMEM, "%s: no memory to index the tensors", file);
    st = fill_table(ts, n, file, *layout, t);
    int blocks = 0, deploy = 0;
    for (int s = 0; s < t->stages && st == RV_OK; s++) {
        if (t->depth[s] == 0) st = rv_error(RV_EFORMAT, "%s: stage %d has no blocks", file, s);
        blocks += t->depth[s];
    }
    if (st == RV_OK && blocks > RV_MAX_BLOCKS)
        st = rv_error(RV_EFORMAT, "%s: %d blocks, more than %d", file, blocks, RV_MAX_BLOCKS);
    if (st == RV_OK) {
        deploy = t->slot[0][0][WF] != NULL;
        st = rv_net_alloc(net, blocks, dev);
    }
    int64_t in_ch = 0;
    for (int s = 0, i = 0; s < t->stages && st == RV_OK; s++)
        for (int b = 0; b < t->depth[s] && st == RV_OK; b++, i++) {
            block_ctx c = {t, file, *layout, s, b};
            const rv_tensor *const *slot = t->slot[s][b];
            /* every tensor of a block belongs to the file's form: a stray
             * train-time BN in a deploy-time file would otherwise be ignored */
            for (int k = 0; k < SLOTS && st == RV_OK; k++)
                if (slot[k] && deploy != (k == WF || k == BF)) {
                    char name[128];
                    full_name(*layout, s, b, k, name, sizeof name);
                    st = rv_error(RV_EFORMAT,
                                  "%s: '%s' is a %s tensor in a %s file: the forms are mixed", file,
                                  name, deploy ? "train-time" : "deploy-time",
                                  deploy ? "deploy-time" : "train-time");
                }
            if (st != RV_OK) break;
            rv_block_spec sp;
            st = block_spec(&c, deploy, in_ch, &sp);
            if (st == RV_OK) st = load_block(&c, &sp, dev, &net->blocks[i]);
            in_ch = sp.out_ch;
        }
    if (st == RV_OK) st = load_head(t, file, in_ch, dev, net);
    free(t);
    if (st != RV_OK) rv_net_free(net);
    return st;
}

/* Appends a host copy of src under `name`. */
static rv_status push(rv_named *out, int *n, const char *name, const rv_tensor *src)
{
    snprintf(out[*n].name, sizeof out[*n].name, "%s", name);
    rv_status st = rv_tensor_clone(&out[*n].t, src, RV_CPU, name);
    if (st == RV_OK) (*n)++;
    return st;
}

static rv_status push_slot(rv_named *out, int *n, rv_layout l, int s, int b, int slot,
                           const rv_tensor *src)
{
    char name[128];
    full_name(l, s, b, slot, name, sizeof name);
    return push(out, n, name, src);
}

static rv_status push_bn(rv_named *out, int *n, rv_layout l, int s, int b, int first,
                         const rv_bn *bn)
{
    const rv_tensor *p[4] = {&bn->gamma, &bn->beta, &bn->mean, &bn->var};
    rv_status st = RV_OK;
    for (int k = 0; k < 4 && st == RV_OK; k++) st = push_slot(out, n, l, s, b, first + k, p[k]);
    return st;
}

/* RepVGG's branches as rv_repvgg_block_spec lays them out, the identity
 * optional */
static int is_repvgg_block(const rv_block_spec *s)
{
    rv_block_spec r;
    if (rv_repvgg_block_spec(s->in_ch, s->out_ch, s->stride, s->groups, &r) != RV_OK ||
        s->n_branches < BRANCH_ID || s->n_branches > r.n_branches || s->post_bn || s->no_relu)
        return 0;
    for (int i = 0; i < s->n_branches; i++) {
        const rv_branch_spec *a = &s->branch[i], *b = &r.branch[i];
        if (a->kind != b->kind || a->kh != b->kh || a->kw != b->kw || a->pad_h != b->pad_h ||
            a->pad_w != b->pad_w || a->bn != b->bn || a->bias != b->bias)
            return 0;
    }
    return 1;
}

rv_status rv_net_to_weights(const rv_net *net, rv_layout layout, rv_named **out, int *n)
{
    *n = 0;
    *out = calloc((size_t)net->n_blocks * SLOTS + 2, sizeof **out);
    if (!*out) return rv_error(RV_ENOMEM, "no memory for the tensor list");
    rv_status st = RV_OK;
    for (int i = 0, s = -1, b = 0; i < net->n_blocks && st == RV_OK; i++) {
        const rv_block_spec *sp = rv_net_spec(net, i);
        if (sp->stride == 2 || i == 0) { /* a stage starts */
            s++;
            b = 0;
        } else {
            b++;
        }
        if (layout == RV_LAYOUT_OFFICIAL && s == 0 && b > 0) {
            st = rv_error(RV_EINVAL, "the official layout has one stem block; this net has more");
            break;
        }
        const rv_branch *br = net->blocks[i].branch;
        if (rv_block_is_fused(sp) && sp->kh == 3 && sp->kw == 3) {
            st = push_slot(*out, n, layout, s, b, WF, &br[0].w);
            if (st == RV_OK) st = push_slot(*out, n, layout, s, b, BF, &br[0].b);
            continue;
        }
        if (!is_repvgg_block(sp)) {
            st = rv_error(RV_EINVAL,
                          "block %d is not a RepVGG block (3x3 conv-BN, 1x1 conv-BN, "
                          "identity BN): the weight layouts name only those",
                          i);
            break;
        }
        st = push_slot(*out, n, layout, s, b, W3, &br[BRANCH_3X3].w);
        if (st == RV_OK) st = push_bn(*out, n, layout, s, b, BN3, &br[BRANCH_3X3].bn);
        if (st == RV_OK) st = push_slot(*out, n, layout, s, b, W1, &br[BRANCH_1X1].w);
        if (st == RV_OK) st = push_bn(*out, n, layout, s, b, BN1, &br[BRANCH_1X1].bn);
        if (st == RV_OK && sp->n_branches > BRANCH_ID)
            st = push_bn(*out, n, layout, s, b, BNID, &br[BRANCH_ID].bn);
    }
    if (st == RV_OK && net->head_w.data) {
        if (layout == RV_LAYOUT_NOTEBOOK)
            st = rv_error(RV_EINVAL, "the notebook layout has no classifier head");
        if (st == RV_OK) st = push(*out, n, "linear.weight", &net->head_w);
        if (st == RV_OK) st = push(*out, n, "linear.bias", &net->head_b);
    }
    if (st != RV_OK) {
        rv_named_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return st;
}
