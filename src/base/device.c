/* device.c - device selection at run time and device-wide sync. */
#include <stdio.h>
#include <string.h>

#include "rv_device.h"
#ifdef RV_HAVE_CUDA
#include "rv_cuda.h"
#endif

static int probed = -1; /* -1 not yet, else number of devices */
static char why_none[256] = "this build has no CUDA backend (configured with REPVGG_CUDA=OFF)";

const char *rv_device_name(rv_device dev) { return dev == RV_CUDA ? "cuda" : "cpu"; }

int rv_cuda_available(void)
{
    if (probed < 0) {
#ifdef RV_HAVE_CUDA
        probed = rv_cuda_probe(why_none, sizeof why_none);
#else
        probed = 0;
#endif
    }
    return probed > 0;
}

rv_status rv_device_select(const char *arg, rv_device *out)
{
    if (strcmp(arg, "cpu") == 0) {
        *out = RV_CPU;
        return RV_OK;
    }
    if (strcmp(arg, "cuda") == 0 || strcmp(arg, "auto") == 0) {
        if (rv_cuda_available()) {
            *out = RV_CUDA;
            return RV_OK;
        }
        if (arg[0] == 'c')
            return rv_error(RV_EDEVICE, "--device cuda: " RV_NO_DEVICE_TEXT ": %s", why_none);
        fprintf(stderr, "note: %s; using the CPU\n", why_none);
        *out = RV_CPU;
        return RV_OK;
    }
    return rv_error(RV_EINVAL, "--device: expected auto, cpu or cuda, got '%s'", arg);
}

rv_status rv_device_sync(rv_device dev)
{
#ifdef RV_HAVE_CUDA
    if (dev == RV_CUDA) return rv_cuda_sync();
#endif
    (void)dev;
    return RV_OK;
}

void rv_device_describe(rv_device dev, char *buf, int len)
{
#ifdef RV_HAVE_CUDA
    if (dev == RV_CUDA) {
        rv_cuda_describe(buf, len);
        return;
    }
#endif
    (void)dev;
    snprintf(buf, len, "unknown CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (strncmp(line, "model name", 10) == 0 && colon) {
            snprintf(buf, len, "%s", colon + 2);
            buf[strcspn(buf, "\n")] = '\0';
            break;
        }
    }
    fclose(f);
}
