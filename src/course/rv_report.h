/* rv_report.h - printing what the lessons measured (rv_measure.h measures). */
#ifndef RV_REPORT_H
#define RV_REPORT_H

#include <stddef.h>

#include "rv_measure.h"

#ifdef __cplusplus
extern "C" {
#endif

/* "  <name>  median 0.0123 ms  [min 0.0101, max 0.0302] over 100 runs  peak +1.2 KiB" */
void rv_print_form(const char *name, const rv_form_result *r);

/* Human-readable bytes ("1.2 KiB") into buf. */
const char *rv_bytes_str(size_t bytes, char *buf, size_t len);

/* Prints the machine and device line every program starts its report with. */
void rv_print_device(rv_device dev);

#ifdef __cplusplus
}
#endif
#endif
