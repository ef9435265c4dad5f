/* fuzz_npy.c - libFuzzer target: the .npy parser on any bytes. */
#include <stddef.h>
#include <stdint.h>

#include "rv_npy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rv_tensor t;
    if (rv_npy_parse(data, size, "fuzz input", &t) == RV_OK) rv_tensor_free(&t);
    return 0;
}
