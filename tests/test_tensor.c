/* test_tensor.c - a seeded random tensor on a device (rv_tensor_random) and a
 * view over memory a tensor does not own (rv_tensor_view): the same numbers
 * on every device as a host fill from the same seed, the shape asked for,
 * bad ranks refused; a view's data, shape and device as given. */
#include <string.h>

#include "rv_test.h"

static void test_random(rv_device dev)
{
    const int64_t dim[3] = {3, 5, 7};
    rv_rng a = rv_rng_seed(5), b = rv_rng_seed(5);
    rv_tensor t = {0}, got = {0}, want = {0};
    CHECK_OK(rv_tensor_random(&t, dev, 3, dim, &a, -2.0f, 0.5f, "random"));
    CHECK(t.device == dev && t.ndim == 3 && memcmp(t.dim, dim, sizeof dim) == 0,
          "random: device %d, rank %d, shape %s", (int)t.device, t.ndim,
          rv_tensor_shape_str(&t, (char[64]){0}, 64));
    CHECK_OK(rv_tensor_alloc(&want, RV_CPU, 3, dim, "host fill"));
    CHECK_OK(rv_tensor_fill_uniform(&want, &b, -2.0f, 0.5f));
    CHECK_OK(rv_tensor_clone(&got, &t, RV_CPU, "host copy"));
    CHECK_CLOSE("rv_tensor_random on the device vs a host fill from the same seed", &got, &want,
                RV_TOL_EXACT);
    CHECK(rv_rng_next(&a) == rv_rng_next(&b), "the rng moved on by as many draws as the fill's");
    rv_tensor *all[3] = {&t, &got, &want};
    for (int k = 0; k < 3; k++) rv_tensor_free(all[k]);
    rv_tensor bad = {.ndim = 9};
    CHECK(rv_tensor_random(&bad, dev, 5, (const int64_t[]){1, 1, 1, 1, 1}, &a, 0, 1, "rank 5") ==
                  RV_EINVAL &&
              bad.data == NULL && bad.ndim == 0,
          "rank 5: accepted, or the tensor left half-made");
}

static void test_view(void)
{
    float buf[24] = {0};
    const int64_t dim[2] = {4, 6};
    rv_tensor v = rv_tensor_view(buf + 0, RV_CPU, 2, dim);
    CHECK(v.data == buf && v.ndim == 2 && v.dim[0] == 4 && v.dim[1] == 6 && v.dim[2] == 0 &&
              v.device == RV_CPU && rv_tensor_numel(&v) == 24,
          "view of 4x6 floats: data %p, rank %d, shape %s", (void *)v.data, v.ndim,
          rv_tensor_shape_str(&v, (char[64]){0}, 64));
    rv_tensor w = rv_tensor_view(buf + 6, RV_CUDA, 4, (const int64_t[]){1, 2, 3, 3});
    CHECK(w.data == buf + 6 && w.ndim == 4 && w.dim[3] == 3 && w.device == RV_CUDA,
          "view of (1, 2, 3, 3) at an offset, on another device");
}

int main(int argc, char **argv)
{
    rv_device dev;
    int rc =
        rv_test_init(argc, argv, "test_tensor --device cpu|cuda: random tensors and views", &dev);
    if (rc >= 0) return rc;
    test_random(dev);
    test_view();
    return rv_test_finish("test_tensor");
}
