/* report.c - printing what was measured: a form's line, bytes, the device. */
#include <stdio.h>

#include "rv_report.h"

const char *rv_bytes_str(size_t bytes, char *buf, size_t len)
{
    const char *unit[] = {"B", "KiB", "MiB", "GiB"};
    double v = (double)bytes;
    int u = 0;
    while (v >= 1024.0 && u < 3) {
        v /= 1024.0;
        u++;
    }
    snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
    return buf;
}

void rv_print_form(const char *name, const rv_form_result *r)
{
    char b[32], h[48] = "";
    if (r->held_bytes) {
        char hb[32];
        snprintf(h, sizeof h, "  buffers %s", rv_bytes_str(r->held_bytes, hb, sizeof hb));
    }
    printf("  %-28s median %9.4f ms  [min %.4f, max %.4f] over %d runs%s  peak +%s\n", name,
           r->time.median_ms, r->time.min_ms, r->time.max_ms, r->time.repeat, h,
           rv_bytes_str(r->peak_bytes, b, sizeof b));
}

void rv_print_device(rv_device dev)
{
    char desc[256];
    rv_device_describe(dev, desc, sizeof desc);
    printf("device: %s (%s)\n", rv_device_name(dev), desc);
}
