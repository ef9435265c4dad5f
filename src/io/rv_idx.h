/* rv_idx.h - IDX files (the MNIST family's format), gzip-compressed, unsigned bytes.
 *
 * Format (LeCun's MNIST page): a 4-byte big-endian magic 0x000008nn, where
 * 0x08 says the items are unsigned bytes and nn is the rank; nn big-endian
 * 32-bit dimensions; then the bytes, last dimension fastest. Labels are
 * rank 1 (magic 0x00000801), images rank 3 (0x00000803: count, rows,
 * columns). Only these two are read: every other type byte or rank is
 * refused by name.
 *
 * The files come gzip-compressed (RFC 1952) and are read with zlib. A
 * forged header cannot make the reader allocate more than the file could
 * hold: the size the IDX header promises is checked, before anything is
 * allocated for it, against the gzip trailer's ISIZE (the uncompressed
 * size mod 2^32) and against the most deflate can expand (1032 bytes out
 * per byte in, zlib's own bound), and capped at RV_IDX_MAX_BYTES.
 */
#ifndef RV_IDX_H
#define RV_IDX_H

#include <stddef.h>
#include <stdint.h>

#include "rv_status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RV_IDX_MAGIC_LABELS 0x00000801u
#define RV_IDX_MAGIC_IMAGES 0x00000803u
/* 1 GiB of items: 20 times the largest file of the MNIST family (47 MB) */
#define RV_IDX_MAX_BYTES ((uint64_t)1 << 30)
/* compressed bytes read at most (Fashion-MNIST's largest file is 26 MB) */
#define RV_IDX_MAX_FILE_BYTES ((size_t)256 << 20)

typedef struct {
    int ndim;            /* 1 (labels) or 3 (images) */
    int64_t dim[3];      /* (count) or (count, rows, cols) */
    unsigned char *data; /* dim[0] * ... bytes, malloc'd; rv_idx_free releases it */
} rv_idx;

/* Reads a gzip-compressed IDX file. Errors name the file: RV_EIO (cannot
 * open or read), RV_EFORMAT (not gzip, corrupt or truncated gzip data, a
 * magic other than the two above, a header that does not match the data),
 * RV_ENOMEM. On error *out is empty. */
rv_status rv_idx_read(const char *path, rv_idx *out);
/* The same from len compressed bytes in memory; `name` stands for the file. */
rv_status rv_idx_parse(const unsigned char *gz, size_t len, const char *name, rv_idx *out);
void rv_idx_free(rv_idx *x);

#ifdef __cplusplus
}
#endif
#endif
