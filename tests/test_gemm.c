/* test_gemm.c - the packed-A product (src/ops/rv_gemm.h) against a loop nest.
 *
 * Every kernel this CPU runs (AVX-512, AVX2), on shapes where an edge shows:
 * M not a multiple of the 8-row panel, N below, at and past a block (16, 24,
 * 48 columns) and not a multiple of the vector width (blocks of 1 to 8
 * columns, which run their own code, with K a multiple of their sets of
 * accumulators and not), K from 1, rows split
 * into parts as the threads split them, B and C with row strides larger
 * than N (a Winograd plane), accumulating or not, with bias and ReLU in the
 * stores or not (AVX2's kernel takes K in chunks and must add them only
 * once the sums are whole). Small integers: every sum
 * is exact, so the products must be bit-equal to the loop nest's; random
 * floats: within RV_TOL_FP32. A value of C outside its N columns must stay.
 */
#include <string.h>

#include "rv_cpu.h"
#include "rv_gemm.h"
#include "rv_ops.h"
#include "rv_test.h"

static void one(int64_t M, int64_t K, int64_t N, int64_t split, int accumulate, int epilogue,
                int integers, rv_rng *rng, const rv_gemm_kernel *kern)
{
    int64_t ldb = N + 3, ldc = N + 5;
    rv_tensor a, b, c, want, packed, bias;
    int64_t da[2] = {M, K}, db[2] = {K, ldb}, dc[2] = {M, ldc};
    CHECK_OK(rv_tensor_alloc(&a, RV_CPU, 2, da, "A"));
    CHECK_OK(rv_tensor_alloc(&b, RV_CPU, 2, db, "B"));
    CHECK_OK(rv_tensor_alloc(&c, RV_CPU, 2, dc, "C"));
    CHECK_OK(rv_tensor_alloc(&want, RV_CPU, 2, dc, "want"));
    CHECK_OK(rv_tensor_alloc1(&packed, RV_CPU, rv_gemm_packed_floats(M, K), "packed"));
    CHECK_OK(rv_tensor_alloc1(&bias, RV_CPU, M, "bias"));
    rv_tensor *fill[4] = {&a, &b, &c, &bias};
    for (int i = 0; i < 4; i++)
        if (integers)
            rv_tensor_fill_int(fill[i], rng, -4, 4);
        else
            rv_tensor_fill_uniform(fill[i], rng, -1, 1);
    memcpy(want.data, c.data, rv_tensor_bytes(&c));
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            double s = accumulate ? want.data[i * ldc + j] : 0.0;
            for (int64_t k = 0; k < K; k++) s += (double)a.data[i * K + k] * b.data[k * ldb + j];
            if (epilogue) s = s + bias.data[i] > 0.0 ? s + bias.data[i] : 0.0;
            want.data[i * ldc + j] = (float)s;
        }
    /* A stored transposed, as the Winograd weights are: element (i, k) at k M + i */
    rv_tensor at;
    int64_t dat[2] = {K, M};
    CHECK_OK(rv_tensor_alloc(&at, RV_CPU, 2, dat, "A transposed"));
    for (int64_t i = 0; i < M; i++)
        for (int64_t k = 0; k < K; k++) at.data[k * M + i] = a.data[i * K + k];
    rv_gemm_pack(at.data, 1, M, M, K, packed.data);
    for (int64_t r0 = 0; r0 < M; r0 += split) { /* the parts threads would take */
        int64_t rows = M - r0 < split ? M - r0 : split;
        rv_gemm_rows(kern, packed.data, K, r0, rows, b.data, ldb, N, c.data + r0 * ldc, ldc,
                     accumulate, epilogue ? bias.data : NULL, epilogue);
    }
    char what[128];
    snprintf(what, sizeof what, "%s M %lld K %lld N %lld, parts of %lld rows%s%s, %s",
             rv_gemm_kernel_name(kern), (long long)M, (long long)K, (long long)N, (long long)split,
             accumulate ? ", accumulating" : "", epilogue ? ", bias and ReLU" : "",
             integers ? "integers" : "floats");
    CHECK_CLOSE(what, &c, &want, integers ? RV_TOL_EXACT : RV_TOL_FP32);
    rv_tensor *all[7] = {&a, &b, &c, &want, &packed, &at, &bias};
    for (int i = 0; i < 7; i++) rv_tensor_free(all[i]);
}

int main(int argc, char **argv)
{
    rv_device dev;
    int rc = rv_test_init(argc, argv, "test_gemm: the packed-A product against a loop nest", &dev);
    if (rc >= 0) return rc;
    rv_rng rng = rv_rng_seed(3);
    /* each kernel asked for is the one given, whatever was asked before */
    const rv_gemm_choice isas[2] = {RV_GEMM_AVX2, RV_GEMM_AVX512};
    const char *names[2] = {"AVX2", "AVX-512"};
    int ran = 0;
    for (int i = 0; i < 2; i++) {
        const rv_gemm_kernel *kern;
        if (rv_gemm_kernel_for(isas[i], &kern) != RV_OK) {
            printf("%s: not run here (this CPU or this build lacks it)\n", names[i]);
            continue;
        }
        ran++;
        const char *name = rv_gemm_kernel_name(kern);
        CHECK(strncmp(name, names[i], strlen(names[i])) == 0, "%s asked for, %s given", names[i],
              name);
        const int64_t shapes[][4] = {{1, 1, 1, 8},
                                     {8, 3, 16, 8},
                                     {9, 5, 24, 8},
                                     {17, 16, 47, 8},
                                     {7, 33, 48, 16},
                                     {64, 192, 49, 32},
                                     {20, 7, 100, 8},
                                     {48, 96, 196, 24},
                                     {9, 10, 7, 8},
                                     {5, 12, 57, 8},
                                     {16, 9, 8, 8},
                                     {3, 5, 2, 8},
                                     {11, 6, 3, 8},
                                     {8, 13, 5, 8},
                                     {16, 2, 6, 8},
                                     {24, 11, 51, 8},
                                     {10, 17, 54, 8},
                                     /* a last column copied before the panels
                                      * read it (A0's last layer), and 8 too
                                      * many to copy */
                                     {24, 1728, 49, 16},
                                     {16, 2100, 56, 16},
                                     /* B past L1: AVX2 takes K in chunks,
                                      * the last one short */
                                     {40, 300, 77, 16},
                                     {48, 432, 123, 48}};
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
            for (int acc = 0; acc <= 1; acc++)
                for (int epi = 0; epi <= 1; epi++)
                    for (int integers = 1; integers >= 0; integers--)
                        one(shapes[s][0], shapes[s][1], shapes[s][2], shapes[s][3], acc, epi,
                            integers, &rng, kern);
    }
    const rv_gemm_kernel *best, *none;
#ifdef RV_CPU_ISA_AVX2
    CHECK(rv_gemm_kernel_for(RV_GEMM_AVX512, &best) == RV_EINVAL,
          "built without AVX-512, yet its kernel can be chosen");
    CHECK(strcmp(rv_cpu_isa(), "avx512") != 0, "built without AVX-512, yet the CPU code runs it");
#endif
    CHECK_OK(rv_gemm_kernel_for(RV_GEMM_AUTO, &best));
    CHECK(ran > 0 || !best, "no kernel ran, yet one is the default");
    CHECK_OK(rv_gemm_kernel_for(RV_GEMM_OPENBLAS, &none));
    CHECK(!none && strcmp(rv_gemm_kernel_name(none), "OpenBLAS") == 0,
          "OpenBLAS asked for, a kernel given");
    return rv_test_finish("test_gemm");
}
