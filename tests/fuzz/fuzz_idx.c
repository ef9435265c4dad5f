/* fuzz_idx.c - libFuzzer target: the gzip-compressed IDX reader on any bytes. */
#include <stddef.h>
#include <stdint.h>

#include "rv_idx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rv_idx x;
    if (rv_idx_parse(data, size, "fuzz input", &x) == RV_OK) rv_idx_free(&x);
    return 0;
}
