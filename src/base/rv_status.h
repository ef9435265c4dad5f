/* rv_status.h - error codes and the last error message.
 *
 * Library functions never exit or abort: they return an rv_status and leave a
 * one-line message (naming the tensor, file or argument) that the program
 * prints with rv_last_error() before deciding its own exit code.
 */
#ifndef RV_STATUS_H
#define RV_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    RV_OK = 0,
    RV_EINVAL,  /* bad argument or shape mismatch */
    RV_ENOMEM,  /* an allocation failed (host or device) */
    RV_EDEVICE, /* CUDA / cuBLAS failure, or no device */
    RV_EIO,     /* file could not be read or written */
    RV_EFORMAT, /* file content is malformed */
    RV_ENOTIMPL /* not implemented yet: a course exercise still to be written */
} rv_status;

/* Records the message (printf-style) and returns `st`, so callers can write
 * `return rv_error(RV_EINVAL, "...")`. */
rv_status rv_error(rv_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

const char *rv_last_error(void);
const char *rv_status_name(rv_status st);

#ifdef __cplusplus
}
#endif
#endif
