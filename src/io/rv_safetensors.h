/* rv_safetensors.h - safetensors files: named F32 tensors.
 *
 * Format: an 8-byte little-endian header length N, N bytes of JSON
 *     {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]},
 *      ..., "__metadata__": {"key": "value"}}
 * then the data buffer; offsets are relative to its start, and the tensors
 * must cover it exactly, without gaps or overlaps. The JSON is parsed with
 * cJSON (Debian's libcjson).
 */
#ifndef RV_SAFETENSORS_H
#define RV_SAFETENSORS_H

#include "rv_tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The largest header accepted: the reference implementation's limit. */
#define RV_SAFETENSORS_MAX_HEADER ((uint64_t)100 << 20)

/* Reads every F32 tensor (rank 1..4) into CPU tensors, in file order.
 * Integer tensors named *num_batches_tracked (BN's step counter, I64) are
 * checked and skipped; *skipped counts them (may be NULL). Any other integer
 * tensor, other dtypes (F16, BF16, F64, ...), a
 * header that lies about sizes or offsets, malformed JSON: RV_EFORMAT with a
 * message naming the file and the tensor; another kind of file (a .npy, a
 * torch.save archive, ...) is named as such (rv_magic.h). Free the result
 * with rv_named_free. */
rv_status rv_safetensors_read(const char *path, rv_named **out, int *n, int *skipped);
/* The same from len bytes in memory; `name` stands for the file in messages. */
rv_status rv_safetensors_parse(const unsigned char *d, size_t len, const char *name, rv_named **out,
                               int *n, int *skipped);

/* Writes the tensors (any device) as F32, in order, atomically, the header
 * padded with spaces to a multiple of 8 bytes. Refuses (RV_EINVAL, before
 * creating anything) what the reader would: no tensors, an empty tensor, an
 * empty, repeated or reserved ("__metadata__") name. */
rv_status rv_safetensors_write(const char *path, const rv_named *ts, int n);

#ifdef __cplusplus
}
#endif
#endif
