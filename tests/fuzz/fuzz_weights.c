/* fuzz_weights.c - libFuzzer target: the architecture inference from tensor
 * names and shapes (rv_weights_to_net).
 *
 * The input is text, one tensor a line: "name d0 d1 ...", e.g.
 * "stages.0.0.block.0.weight 8 3 3 3". Each tensor is filled with 0.5, and
 * every running_var with 0.5 too, so the values pass; the names, shapes and
 * their combinations are what gets explored. Tensors are capped at 4096
 * elements and 256 lines, to keep each run fast.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rv_weights.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    enum { MAX_LINES = 256, MAX_NUMEL = 4096 };
    char *text = malloc(size + 1);
    rv_named *ts = calloc(MAX_LINES, sizeof *ts);
    if (!text || !ts) {
        free(text);
        free(ts);
        return 0;
    }
    memcpy(text, data, size);
    text[size] = '\0';
    int n = 0;
    for (char *line = strtok(text, "\n"); line && n < MAX_LINES; line = strtok(NULL, "\n")) {
        char name[128];
        long long d[5] = {0};
        int got =
            sscanf(line, "%127s %lld %lld %lld %lld %lld", name, &d[0], &d[1], &d[2], &d[3], &d[4]);
        int ndim = got - 1;
        if (ndim < 1 || ndim > RV_MAX_DIMS) continue;
        int64_t dim[RV_MAX_DIMS], numel = 1;
        for (int i = 0; i < ndim; i++) {
            dim[i] = d[i] < 1 ? 1 : (d[i] > MAX_NUMEL ? MAX_NUMEL : d[i]);
            numel *= dim[i];
        }
        if (numel > MAX_NUMEL) continue;
        snprintf(ts[n].name, sizeof ts[n].name, "%s", name);
        if (rv_tensor_alloc(&ts[n].t, RV_CPU, ndim, dim, name) != RV_OK) continue;
        rv_tensor_fill(&ts[n].t, 0.5f);
        n++;
    }
    rv_net net;
    rv_layout layout;
    if (rv_weights_to_net(ts, n, "fuzz input", RV_CPU, &net, &layout) == RV_OK) rv_net_free(&net);
    rv_named_free(ts, n);
    free(text);
    return 0;
}
