/* rv_batch.h - the order of the training images and the batches in that order.
 *
 * Each epoch visits the training set in a fresh random order: a permutation
 * of 0..n-1 drawn by Fisher and Yates's shuffle (Durstenfeld's in-place
 * form) from an rv_rng stream, so a seed names every epoch's order on every
 * machine. A batch is a run of that permutation: its images normalised as
 * rv_fashion_images does (x = (pixel / 255 - mean) / std) and its labels.
 * Augmentation (rv_augment.h) then reads the batch into a second tensor.
 * The trainer keeps the shuffle's rv_rng apart from augmentation's, so
 * turning augmentation off leaves the order as it was, and a checkpoint that
 * saves both states resumes both.
 */
#ifndef RV_BATCH_H
#define RV_BATCH_H

#include <stdint.h>

#include "rv_fashion.h"
#include "rv_rng.h"
#include "rv_tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* perm (n) := a uniformly random permutation of 0..n-1, drawn from r
 * (n - 1 draws, each exactly uniform: rejection, not a biased modulo). */
rv_status rv_shuffle(rv_rng *r, int64_t n, int64_t *perm);

/* x (count, 1, 28, 28) on the CPU and labels (count), count = x's first
 * dimension, := the images and labels of d at idx[0..count), normalised
 * with mean and std. An index outside d is RV_EINVAL, named, with x and
 * labels as they were. */
rv_status rv_batch_fill(const rv_fashion *d, const int64_t *idx, double mean, double std,
                        rv_tensor *x, int32_t *labels);

#ifdef __cplusplus
}
#endif
#endif
