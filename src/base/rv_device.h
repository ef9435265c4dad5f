/* rv_device.h - where a tensor lives, and choosing a device at run time.
 *
 * `--device auto` uses CUDA when the CUDA backend was built and a device
 * answers, else the CPU with a one-line note on stderr that says why in
 * plain words ("note: no GPU found (no NVIDIA driver on this machine); using
 * the CPU"). `--device cuda` with no device is an error; its message contains
 * RV_NO_DEVICE_TEXT, which CTest (CMakeLists.txt reads it from here) uses to
 * report CUDA tests as skipped on machines without a GPU.
 */
#ifndef RV_DEVICE_H
#define RV_DEVICE_H

#include "rv_status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { RV_CPU = 0, RV_CUDA = 1 } rv_device;
#define RV_NUM_DEVICES 2
#define RV_NO_DEVICE_TEXT "no CUDA device answered"

const char *rv_device_name(rv_device dev);

/* 1 when the CUDA backend is compiled in and a device answers. The first
 * call probes (rv_cuda_probe: creates the CUDA context, loads this build's
 * kernels); later calls are free. */
int rv_cuda_available(void);

/* Parses "auto" | "cpu" | "cuda" into *out (see the header comment). */
rv_status rv_device_select(const char *arg, rv_device *out);

/* Waits until all work queued on `dev` is finished (no-op on the CPU). */
rv_status rv_device_sync(rv_device dev);

/* Name of the device (CPU model or GPU name) for result headers. */
void rv_device_describe(rv_device dev, char *buf, int len);

#ifdef __cplusplus
}
#endif
#endif
