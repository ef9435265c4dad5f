/* rv_exec.h - how the ops run: the options a plan is built from, and what
 * a plan prepared for one conv.
 *
 * The library keeps no execution switch of its own. Every choice that
 * changes how a network runs, not what it computes (Winograd or im2col, the
 * Winograd tile, which kernel runs the products, the chunk and workspace
 * budgets, TF32 on a GPU), is a field of rv_options, given to rv_plan_build
 * (rv_plan.h), which turns it into one rv_conv_exec per conv: the weights
 * prepared for the chosen path, the kernel they were prepared for, and the
 * workspace the plan owns. A conv run without one (rv_conv2d) takes the
 * plain path: im2col + OpenBLAS on the CPU, im2col + cuBLAS on a GPU.
 *
 * Zero is every field's default, the library's own choice: build options
 * with designated initialisers (.no_winograd = 1), as conv parameters.
 */
#ifndef RV_EXEC_H
#define RV_EXEC_H

#include <stddef.h>

#include "rv_tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Which code multiplies a layer's weights on the CPU (rv_gemm.h). */
typedef enum {
    RV_GEMM_AUTO = 0, /* the widest packed-weights kernel this CPU runs, else OpenBLAS */
    RV_GEMM_OPENBLAS, /* every product through OpenBLAS, nothing packed (what packing buys) */
    RV_GEMM_AVX2,     /* the AVX2 + FMA kernel: an error on a CPU without it */
    RV_GEMM_AVX512    /* the AVX-512 kernel: an error on a CPU (or build) without it */
} rv_gemm_choice;

typedef struct {
    int no_winograd;   /* every stride-1 3x3 conv as im2col too (what Winograd buys) */
    int winograd_tile; /* 0: F(2x2) or F(4x4) by the layer's shape (rv_winograd_tile); 2 or 4 */
    rv_gemm_choice gemm;
    /* Winograd runs the batch in chunks of images whose transformed input
     * and output fit in this many bytes, at least one image; 0: by who runs
     * the products (rv_winograd.h). Tests set 1: one image a chunk. */
    size_t winograd_chunk_bytes;
    /* A GPU's im2col runs the batch in chunks whose columns fit in this
     * many bytes, at least one image; 0: RV_CUDA_COL_BYTES. */
    size_t cuda_col_bytes;
    int tf32; /* a GPU's products on TF32 tensor cores (FP32 otherwise) */
} rv_options;

/* 512 MiB: a small part of a GPU's memory, yet the largest layer of
 * RepVGG-A0 at 224x224 (5.4 MB of columns an image) runs 99 images a chunk. */
#define RV_CUDA_COL_BYTES ((size_t)512 << 20)

/* A packed-weights kernel (rv_gemm.h); NULL stands for OpenBLAS. */
typedef struct rv_gemm_kernel rv_gemm_kernel;

/* What a plan prepared for one conv. {0}: the plain path. */
typedef struct {
    const rv_tensor *winograd;  /* the weight in the Winograd domain, made for gemm, or NULL */
    const rv_tensor *packed;    /* else the weight packed for gemm, or NULL */
    const rv_gemm_kernel *gemm; /* the kernel both were made for; NULL: OpenBLAS */
    size_t winograd_chunk_bytes;
    size_t cuda_col_bytes;
    /* The plan's workspace, at least rv_conv2d_workspace_bytes of this
     * conv; NULL: the library's shared one (rv_workspace), grown on demand. */
    const rv_tensor *workspace;
} rv_conv_exec;

/* *ws = `bytes` of scratch on dev for an op run with e (e may be NULL):
 * e's workspace, or the shared one. RV_EINVAL when e's is smaller (a plan
 * made for another shape or thread count), RV_ENOMEM when memory runs out. */
rv_status rv_exec_workspace(const rv_conv_exec *e, rv_device dev, size_t bytes, float **ws);

#ifdef __cplusplus
}
#endif
#endif
