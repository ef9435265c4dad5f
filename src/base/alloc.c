/* alloc.c - tracking allocator: counts live and peak bytes per device. */
#include "rv_alloc.h"

#include <stdio.h>
#include <stdlib.h>

#ifdef RV_HAVE_CUDA
#include "rv_cuda.h"
#endif

static rv_mem_stats stats[RV_NUM_DEVICES];
static struct {
    void *p;
    size_t bytes;
} workspace[RV_NUM_DEVICES];

/* 64-byte alignment: a cache line, and enough for any SIMD load. The size
 * is the tensor's own, not rounded up to the alignment: under
 * AddressSanitizer a read or write one float past a tensor's end is then
 * outside the allocation and reported (a rounded size hid it in padding). */
enum { HOST_ALIGN = 64 };

/* RV_ENOMEM when the device is out of memory; any other status when the
 * allocation failed for another reason, given in rv_last_error(). */
static rv_status raw_alloc(rv_device dev, size_t bytes, void **p)
{
    if (dev == RV_CPU) {
        if (posix_memalign(p, HOST_ALIGN, bytes) != 0) *p = NULL;
        return *p ? RV_OK : RV_ENOMEM;
    }
#ifdef RV_HAVE_CUDA
    return rv_cuda_malloc(bytes, p);
#else
    *p = NULL;
    return rv_error(RV_EDEVICE, "this build has no CUDA backend");
#endif
}

/* Linux overcommits: a host allocation larger than the memory there is
 * succeeds, and the kernel kills the process when it touches the pages. So
 * live tracked host bytes are held to three quarters of what /proc/meminfo
 * called available at the first allocation, the rest left to what is not
 * tracked (file bytes, libraries, OpenBLAS's buffers); no limit where it
 * cannot be read. */
static size_t host_available(void)
{
    static size_t avail;
    static int known;
    if (!known) {
        known = 1;
        FILE *f = fopen("/proc/meminfo", "r");
        char line[128];
        unsigned long long kib;
        while (f && fgets(line, sizeof line, f))
            if (sscanf(line, "MemAvailable: %llu kB", &kib) == 1) avail = (size_t)kib * 768;
        if (f) fclose(f);
    }
    return avail;
}

size_t rv_host_budget(void) { return host_available(); }

void *rv_alloc(rv_device dev, size_t bytes, const char *what)
{
    if (bytes == 0) {
        rv_error(RV_EINVAL, "cannot allocate %s: size is zero", what);
        return NULL;
    }
    size_t avail = dev == RV_CPU ? host_available() : 0;
    if (avail && bytes > avail - (stats[dev].current < avail ? stats[dev].current : avail)) {
        rv_error(RV_ENOMEM,
                 "out of memory: cannot allocate %s (%zu bytes) on cpu: with %zu bytes already "
                 "allocated it would pass %zu (3/4 of the memory available)",
                 what, bytes, stats[dev].current, avail);
        return NULL;
    }
    void *p;
    rv_status st = raw_alloc(dev, bytes, &p);
    if (st == RV_ENOMEM) {
        rv_error(RV_ENOMEM, "out of memory: cannot allocate %s (%zu bytes) on %s", what, bytes,
                 rv_device_name(dev));
        return NULL;
    }
    if (st != RV_OK) {
        rv_error(st, "cannot allocate %s (%zu bytes) on %s: %s", what, bytes, rv_device_name(dev),
                 rv_last_error());
        return NULL;
    }
    rv_mem_stats *s = &stats[dev];
    s->current += bytes;
    if (s->current > s->peak) s->peak = s->current;
    return p;
}

void rv_free(rv_device dev, void *p, size_t bytes)
{
    if (!p) return;
    if (dev == RV_CPU) {
        free(p);
    } else {
#ifdef RV_HAVE_CUDA
        rv_cuda_free(p);
#endif
    }
    stats[dev].current -= bytes;
}

rv_mem_stats rv_mem(rv_device dev) { return stats[dev]; }

void rv_mem_reset_peak(rv_device dev) { stats[dev].peak = stats[dev].current; }

void *rv_workspace(rv_device dev, size_t bytes)
{
    if (workspace[dev].bytes >= bytes) return workspace[dev].p;
    rv_workspace_release(dev);
    workspace[dev].p = rv_alloc(dev, bytes, "workspace");
    if (workspace[dev].p) workspace[dev].bytes = bytes;
    return workspace[dev].p;
}

size_t rv_workspace_bytes(rv_device dev) { return workspace[dev].bytes; }

void rv_workspace_release(rv_device dev)
{
    rv_free(dev, workspace[dev].p, workspace[dev].bytes);
    workspace[dev].p = NULL;
    workspace[dev].bytes = 0;
}
