/* fuzz_safetensors.c - libFuzzer target: the safetensors parser on any bytes.
 * Whatever the input, rv_safetensors_parse returns a status and leaks nothing. */
#include <stddef.h>
#include <stdint.h>

#include "rv_safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rv_named *ts;
    int n, skipped;
    if (rv_safetensors_parse(data, size, "fuzz input", &ts, &n, &skipped) == RV_OK)
        rv_named_free(ts, n);
    return 0;
}
