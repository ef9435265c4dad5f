/* rv_report.h - printing bytes, the device line and the busy-machine
 * warning, for every program. */
#ifndef RV_REPORT_H
#define RV_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include "rv_measure.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Human-readable bytes ("1.2 KiB") into buf. */
const char *rv_bytes_str(size_t bytes, char *buf, size_t len);

/* Prints the machine and device line every program starts its report with. */
void rv_print_device(rv_device dev);

/* Prints rv_busy_note's warning on its own line, after indent, when the
 * machine was not quiet while b was measured; nothing otherwise. Every
 * program that prints a time prints this beside it. */
void rv_print_busy(FILE *f, const char *indent, const rv_busy *b);

#ifdef __cplusplus
}
#endif
#endif
