/* rv_magic.h - what a file is, from its first bytes.
 *
 * A reader handed the wrong kind of file should say which kind it got ("it
 * is a NumPy .npy array"), not a number read from the wrong place (a .npy's
 * magic read as a safetensors header length is 379676406402707 bytes). The
 * readers call this only after their own format check has failed, so a
 * valid file is never misnamed by a chance match of a few bytes.
 */
#ifndef RV_MAGIC_H
#define RV_MAGIC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* How many first bytes rv_file_kind looks at, at most. */
#define RV_FILE_KIND_BYTES 64

/* "a NumPy .npy array", "a safetensors file", "a zip archive (...)", ... for
 * the first len bytes (any len, RV_FILE_KIND_BYTES are enough) of a file of
 * file_size bytes; NULL when no known kind fits. A safetensors file is
 * recognised by its shape: an 8-byte little-endian header length of at most
 * 100 MB that fits in the file, then '{'. */
const char *rv_file_kind(const unsigned char *d, size_t len, uint64_t file_size);

#ifdef __cplusplus
}
#endif
#endif
