/* rv_report.h - printing bytes and the device line, for every program. */
#ifndef RV_REPORT_H
#define RV_REPORT_H

#include <stddef.h>

#include "rv_measure.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Human-readable bytes ("1.2 KiB") into buf. */
const char *rv_bytes_str(size_t bytes, char *buf, size_t len);

/* Prints the machine and device line every program starts its report with. */
void rv_print_device(rv_device dev);

#ifdef __cplusplus
}
#endif
#endif
