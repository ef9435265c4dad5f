/* arch.c - the paper's RepVGG presets and the block list of an architecture. */
#include <stdio.h>
#include <string.h>

#include "rv_arch.h"

const char *const rv_arch_preset_names = "A0, A1, A2, B0, B1, B1g2, B1g4, B2, B2g2, B2g4, B3, "
                                         "B3g2, B3g4, F0";

/* F0: a RepVGG for Fashion-MNIST's 28x28 grayscale images (not the paper's).
 * Widths 16, 32, 64, 128, 256 and depths 1, 2, 2, 2, 1: 0.66 M parameters
 * at train time, 3 M multiply-adds per image, so an epoch of 60,000
 * images takes minutes on two cores. It keeps the paper's stride rule (every
 * stage starts with stride 2: 28 -> 14 -> 7 -> 4 -> 2 -> 1), so every loader
 * and `repvgg convert` read its files as they read the paper's; a stride-1
 * first stage would see 28x28, at 4x the multiply-adds of every layer after it,
 * and would need the stride in the file's metadata. */
static const rv_arch fashion_f0 = {
    .name = "F0", .widths = {16, 32, 64, 128, 256}, .depths = {1, 2, 2, 2, 1}, .groups = 1};

static const struct {
    const char *family;
    double a, b;
    char kind; /* 'A' or 'B' depths */
} presets[] = {
    {"A0", 0.75, 2.5, 'A'}, {"A1", 1.0, 2.5, 'A'}, {"A2", 1.5, 2.75, 'A'}, {"B0", 1.0, 2.5, 'B'},
    {"B1", 2.0, 4.0, 'B'},  {"B2", 2.5, 5.0, 'B'}, {"B3", 3.0, 5.0, 'B'},
};

rv_status rv_arch_preset(const char *name, rv_arch *out)
{
    if (strcmp(name, fashion_f0.name) == 0) {
        *out = fashion_f0;
        return RV_OK;
    }
    static const int depth_a[RV_STAGES] = {1, 2, 4, 14, 1}, depth_b[RV_STAGES] = {1, 4, 6, 16, 1};
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++) {
        size_t len = strlen(presets[i].family);
        if (strncmp(name, presets[i].family, len) != 0) continue;
        const char *suffix = name + len;
        int groups = 1;
        if (presets[i].kind == 'B' && presets[i].a > 1.0 && strcmp(suffix, "g2") == 0)
            groups = 2;
        else if (presets[i].kind == 'B' && presets[i].a > 1.0 && strcmp(suffix, "g4") == 0)
            groups = 4;
        else if (*suffix)
            break;
        memset(out, 0, sizeof *out);
        snprintf(out->name, sizeof out->name, "%s", name);
        double a = presets[i].a, b = presets[i].b;
        double w[RV_STAGES] = {64 * a < 64 ? 64 * a : 64, 64 * a, 128 * a, 256 * a, 512 * b};
        for (int s = 0; s < RV_STAGES; s++) {
            out->widths[s] = (int64_t)w[s];
            out->depths[s] = presets[i].kind == 'A' ? depth_a[s] : depth_b[s];
        }
        out->groups = groups;
        return RV_OK;
    }
    return rv_error(RV_EINVAL, "--arch: unknown architecture '%s' (choose one of %s)", name,
                    rv_arch_preset_names);
}

rv_status rv_arch_specs(const rv_arch *a, int64_t in_ch, rv_block_spec *specs, int *n)
{
    int k = 0;
    for (int s = 0; s < RV_STAGES; s++) {
        if (a->widths[s] < 1 || a->depths[s] < 1)
            return rv_error(RV_EINVAL, "arch %s: stage %d needs a width and a depth >= 1", a->name,
                            s);
        for (int d = 0; d < a->depths[s]; d++, k++) {
            if (k >= RV_MAX_BLOCKS)
                return rv_error(RV_EINVAL, "arch %s: more than %d blocks", a->name, RV_MAX_BLOCKS);
            int stride = d == 0 ? 2 : 1;
            /* the grouped layers: even indices from 2 to 26, stem = 0 */
            int groups = (k >= 2 && k <= 26 && k % 2 == 0) ? a->groups : 1;
            rv_status st = rv_repvgg_block_spec(in_ch, a->widths[s], stride, groups, &specs[k]);
            if (st != RV_OK) return st;
            in_ch = a->widths[s];
        }
    }
    *n = k;
    return RV_OK;
}
