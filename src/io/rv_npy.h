/* rv_npy.h - NumPy .npy files: float32, C order, rank 1..4.
 *
 * Format (numpy.lib.format): the magic "\x93NUMPY", a version byte pair, the
 * header length (2 bytes little-endian in 1.0, 4 bytes in 2.0 and 3.0), an
 * ASCII header that is a Python dict literal
 *     {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 7, 7), }
 * padded with spaces and a newline, then the raw data in C order.
 */
#ifndef RV_NPY_H
#define RV_NPY_H

#include "rv_tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Reads a '<f4', C-order array of rank 1..4 into a new CPU tensor. Errors
 * name the file: RV_EIO (cannot read), RV_EFORMAT (anything else: dtype,
 * order, rank, a size that does not match the file). */
rv_status rv_npy_read(const char *path, rv_tensor *out);
/* The same from len bytes in memory; `name` stands for the file in messages. */
rv_status rv_npy_parse(const unsigned char *d, size_t len, const char *name, rv_tensor *out);

/* Writes t (any device) as a version 1.0 '<f4' .npy, atomically; an empty
 * (zeroed or freed) tensor is RV_EINVAL. */
rv_status rv_npy_write(const char *path, const rv_tensor *t);

#ifdef __cplusplus
}
#endif
#endif
