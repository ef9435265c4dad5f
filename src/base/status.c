/* status.c - the last error message, one per thread. */
#include "rv_status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char last_error[512];

rv_status rv_error(rv_status st, const char *fmt, ...)
{
    /* formatted aside first: an argument may be rv_last_error() itself */
    char msg[sizeof last_error];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    memcpy(last_error, msg, sizeof msg);
    return st;
}

const char *rv_last_error(void) { return last_error[0] ? last_error : "no error recorded"; }

const char *rv_status_name(rv_status st)
{
    switch (st) {
    case RV_OK:
        return "ok";
    case RV_EINVAL:
        return "invalid argument";
    case RV_ENOMEM:
        return "out of memory";
    case RV_EDEVICE:
        return "device error";
    case RV_EIO:
        return "i/o error";
    case RV_EFORMAT:
        return "bad format";
    case RV_ENOTIMPL:
        return "not implemented yet";
    }
    return "unknown status";
}
