/* rv_alloc.h - the one tracking allocator for host and device memory.
 *
 * Every buffer the library, lessons and benchmarks use comes from here, so
 * "peak memory" is exact: live bytes and the high-water mark are counted per
 * device. A workspace (im2col columns) is one growable buffer per device,
 * counted like any other allocation and also reported on its own.
 */
#ifndef RV_ALLOC_H
#define RV_ALLOC_H

#include <stddef.h>

#include "rv_device.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    size_t current; /* live bytes now */
    size_t peak;    /* high-water mark since the last reset */
} rv_mem_stats;

/* Returns NULL and records "out of memory: cannot allocate <what> (<bytes>
 * bytes) on <dev>" when the device is out of memory, or (host) when live
 * tracked bytes would pass 3/4 of the memory /proc/meminfo called available
 * (Linux overcommits: a larger allocation would succeed and the process be
 * killed later); "cannot allocate <what> (<bytes> bytes) on <dev>: <reason>"
 * when it failed for another reason (the CUDA error: a context that could
 * not be created, an earlier kernel's fault). bytes > 0. */
void *rv_alloc(rv_device dev, size_t bytes, const char *what);
void rv_free(rv_device dev, void *p, size_t bytes);

rv_mem_stats rv_mem(rv_device dev);
void rv_mem_reset_peak(rv_device dev); /* peak := current */
/* The host bytes rv_alloc may hold live (3/4 of what was available at its
 * first call); 0 where /proc/meminfo cannot be read (no limit). */
size_t rv_host_budget(void);

/* A scratch buffer of at least `bytes` on `dev`, valid until the next call
 * for the same device; NULL (with rv_error) on failure. */
void *rv_workspace(rv_device dev, size_t bytes);
size_t rv_workspace_bytes(rv_device dev);
void rv_workspace_release(rv_device dev);

#ifdef __cplusplus
}
#endif
#endif
