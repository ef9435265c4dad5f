/* rv_dispatch.h - calls fn_cpu or fn_cuda for a device (internal to src/).
 * In a build without the CUDA backend the CUDA branch is an error, so the
 * _cuda symbols are never referenced. */
#ifndef RV_DISPATCH_H
#define RV_DISPATCH_H

#ifdef RV_HAVE_CUDA
#define RV_DISPATCH(dev, fn, ...)                                                                  \
    ((dev) == RV_CUDA ? fn##_cuda(__VA_ARGS__) : fn##_cpu(__VA_ARGS__))
#else
#define RV_DISPATCH(dev, fn, ...)                                                                  \
    ((dev) == RV_CUDA ? rv_error(RV_EDEVICE, #fn ": this build has no CUDA backend")               \
                      : fn##_cpu(__VA_ARGS__))
#endif

#endif
