/* test_alloc.c - a failed allocation says what failed, and the error stays where it happened.
 *
 * --device cpu:  where no CUDA device answers (or the build has no CUDA
 *                backend), a device allocation fails with a message that
 *                names the tensor and the reason (the CUDA error), not "out
 *                of memory"; a zero-byte request is refused by name.
 * --device cuda: a request larger than any GPU is "out of memory", naming the
 *                tensor, and the next kernel launch still succeeds; a failed
 *                cudaFree (the same buffer freed twice) is reported by the
 *                next rv_device_sync, once, not by the launches before it.
 */
#include <string.h>

#include "rv_alloc.h"
#include "rv_ops.h"
#include "rv_test.h"
#ifdef RV_HAVE_CUDA
#include "rv_cuda.h"
#endif

static void test_no_device(void)
{
    CHECK(rv_alloc(RV_CPU, 0, "empty buffer") == NULL, "zero bytes allocated");
    CHECK(strstr(rv_last_error(), "cannot allocate empty buffer: size is zero") != NULL,
          "message: %s", rv_last_error());
    if (rv_cuda_available()) {
        printf("a CUDA device answers: the no-device message is checked where none does\n");
        return;
    }
    rv_tensor t;
    CHECK(rv_tensor_alloc1(&t, RV_CUDA, 16, "the test tensor") != RV_OK,
          "allocated on cuda where no device answers");
    const char *msg = rv_last_error();
    printf("device allocation without a device: %s\n", msg);
    CHECK(strncmp(msg, "cannot allocate the test tensor (64 bytes) on cuda: ", 52) == 0,
          "message does not name the tensor and device: %s", msg);
    CHECK(strstr(msg, "out of memory") == NULL, "called out of memory: %s", msg);
#ifdef RV_HAVE_CUDA
    CHECK(strstr(msg, "cudaError") != NULL, "no CUDA error named: %s", msg);
#else
    CHECK(strstr(msg, "no CUDA backend") != NULL, "reason not given: %s", msg);
#endif
}

#ifdef RV_HAVE_CUDA
static void test_device_errors(void)
{
    rv_tensor hx, x;
    CHECK_OK(rv_tensor_alloc1(&hx, RV_CPU, 1000, "x"));
    CHECK_OK(rv_tensor_fill(&hx, -1.0f));
    CHECK_OK(rv_tensor_clone(&x, &hx, RV_CUDA, "x"));

    /* 1 PiB: more than any GPU holds */
    CHECK(rv_alloc(RV_CUDA, (size_t)1 << 50, "a huge tensor") == NULL, "1 PiB allocated");
    CHECK(strstr(rv_last_error(), "out of memory: cannot allocate a huge tensor") != NULL,
          "message: %s", rv_last_error());
    CHECK_OK(rv_relu(&x, &x));
    CHECK_OK(rv_device_sync(RV_CUDA));

    void *d = rv_alloc(RV_CUDA, 64, "a buffer freed twice");
    CHECK(d != NULL, "%s", rv_last_error());
    rv_free(RV_CUDA, d, 64);
    rv_cuda_free(d); /* again: cudaFree fails, and cannot say so */
    CHECK_OK(rv_relu(&x, &x));
    CHECK(rv_device_sync(RV_CUDA) == RV_EDEVICE && strstr(rv_last_error(), "cudaFree") != NULL,
          "the failed free was not reported by the sync: %s", rv_last_error());
    CHECK_OK(rv_device_sync(RV_CUDA));
    rv_tensor_free(&hx);
    rv_tensor_free(&x);
}
#endif

int main(int argc, char **argv)
{
    rv_device dev;
    int rc = rv_test_init(argc, argv, "test_alloc --device cpu|cuda: allocation failures", &dev);
    if (rc >= 0) return rc;
    if (dev == RV_CPU) test_no_device();
#ifdef RV_HAVE_CUDA
    if (dev == RV_CUDA) test_device_errors();
#endif
    return rv_test_finish("test_alloc");
}
