/* rv_tensor.h - a float32 tensor of rank 1..4 on one device.
 *
 * Activations are NCHW, conv weights (O, C/groups, KH, KW), per-channel
 * vectors (C). The struct is a plain value; rv_tensor_free() releases the
 * data and is safe on a zeroed or already freed tensor. A view
 * (rv_tensor_view) is the same struct over memory someone else owns.
 */
#ifndef RV_TENSOR_H
#define RV_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#include "rv_device.h"
#include "rv_rng.h"
#include "rv_status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RV_MAX_DIMS 4

typedef struct {
    float *data; /* host pointer on RV_CPU, device pointer on RV_CUDA */
    int64_t dim[RV_MAX_DIMS];
    int ndim;
    rv_device device;
} rv_tensor;

/* A named tensor, as in a state_dict or a safetensors file. */
typedef struct {
    char name[128];
    rv_tensor t;
} rv_named;

/* Frees the tensors of an array of n and the array (from calloc). */
void rv_named_free(rv_named *ts, int n);

/* Allocates an uninitialised tensor; `what` names it in error messages. */
rv_status rv_tensor_alloc(rv_tensor *t, rv_device dev, int ndim, const int64_t *dim,
                          const char *what);
rv_status rv_tensor_alloc4(rv_tensor *t, rv_device dev, int64_t n, int64_t c, int64_t h, int64_t w,
                           const char *what);
rv_status rv_tensor_alloc1(rv_tensor *t, rv_device dev, int64_t n, const char *what);
void rv_tensor_free(rv_tensor *t);

int64_t rv_tensor_numel(const rv_tensor *t);
size_t rv_tensor_bytes(const rv_tensor *t);
int rv_tensor_same_shape(const rv_tensor *a, const rv_tensor *b);
/* "2x3x7x7" into buf. */
const char *rv_tensor_shape_str(const rv_tensor *t, char *buf, size_t len);

/* Copies src into dst (same shape, any pair of devices). */
rv_status rv_tensor_copy(rv_tensor *dst, const rv_tensor *src);
/* Allocates *dst on dev with src's shape and copies src into it. */
rv_status rv_tensor_clone(rv_tensor *dst, const rv_tensor *src, rv_device dev, const char *what);

/* Host-only fills (fill on the CPU, then rv_tensor_clone to a device). */
rv_status rv_tensor_fill(rv_tensor *t, float value);
rv_status rv_tensor_fill_uniform(rv_tensor *t, rv_rng *r, float lo, float hi);
rv_status rv_tensor_fill_int(rv_tensor *t, rv_rng *r, int lo, int hi);
/* Allocates *t on dev with shape dim and fills it uniform in [lo, hi) from r,
 * on the host (the same numbers on every device), then moves it to dev. */
rv_status rv_tensor_random(rv_tensor *t, rv_device dev, int ndim, const int64_t *dim, rv_rng *r,
                           float lo, float hi, const char *what);

/* A tensor of shape dim (ndim in 1..RV_MAX_DIMS) over memory it does not own,
 * at data on dev: never rv_tensor_free it; it lives as long as that memory. */
rv_tensor rv_tensor_view(float *data, rv_device dev, int ndim, const int64_t *dim);

#ifdef __cplusplus
}
#endif
#endif
