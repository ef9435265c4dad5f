/* rv_block.h - a re-parameterizable block: a list of linear branches summed,
 * and the one fold that turns any such list into one conv with bias.
 *
 *     y = ReLU( post_bn( branch_1(x) + ... + branch_n(x) ) )
 *
 * A branch is a conv of any kernel size and padding (height and width apart)
 * optionally followed by BN, the identity optionally followed by BN, a k x k
 * average pool optionally followed by BN, or a 1x1 conv, BN, then a k x k conv
 * (or a k x k average pool) optionally followed by BN. Every branch is linear
 * in x, so the block is
 *
 *     y = ReLU( conv(x, W) + b )      with W, b = rv_block_switch_to_fast's fold:
 *
 * each branch as one conv (rv_branch_kernel), its BN folded in, its kernel
 * centred in the block's KH x KW, summed, the post-sum BN folded last
 * (rv_reparam.h has each rule). The deploy-time block is a block too: one
 * conv branch with bias and no BN.
 *
 * RepVGG's block (the notebook's RepVGGBlock, the paper's Fig. 2b) is the list
 *     { 3x3 conv + BN, 1x1 conv + BN, identity BN }          (rv_repvgg_block_spec)
 * with the identity only where in == out and stride == 1. (The notebook keeps
 * it whenever in == out, also at stride 2, where x and the other branches
 * differ in size: its RepVGG-A0 crashes. We follow the paper.) ACNet's is
 * { 3x3, 1x3, 3x1 }, each conv + BN (rv_acnet_block_spec); DBB's is
 * { 3x3, 1x1, 1x1 then average, 1x1 then 3x3 } (rv_dbb_block_spec, lesson
 * 08); MobileOne's is two blocks in sequence, a depthwise one and a pointwise
 * one (rv_mobileone.h, lesson 09); QARepVGG's is RepVGG's with a BN after the
 * sum instead of the 1x1's and the identity's (lesson 10).
 *
 * Build specs with designated initialisers: a field left out is zero, which
 * is each field's plain meaning (no BN, no bias, ReLU on, no post-sum BN).
 */
#ifndef RV_BLOCK_H
#define RV_BLOCK_H

#include "rv_bn.h"
#include "rv_exec.h"
#include "rv_ops.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RV_MAX_BRANCHES 8

/* Numbered from 1, so a spec left zero is no kind at all and refused. */
typedef enum {
    RV_BRANCH_CONV = 1, /* conv kh x kw, pad_h, pad_w (+ bias) (+ BN) */
    RV_BRANCH_IDENTITY, /* x (+ BN); in == out and stride 1 */
    RV_BRANCH_AVGPOOL,  /* kh x kh average pool, pad_h (+ BN); in == out */
    RV_BRANCH_1X1_KXK,  /* 1x1 conv to mid_ch, BN, kh x kw conv (+ BN) */
    RV_BRANCH_1X1_AVG   /* 1x1 conv to out_ch, BN, kh x kw average pool (+ BN): DBB's */
} rv_branch_kind;

typedef struct {
    rv_branch_kind kind;
    int kh, kw;       /* the conv's (or the pool's, or the second conv's) kernel */
    int pad_h, pad_w; /* its padding: the branch's output must line up with the block's */
    int bn;           /* a BN after the branch */
    int bias;         /* a conv with its own bias (CONV only) */
    int64_t mid_ch;   /* 1X1_KXK: channels between the two convs (0: the block's out_ch);
                       * 1X1_AVG: 0 or out_ch (a pool keeps the channels) */
    int zero_border;  /* 1X1_KXK, 1X1_AVG: pad the middle with zeros, not with the middle
                       * BN's shift: the fold is then wrong along the border (lesson 08) */
} rv_branch_spec;

typedef struct {
    int64_t in_ch, out_ch;
    int stride, groups;
    int kh, kw, pad_h, pad_w; /* the folded conv: every branch lines up inside it */
    int post_bn;              /* a BN after the sum (QARepVGG) */
    int no_relu;              /* no ReLU at the end */
    int n_branches;
    rv_branch_spec branch[RV_MAX_BRANCHES];
} rv_block_spec;

/* One branch's parameters, on the block's device (BN statistics on the CPU). */
typedef struct {
    rv_tensor w;  /* CONV (O, I/g, kh, kw); 1X1_KXK: the kxk (O, M/g, kh, kw) */
    rv_tensor b;  /* CONV with bias: (O) */
    rv_bn bn;     /* with spec.bn */
    rv_tensor w1; /* 1X1_KXK, 1X1_AVG: the 1x1 (M, I/g, 1, 1) */
    rv_bn bn1;    /* 1X1_KXK, 1X1_AVG: the BN between */
} rv_branch;

/* A block is its spec and its parameters: how it runs is a plan's
 * (rv_block_plan below, rv_plan.h for a network). */
typedef struct {
    rv_block_spec spec;
    rv_branch branch[RV_MAX_BRANCHES];
    rv_bn post; /* with spec.post_bn */
    rv_device device;
} rv_block;

/* A block of n branches (copied) that fold into a k x k conv with padding
 * k / 2 (k odd keeps the size at stride 1). */
rv_block_spec rv_block_spec_list(int64_t in_ch, int64_t out_ch, int stride, int groups, int k,
                                 int n, const rv_branch_spec *branches);
/* The paper's rule for RepVGG's identity branch, into *yes: in == out and
 * stride 1 (the step rv_step_wants_identity, rv_steps.h). */
rv_status rv_block_wants_identity(int64_t in_ch, int64_t out_ch, int stride, int *yes);
/* *spec = RepVGG's block: 3x3 conv-BN (pad 1), 1x1 conv-BN (pad 0), and the
 * identity BN where rv_block_wants_identity says so; the same stride and
 * groups. */
rv_status rv_repvgg_block_spec(int64_t in_ch, int64_t out_ch, int stride, int groups,
                               rv_block_spec *spec);
/* *spec = QARepVGG's block (Chu, Li and Zhang, "Make RepVGG Greater Again: A
 * Quantization-aware Approach", arXiv:2212.01593; the authors' default
 * QARepVGGBlockV2): RepVGG's list with no BN on the 1x1 and identity
 * branches and one BN after the sum; the 3x3 keeps its BN:
 *     y = ReLU( BN( BN3(conv3x3(x)) + conv1x1(x) + x ) ) */
rv_status rv_qarepvgg_block_spec(int64_t in_ch, int64_t out_ch, int stride, int groups,
                                 rv_block_spec *spec);
/* The plain VGG block with BN the paper compares against: one 3x3 conv-BN
 * (pad 1), no other branch, then ReLU: what the same network is without
 * re-parameterization. */
rv_block_spec rv_vgg_block_spec(int64_t in_ch, int64_t out_ch, int stride, int groups);
/* ACNet's asymmetric block: 3x3, 1x3 (pad 0, 1) and 3x1 (pad 1, 0), each conv-BN. */
rv_block_spec rv_acnet_block_spec(int64_t in_ch, int64_t out_ch, int stride, int groups);
/* DBB's block as its authors' code builds it for a 3x3 conv: 3x3 conv-BN, 1x1
 * conv-BN, 1x1 conv-BN then 3x3 average (1X1_AVG) + BN, and 1x1 conv (in_ch
 * channels) BN then 3x3 conv-BN; a depthwise block (groups == out_ch) has no
 * 1x1 conv-BN, a plain 3x3 average pool + BN, and 2 in_ch middle channels.
 * The middle BNs pad with their shift. */
rv_block_spec rv_dbb_block_spec(int64_t in_ch, int64_t out_ch, int stride, int groups);
/* The deploy-time block of the same geometry: one conv with bias, no BN. */
rv_block_spec rv_fused_block_spec(const rv_block_spec *s);
/* 1 when the spec is a deploy-time block (rv_fused_block_spec's shape). */
int rv_block_is_fused(const rv_block_spec *s);
/* RV_OK, or RV_EINVAL naming the first thing wrong with s (a branch that does
 * not line up, channels that do not split into groups, ...). */
rv_status rv_block_check(const rv_block_spec *s);
/* Index of the first branch of this kind, or -1. */
int rv_block_find_branch(const rv_block_spec *s, rv_branch_kind kind);
/* 1 for a branch that starts with a 1x1 conv and its BN (1X1_KXK, 1X1_AVG). */
int rv_branch_has_middle(const rv_branch_spec *b);
/* The channels between such a branch's 1x1 conv and its k x k step. */
int64_t rv_branch_mid_channels(const rv_block_spec *s, const rv_branch_spec *b);
/* The conv of branch b: its padding, the block's stride and groups; a
 * 1X1_KXK's kxk conv and a 1X1_AVG's pool read a middle already padded
 * with the BN's shift (so no padding) unless zero_border. */
rv_conv_params rv_branch_conv_params(const rv_block_spec *s, const rv_branch_spec *b);
/* The 1x1 conv a middle branch starts with: stride 1 (the k x k step
 * strides), no padding, the block's groups. */
rv_conv_params rv_branch_1x1_params(const rv_block_spec *s);
/* The average pool of an AVGPOOL or 1X1_AVG branch b: its kh x kw window,
 * with the stride and padding rv_branch_conv_params gives. */
rv_pool_params rv_branch_pool_params(const rv_block_spec *s, const rv_branch_spec *b);

/* Weights uniform in +-1/sqrt(fan_in) (PyTorch's conv init, biases too), BN
 * statistics from rv_bn_randomize; all from `r`, branch by branch, then put
 * on `dev`. */
rv_status rv_block_init_random(rv_block *b, rv_block_spec spec, rv_rng *r, rv_device dev);
/* A block with the spec's tensors allocated (BN at PyTorch's init), for
 * loaders that fill the weights themselves; on the CPU. */
rv_status rv_block_alloc(rv_block *b, rv_block_spec spec);
/* Moves the block's weights to dev (BN scale and shift prepared there). */
rv_status rv_block_to(rv_block *b, rv_device dev);
void rv_block_free(rv_block *b);
/* Output shape of the block for input x (checked against the spec). */
rv_status rv_block_out_shape(const rv_block_spec *spec, const rv_tensor *x, int64_t out[4]);
/* The conv parameters of the folded conv. */
rv_conv_params rv_block_conv_params(const rv_block_spec *s);

/* Branch i as one conv with bias before its own BN, on the host: CONV its
 * weight and bias (zeros if none); IDENTITY the identity kernel of the
 * block's KH x KW; AVGPOOL the pool's kernel; 1X1_KXK the merged kernel
 * (the middle BN folded in); 1X1_AVG the same with the pool's kernel as the
 * k x k one. *bn = the branch's BN, or NULL. Allocates w
 * (O, I/g, kh', kw') and bias (O); the caller frees them. */
rv_status rv_branch_kernel(const rv_block *b, int i, rv_tensor *w, rv_tensor *bias,
                           const rv_bn **bn);

/* The re-parameterization: *out = the deploy-time block (rv_fused_block_spec)
 * that computes the same function, on the same device as b. The fold itself
 * is rv_steps.h's rv_step_fold_block. */
rv_status rv_block_switch_to_fast(const rv_block *b, rv_block *out);

/* How each conv of a block runs, the way rv_plan_build chose for one
 * input shape and set of options (rv_exec.h). */
typedef enum {
    RV_PATH_NONE = 0,      /* no conv of its own (identity, average pool) */
    RV_PATH_IM2COL,        /* im2col + OpenBLAS, the plain path */
    RV_PATH_IM2COL_PACKED, /* im2col + the packed-weights kernel (rv_gemm.h) */
    RV_PATH_WINOGRAD_F2X2, /* Winograd F(2x2, 3x3), rv_winograd.h */
    RV_PATH_WINOGRAD_F4X4, /* Winograd F(4x4, 3x3) */
    RV_PATH_DEPTHWISE,     /* the direct depthwise loop (src/ops/depthwise.c) */
    RV_PATH_GPU            /* im2col + cuBLAS on a GPU */
} rv_conv_path;
/* "winograd F(4x4)", "im2col + packed", ...: for a plan's description. */
const char *rv_conv_path_name(rv_conv_path path);

/* What a block's forward needs for inputs of one shape (N, C, H, W): each
 * branch's conv weight prepared for its path once (Winograd-domain or
 * packed, on the CPU) and the middle buffer of 1X1_KXK and 1X1_AVG
 * branches. The block itself is not touched: build as many plans of one
 * block as there are shapes or options. */
typedef struct {
    rv_options opt;
    const rv_gemm_kernel *gemm; /* opt.gemm's kernel; NULL: OpenBLAS */
    int64_t in[4];
    rv_conv_path path[RV_MAX_BRANCHES];  /* branch i's conv (a middle branch's k x k one) */
    rv_tensor prepared[RV_MAX_BRANCHES]; /* its weight as that path takes it, or empty */
    rv_tensor middle;                    /* the middles, each followed by its padded copy */
} rv_block_plan;

rv_status rv_block_plan_build(rv_block_plan *bp, const rv_block *b, const int64_t in[4],
                              const rv_options *opt);
void rv_block_plan_free(rv_block_plan *bp);
/* Bytes the plan holds: prepared weights and middles. */
size_t rv_block_plan_bytes(const rv_block_plan *bp);
/* The most workspace any one conv of the block takes under this plan. */
size_t rv_block_plan_workspace_bytes(const rv_block_plan *bp, const rv_block *b);
/* How branch i's conv runs under bp (NULL: the plain path), with workspace
 * ws (NULL: the shared one). */
rv_conv_exec rv_block_conv_exec(const rv_block_plan *bp, int i, const rv_tensor *ws);

/* y = block(x) the way bp says (bp NULL: every conv on the plain path; a
 * block with 1X1_KXK or 1X1_AVG branches then needs a plan), with
 * workspace ws (at least rv_block_plan_workspace_bytes; NULL: the library's
 * shared one, grown on demand). tmp is scratch of y's shape (unused by a
 * deploy-time block, may then be NULL). */
rv_status rv_block_run(const rv_block *b, const rv_block_plan *bp, const rv_tensor *ws,
                       const rv_tensor *x, rv_tensor *tmp, rv_tensor *y);
/* rv_block_run(b, NULL, NULL, ...): the plain path. */
rv_status rv_block_forward(const rv_block *b, const rv_tensor *x, rv_tensor *tmp, rv_tensor *y);
/* A pass of its own that gives every BN of the block statistics calibrated
 * on its input as the block runs on x (rv_bn_calibrate: each BN in turn,
 * before it is applied), leaving y = the calibrated block(x). */
rv_status rv_block_calibrate_bn(rv_block *b, const rv_block_plan *bp, const rv_tensor *x,
                                rv_tensor *tmp, rv_tensor *y, rv_rng *r);

/* Learnable parameters, as PyTorch's parameters() counts them (conv weights
 * and biases, BN gamma and beta; running statistics are buffers). */
int64_t rv_block_params(const rv_block *b);
/* Multiply-adds of the block's convs for an n x h x w input. */
double rv_block_macs(const rv_block_spec *s, int64_t n, int64_t h, int64_t w);

/* A block in both forms with buffers, for lessons and benchmarks:
 * x (N, C, S, S) seeded in [-1, 1]; tmp, y (train-time) and yf (deploy-time)
 * shaped as the block's output. */
typedef struct {
    rv_block train;
    rv_block fast;
    rv_block_plan plan[2]; /* train's and fast's, for x */
    rv_tensor x, tmp, y, yf;
    size_t held[2]; /* activation bytes of each form: tmp and y, and yf */
} rv_block_pair;

rv_status rv_block_pair_build(rv_block_pair *p, rv_block_spec spec, rv_device dev, int n, int s,
                              uint64_t seed);
void rv_block_pair_free(rv_block_pair *p);
/* The two forms, as rv_fn (ctx: rv_block_pair *). */
rv_status rv_block_pair_train(void *ctx);
rv_status rv_block_pair_fast(void *ctx);

/* Branch i as rv_branch_kernel gives it, with the branch's own BN folded in
 * (rv_fuse_conv_bn): the conv the branch is. Summed over the branches,
 * centred by rv_pad_kernel, then the BN after the sum folded in once, they
 * are the folded conv. On the host; allocates w (O, I/g, kh', kw') and bias
 * (O), the caller frees them. */
rv_status rv_branch_kernel_fused(const rv_block *b, int i, rv_tensor *w, rv_tensor *bias);

#ifdef __cplusplus
}
#endif
#endif
