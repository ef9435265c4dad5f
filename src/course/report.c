/* report.c - printing bytes, the device line and the busy-machine warning. */
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

void rv_print_device(rv_device dev)
{
    char desc[256];
    rv_device_describe(dev, desc, sizeof desc);
    printf("device: %s (%s)\n", rv_device_name(dev), desc);
}

void rv_print_busy(FILE *f, const char *indent, const rv_busy *b)
{
    char note[640];
    if (*rv_busy_note(b, note, sizeof note)) fprintf(f, "%s%s\n", indent, note);
}
