/* rv_file.h - reading files piece by piece, and writing them atomically.
 *
 * Reading: rv_source_open opens regular files only, and without blocking
 * (a FIFO or a device named as an input would otherwise hang the open or
 * the read), so a reader can check a format's header against the file's
 * size before it reads, or allocates for, the rest: a 2 GiB file that is
 * not a weights file is refused after its first bytes. An rv_source may
 * also be bytes in memory (the parsers' fuzz targets, the tests).
 *
 * Writing: an atomic write goes to a temporary "rv-writing-XXXXXX" that
 * mkstemp creates in the output's directory (a new, unpredictable name,
 * opened with O_EXCL: nothing already there, a planted symbolic link
 * included, is followed or reused; the name is short, so any output name
 * that fits the file system fits beside it). It gets the permissions fopen
 * would give a new file (0666 less the umask), or the replaced file's, and
 * is renamed over the output only when every byte is written and the file
 * closed: an error never leaves a half-written output, and an aborted write
 * leaves nothing at all; while it is open, Ctrl-C (SIGINT), SIGTERM, SIGHUP,
 * SIGQUIT or SIGXFSZ (a write past `ulimit -f`) removes the temporary before
 * the program stops (SIGKILL cannot be caught). An output that exists and is a character device (/dev/null)
 * or a FIFO is written in place, never replaced; a directory, a block
 * device or a socket is refused.
 */
#ifndef RV_FILE_H
#define RV_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rv_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A file opened for reading at any offset, or len bytes in memory. */
typedef struct {
    int fd; /* -1: the bytes are in memory */
    const unsigned char *mem;
    uint64_t size;
    const char *name; /* for messages */
} rv_source;

/* Opens a regular file (anything else, a FIFO included, is RV_EIO at once,
 * naming what it is); an empty file is RV_EFORMAT. */
rv_status rv_source_open(rv_source *s, const char *path);
void rv_source_memory(rv_source *s, const unsigned char *d, size_t len, const char *name);
/* Reads n bytes from offset `at` (which the caller has checked lie inside
 * the file): RV_EIO if the read fails or the file has shrunk. */
rv_status rv_source_read(const rv_source *s, uint64_t at, void *buf, size_t n);
void rv_source_close(rv_source *s);

/* Reads the whole file (at most max_bytes) into a malloc'd buffer. Errors
 * name the path: RV_EIO (cannot open or read, not a regular file),
 * RV_EFORMAT (empty or larger than max_bytes). */
rv_status rv_read_file(const char *path, size_t max_bytes, unsigned char **data, size_t *len);

typedef struct {
    FILE *f;
    int in_place; /* a device or FIFO: written directly, no temporary */
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
