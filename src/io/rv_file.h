/* rv_file.h - whole-file reads and atomic writes.
 *
 * An atomic write goes to "<path>.tmp.<pid>" in the same directory and is
 * renamed over <path> only when every byte is written and the file closed:
 * an error or an interruption never leaves a half-written <path>, and an
 * aborted write leaves nothing at all; while it is open, Ctrl-C (SIGINT) or
 * SIGTERM removes the temporary before the program stops.
 */
#ifndef RV_FILE_H
#define RV_FILE_H

#include <stddef.h>
#include <stdio.h>

#include "rv_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Reads the whole file (at most max_bytes) into a malloc'd buffer. Errors
 * name the path: RV_EIO (cannot open or read), RV_EFORMAT (empty or larger
 * than max_bytes). */
rv_status rv_read_file(const char *path, size_t max_bytes, unsigned char **data, size_t *len);

typedef struct {
    FILE *f;
    char path[4096], tmp[4200];
} rv_atomic_file;

rv_status rv_atomic_open(rv_atomic_file *af, const char *path);
/* Writes len bytes; on failure the file is aborted (nothing left behind). */
rv_status rv_atomic_write(rv_atomic_file *af, const void *data, size_t len);
/* Closes and renames into place; on failure nothing is left behind. */
rv_status rv_atomic_commit(rv_atomic_file *af);
void rv_atomic_abort(rv_atomic_file *af);

#ifdef __cplusplus
}
#endif
#endif
