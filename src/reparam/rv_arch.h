/* rv_arch.h - RepVGG architectures: the paper's presets and their blocks.
 *
 * A network is five stages (the notebook's RepVGG(widths, depths) with the
 * stem as stage 0): stage s has depths[s] blocks of widths[s] output channels;
 * the first block of every stage has stride 2, the others stride 1.
 * Presets (the paper, Table 2): widths [min(64, 64a), 64a, 128a, 256a, 512b],
 * depths A: 1, 2, 4, 14, 1 and B: 1, 4, 6, 16, 1. The grouped variants (g2,
 * g4) use `groups` on the layers numbered 2, 4, ..., 26 counting the stem as
 * layer 0, as in the paper's reference code. F0 is not the paper's: a small
 * net for Fashion-MNIST's 28x28 images (arch.c says why its widths).
 */
#ifndef RV_ARCH_H
#define RV_ARCH_H

#include "rv_block.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RV_STAGES 5
#define RV_MAX_BLOCKS 64

typedef struct {
    char name[16];
    int64_t widths[RV_STAGES];
    int depths[RV_STAGES];
    int groups; /* for the grouped layers; 1 = none */
} rv_arch;

/* "A0", "A1", "A2", "B0", "B1", "B1g2", "B1g4", "B2", "B2g2", "B2g4", "B3",
 * "B3g2", "B3g4", "F0"; RV_EINVAL naming the choices otherwise. */
rv_status rv_arch_preset(const char *name, rv_arch *out);
extern const char *const rv_arch_preset_names;

/* The blocks of `a` in order, for an input of in_ch channels (3 for RGB). */
rv_status rv_arch_specs(const rv_arch *a, int64_t in_ch, rv_block_spec *specs, int *n);

#ifdef __cplusplus
}
#endif
#endif
