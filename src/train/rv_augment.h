/* rv_augment.h - random crops and horizontal flips of a batch of images.
 *
 * The augmentation of the usual small-image recipe (torchvision's
 * RandomCrop(size, padding = pad) then RandomHorizontalFlip(0.5)), image by
 * image: the image (C, H, W) gets a border of pad pixels of value fill on
 * every side, a window of H x W at offset (oy, ox), each in 0..2 pad, is cut
 * from it, and that window is mirrored left to right when flip is 1:
 *   y[c][i][j] = xp[c][i + oy][jj + ox],  jj = flip ? W - 1 - j : j,
 *   xp[c][u][v] = x[c][u - pad][v - pad] inside x, fill outside.
 * Offsets (pad, pad) and no flip give the image back.
 *
 * The draws and the copy are apart: rv_augment_draw takes, per image, oy,
 * ox (uniform in 0..2 pad) and flip (1 with probability 1/2) from an rv_rng
 * stream, in that order, image after image; rv_augment_apply does what the
 * draws say. A seed names every batch bit for bit, and a test can hand
 * apply the offsets it wants.
 *
 * fill is in the units of x: on normalised images 0 is the training set's
 * mean pixel, and -mean / std (rv_fashion.h) a black pixel, Fashion-MNIST's
 * background, which is what RandomCrop on the raw image pads with.
 */
#ifndef RV_AUGMENT_H
#define RV_AUGMENT_H

#include <stdint.h>

#include "rv_rng.h"
#include "rv_tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int pad;    /* border on each side, 0..4096: 2 pixels */
    int flip;   /* 1: mirror left to right with probability 1/2; 0: never */
    float fill; /* the border's value, in the units of x */
} rv_augment_params;

/* What one image gets. */
typedef struct {
    int oy, ox; /* the window's offset in the padded image, each in 0..2 pad */
    int flip;   /* 1: mirrored */
} rv_augment_draw;

/* d[0..n) := n draws from r under p (flip always 0 when p->flip is 0, and
 * then no draw is taken for it). */
rv_status rv_augment_draws(rv_rng *r, const rv_augment_params *p, int64_t n, rv_augment_draw *d);

/* y := x augmented image by image as d says. x and y: (N, C, H, W) on the
 * CPU, same shape, different memory; d: N draws, each within 0..2 pad
 * (RV_EINVAL, naming the image, otherwise, with y as it was). */
rv_status rv_augment_apply(const rv_tensor *x, const rv_augment_draw *d, const rv_augment_params *p,
                           rv_tensor *y);

#ifdef __cplusplus
}
#endif
#endif
